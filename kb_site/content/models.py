"""Knowledge content: the home page, sections (business lines), SOP articles and phrasings."""

import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from taggit.models import TaggedItemBase
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, MultipleChooserPanel
from wagtail.documents.models import AbstractDocument, Document
from wagtail.fields import StreamField
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    Orderable,
    Page,
    PageViewRestriction,
    PreviewableMixin,
    RevisionMixin,
    WorkflowMixin,
)
from wagtail.search import index
from wagtail.search.queryset import SearchableQuerySetMixin

from zhtext import pinyin_keys

from . import placeholders
from .blocks import ArticleStreamBlock
from .forms import ReviewedPageForm

__all__ = [
    "ChangeClass",
    "ReviewMixin",
    "TaggedSearchableMixin",
    "tags_field",
    "HomePage",
    "SectionPage",
    "ArticlePage",
    "ArticlePageTag",
    "Phrasing",
    "PhrasingTag",
    "CallbookDocument",
    "TextExtraction",
]


# Apps that build on content add panels to the home page through this hook (see ``HomePage.panels_for``).
HOME_PANEL_HOOK = "register_home_panel"
# ... and panels under an article (``ArticlePage.panels_for``): training adds its read-and-confirm box.
ARTICLE_PANEL_HOOK = "register_article_panel"
# ... and pages related to an article that the article does not name itself (``ArticlePage.related_for``):
# procedures adds those whose 相关规范 name it; a hook returns page ids given the article.
ARTICLE_RELATED_HOOK = "register_article_related_pages"
# ... and the page types an article may name as related besides articles (procedures adds ProcedurePage).
RELATED_PAGE_TYPES_HOOK = "register_related_page_type"


def related_page_types():
    """The page models an article's 相关页面 may be: articles and what the apps above register."""
    return (ArticlePage, *(fn() for fn in hooks.get_hooks(RELATED_PAGE_TYPES_HOOK)))


def visible_pages(request, page_ids):
    """The pages of ``page_ids`` that are live and whose view restrictions ``request`` passes: specific,
    in the given order, each once (for the related-pages panels)."""
    ids = list(dict.fromkeys(page_ids))
    if not ids:
        return []
    found = {page.pk: page for page in Page.objects.filter(pk__in=ids).live().specific()}
    restrictions = PageViewRestriction.objects.select_related("page").prefetch_related("groups")
    blocked = tuple(r.page.path for r in restrictions if not r.accept_request(request))
    return [found[pk] for pk in ids if pk in found and not found[pk].path.startswith(blocked)]


def default_review_interval():
    return getattr(settings, "CALLBOOK_DEFAULT_REVIEW_INTERVAL_DAYS", 180)


class ChangeClass(models.TextChoices):
    """How much a published change matters to the agents who use the content."""

    MAJOR = "major", _("重大变更")
    NORMAL = "normal", _("一般")
    ERRATUM = "erratum", _("勘误")


class ReviewMixin(models.Model):
    """Ownership and periodic review for content that goes stale (articles, procedures).

    ``review_due`` is derived on save so overdue content can be listed with one query.
    """

    maintainer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("负责培训师"),
        help_text=_("对这份内容负责、定期复核的培训师"),
    )
    last_reviewed = models.DateField(
        _("上次复核日期"),
        default=datetime.date.today,
        help_text=_("最近一次确认内容仍然正确的日期"),
    )
    review_interval_days = models.PositiveIntegerField(
        _("复核周期（天）"),
        default=default_review_interval,
        help_text=_("每隔多少天需要重新复核；到期未复核会显示“待复核”"),
    )
    review_due = models.DateField(_("复核到期日"), null=True, blank=True, editable=False)
    change_class = models.CharField(
        _("变更类别"),
        max_length=8,
        choices=ChangeClass.choices,
        blank=True,
        default="",
        help_text=_(
            "这次修改对坐席有多重要：重大变更发布后，用过这份内容的坐席须确认变更；勘误不会让已完成的阅读确认失效；"
            "不选按一般处理"
        ),
    )
    change_summary = models.CharField(
        _("变更说明"),
        max_length=200,
        blank=True,
        help_text=_("一句话说明改了什么，坐席确认变更时会看到，例如“少货补发时限由 48 小时改为 24 小时”"),
    )

    review_panels = [
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("change_class"), FieldPanel("change_summary")])],
            heading=_("本次修改"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("maintainer"),
                FieldRowPanel([FieldPanel("last_reviewed"), FieldPanel("review_interval_days")]),
            ],
            heading=_("负责人与复核"),
        ),
    ]

    # The editor starts each change unclassed (``forms.ReviewedPageForm``).
    base_form_class = ReviewedPageForm

    class Meta:
        abstract = True

    def compute_review_due(self):
        if not self.last_reviewed:
            return None
        return self.last_reviewed + datetime.timedelta(days=self.review_interval_days or 0)

    def save(self, *args, **kwargs):
        self.review_due = self.compute_review_due()
        super().save(*args, **kwargs)

    @property
    def is_review_overdue(self):
        due = self.review_due or self.compute_review_due()
        return bool(due and due < timezone.localdate())


class HomePage(Page):
    """The agent's start page: search, the business lines, recently updated content."""

    intro = models.TextField(
        _("欢迎语"), blank=True, help_text=_("首页顶部的一句话说明，例如“通话中先搜索，再按流程走”")
    )

    content_panels = Page.content_panels + [FieldPanel("intro")]

    search_fields = Page.search_fields + [index.SearchField("intro")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["content.SectionPage"]
    max_count = 1

    class Meta:
        verbose_name = _("首页")
        verbose_name_plural = _("首页")

    def route(self, request, path_components):
        """The page at ``path_components`` found by its URL path in one query (Wagtail walks down the tree a
        level at a time, two queries a level); anything that path does not name exactly (a sub-route, a
        404) is routed by Wagtail's walk."""
        if path_components:
            url_path = self.url_path + "/".join(path_components) + "/"
            found = Page.objects.filter(url_path=url_path, path__startswith=self.path).specific().first()
            if found is not None:
                return found.route(request, [])
        return super().route(request, path_components)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        # Lazy: ``public()`` reads the view restrictions as soon as it is called, and a kept part of the
        # page (``kb_site.fragments``) needs neither list.
        context["sections"] = SimpleLazyObject(
            lambda: list(SectionPage.objects.live().public().child_of(self).order_by("path"))
        )
        context["recent_pages"] = SimpleLazyObject(lambda: list(self.recently_updated(request)))
        context["home_panels"] = self.panels_for(request)
        return context

    def panels_for(self, request):
        """HTML panels other apps add under the search box (``register_home_panel`` hooks).

        A hook takes the request and returns HTML (or nothing): procedures show the agent's unfinished
        runs there, without the content app knowing about procedures.
        """
        return [html for fn in hooks.get_hooks(HOME_PANEL_HOOK) if (html := fn(request))]

    def recently_updated(self, request, limit=8):
        """Live articles and procedures under this home page, newest change first."""
        return (
            Page.objects.live()
            .public()
            .descendant_of(self)
            .not_type(SectionPage, HomePage)
            .specific()
            .order_by("-last_published_at")[:limit]
        )


class SectionPage(Page):
    """A business line or topic (e.g. 电商售前售后) that groups its articles, procedures and phrasings."""

    summary = models.TextField(
        _("简介"), blank=True, help_text=_("这条业务线覆盖什么，坐席在首页看到的一两句话")
    )

    content_panels = Page.content_panels + [FieldPanel("summary")]

    search_fields = Page.search_fields + [index.SearchField("summary")]

    parent_page_types = ["content.HomePage"]
    # Child types are not listed here: each page type that belongs in a section (articles, and the
    # procedures app's pages) says so with its own ``parent_page_types``.

    class Meta:
        verbose_name = _("业务栏目")
        verbose_name_plural = _("业务栏目")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        children = self.get_children().live().public().specific()
        context["articles"] = [p for p in children if isinstance(p, ArticlePage)]
        context["procedures"] = [p for p in children if not isinstance(p, ArticlePage)]
        context["phrasings"] = Phrasing.objects.filter(live=True, section=self).order_by("title")
        return context


def tags_field(through):
    """The ``tags`` of a ``TaggedSearchableMixin`` model; ``through`` is its own ``TaggedItemBase``."""
    return ClusterTaggableManager(
        through=through, blank=True, verbose_name=_("标签"), help_text=_("便于检索的关键词")
    )


class TaggedSearchableMixin(models.Model):
    """Content found by its tags and suggested by the pinyin of its title (articles, phrasings, procedures).

    A model declares ``tags = tags_field(<its TaggedItemBase>)`` (each needs a through model of its
    own, which an abstract field cannot name) and adds ``*TaggedSearchableMixin.tagged_search_fields``
    to its ``search_fields``.
    """

    tagged_search_fields = [
        index.RelatedFields("tags", [index.SearchField("name")]),
        index.AutocompleteField("title_pinyin"),
    ]

    class Meta:
        abstract = True

    def title_pinyin(self):
        """Pinyin keys of the title (``tousu ts``) for header-box suggestions."""
        return pinyin_keys(self.title)


class ArticlePageTag(TaggedItemBase):
    content_object = ParentalKey("content.ArticlePage", related_name="tagged_items", on_delete=models.CASCADE)


class ArticleRelatedPage(Orderable):
    """A page an article names as related (another article, a procedure on the same topic)."""

    article = ParentalKey("content.ArticlePage", related_name="related_pages", on_delete=models.CASCADE)
    page = models.ForeignKey(
        "wagtailcore.Page",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("相关页面"),
        help_text=_("同一话题的规范或引导流程，例如 少货处理规范 ↔ 少货处理"),
    )

    panels = [FieldPanel("page")]

    class Meta(Orderable.Meta):
        verbose_name = _("相关页面")
        verbose_name_plural = _("相关页面")

    def clean(self):
        super().clean()
        if not self.page_id:
            return
        allowed = related_page_types()
        if not issubclass(self.page.specific_class, allowed):
            raise ValidationError(
                {
                    "page": _("“%(title)s”不能作为相关页面：只能选择%(types)s。")
                    % {
                        "title": self.page.title,
                        "types": "、".join(str(model._meta.verbose_name) for model in allowed),
                    }
                }
            )


class ArticlePage(TaggedSearchableMixin, ReviewMixin, Page):
    """An SOP article: rules, steps, standard phrasings and time limits for one topic."""

    summary = models.TextField(
        _("摘要"), blank=True, help_text=_("一两句话说明这份规范解决什么问题，显示在列表和搜索结果中")
    )
    body = StreamField(
        ArticleStreamBlock(),
        verbose_name=_("正文"),
        help_text=_("由标题、正文、编号步骤、标准话术、要点/禁忌、时限表和表格组成"),
    )
    tags = tags_field(ArticlePageTag)

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("tags"),
        MultipleChooserPanel(
            "related_pages", chooser_field_name="page", heading=_("相关页面"), label=_("相关页面")
        ),
        *ReviewMixin.review_panels,
    ]

    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("review_due"),
        *TaggedSearchableMixin.tagged_search_fields,
    ]

    parent_page_types = ["content.SectionPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("规范文章")
        verbose_name_plural = _("规范文章")

    @property
    def section(self):
        return self.get_parent().specific

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["article_panels"] = self.panels_for(request)
        # Lazy: a kept 相关内容 (``kb_site.fragments``) is not looked up again.
        context["related_pages"] = SimpleLazyObject(lambda: self.related_for(request))
        return context

    def related_for(self, request):
        """The pages shown under 相关内容: those this article names, then those the apps above relate to it
        (``register_article_related_pages``); live ones the request may see, each once."""
        ids = [link.page_id for link in self.related_pages.all() if link.page_id]
        for fn in hooks.get_hooks(ARTICLE_RELATED_HOOK):
            ids.extend(fn(self))
        return [page for page in visible_pages(request, ids) if page.pk != self.pk]

    def panels_for(self, request):
        """HTML panels other apps add under the article (``register_article_panel`` hooks, called with the
        request and the page); none in a preview."""
        if getattr(request, "is_preview", False):
            return []
        return [html for fn in hooks.get_hooks(ARTICLE_PANEL_HOOK) if (html := fn(request, self))]


class PhrasingTag(TaggedItemBase):
    content_object = ParentalKey("content.Phrasing", related_name="tagged_items", on_delete=models.CASCADE)


class PhrasingQuerySet(SearchableQuerySetMixin, models.QuerySet):
    def live(self):
        return self.filter(live=True)


class Phrasing(
    WorkflowMixin,
    DraftStateMixin,
    LockableMixin,
    RevisionMixin,
    PreviewableMixin,
    TaggedSearchableMixin,
    index.Indexed,
    ClusterableModel,
):
    """A standard phrasing (标准话术): the exact words an agent says in a given situation."""

    title = models.CharField(_("标题"), max_length=120, help_text=_("简短的名称，例如“开场问候”"))
    scenario = models.CharField(
        _("使用场景"), max_length=255, blank=True, help_text=_("什么时候说这句话，例如“客户第一次来电”")
    )
    text = models.TextField(
        _("话术内容"),
        help_text=_("坐席要说的原话。可用占位符：{客户称呼}、{工号}、{天数} 等，使用时会提示填写"),
    )
    section = models.ForeignKey(
        "content.SectionPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="phrasings",
        verbose_name=_("业务栏目"),
        help_text=_("这句话术主要用于哪条业务线"),
    )
    tags = tags_field(PhrasingTag)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = PhrasingQuerySet.as_manager()

    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="phrasing")
    workflow_states = GenericRelation(
        "wagtailcore.WorkflowState",
        content_type_field="base_content_type",
        object_id_field="object_id",
        related_query_name="phrasing",
        for_concrete_model=False,
    )

    panels = [
        FieldPanel("title"),
        FieldPanel("scenario"),
        FieldPanel("text"),
        FieldPanel("section"),
        FieldPanel("tags"),
    ]

    search_fields = [
        index.SearchField("title", boost=2),
        index.AutocompleteField("title"),
        index.SearchField("scenario"),
        index.SearchField("text"),
        index.FilterField("live"),
        index.FilterField("section"),
        # The listing sorts search results by its columns (a search then a click on 标题 was a 500).
        index.FilterField("title"),
        index.FilterField("scenario"),
        index.FilterField("updated_at"),
        *TaggedSearchableMixin.tagged_search_fields,
    ]

    class Meta:
        verbose_name = _("标准话术")
        verbose_name_plural = _("标准话术")
        ordering = ["title"]

    def __str__(self):
        return self.title

    @property
    def revisions(self):
        return self._revisions

    def url_in_section(self, section):
        """Where the phrasing is shown: its card on its section's page (``""`` without a section)."""
        return f"{section.url}#phrasing-{self.pk}" if section is not None else ""

    @property
    def placeholder_names(self):
        return placeholders.placeholder_names(self.text)

    def get_preview_template(self, request, mode_name):
        return "content/phrasing_preview.html"


class TextExtraction(models.TextChoices):
    """Where the text inside a document's file stands: extraction runs in the task worker, after upload."""

    QUEUED = "queued", _("待提取")
    RUNNING = "running", _("正文提取中")
    DONE = "done", _("已提取")
    FAILED = "failed", _("未能提取")
    NOT_APPLICABLE = "none", _("不提取正文")


class CallbookDocument(AbstractDocument):
    """An uploaded document (e.g. a training deck); the text inside it is searchable.

    The text is extracted in the background (``search.tasks``) when the file is new or replaced. The
    ``*_text_extraction`` methods are what that task drives: each write names the file it read, so the
    result for a file that has since been replaced is dropped.
    """

    extracted_text = models.TextField(
        _("提取的文字"),
        blank=True,
        editable=False,
        help_text=_("从 PDF、DOCX、PPTX、TXT 中提取的文字，供全文搜索使用"),
    )
    extraction_status = models.CharField(
        _("正文提取"),
        max_length=16,
        choices=TextExtraction.choices,
        default=TextExtraction.QUEUED,
        editable=False,
        help_text=_("上传或更换文件后，正文在后台提取；提取完成后即可搜索到文件中的文字"),
    )
    extraction_note = models.CharField(
        _("提取说明"),
        max_length=500,
        blank=True,
        editable=False,
        help_text=_("未能提取的原因，或提取时略去的部分（如只提取了前 300 页）"),
    )

    admin_form_fields = Document.admin_form_fields

    search_fields = AbstractDocument.search_fields + [index.SearchField("extracted_text")]

    class Meta(AbstractDocument.Meta):
        verbose_name = _("文档")
        verbose_name_plural = _("文档")

    @property
    def extraction_summary(self):
        """The state as editors read it: "未能提取：原因", "已提取（12,345 字）"."""
        label = self.get_extraction_status_display()
        if self.extraction_status == TextExtraction.FAILED and self.extraction_note:
            return f"{label}：{self.extraction_note}"
        if self.extraction_status == TextExtraction.DONE:
            summary = f"{label}（{len(self.extracted_text):,} 字）"
            return f"{summary}：{self.extraction_note}" if self.extraction_note else summary
        return str(label)

    def queue_text_extraction(self, extractable=True):
        """Before a save with a new or replaced file: forget the old file's text."""
        self.extracted_text = ""
        self.extraction_note = ""
        self.extraction_status = TextExtraction.QUEUED if extractable else TextExtraction.NOT_APPLICABLE

    def _record_extraction(self, file_name, **fields):
        updated = type(self).objects.filter(pk=self.pk, file=file_name).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)
        return updated == 1

    def start_text_extraction(self, file_name):
        """Mark the extraction of ``file_name`` running; False when the document or that file is gone."""
        return self._record_extraction(file_name, extraction_status=TextExtraction.RUNNING)

    def finish_text_extraction(self, file_name, text, note=""):
        return self._record_extraction(
            file_name,
            extracted_text=text,
            extraction_status=TextExtraction.DONE,
            extraction_note=note[:500],
        )

    def fail_text_extraction(self, file_name, reason):
        return self._record_extraction(
            file_name,
            extracted_text="",
            extraction_status=TextExtraction.FAILED,
            extraction_note=reason[:500],
        )


# The agent profile (工号) and company settings (公司名称) phrasings speak: models of this app, kept apart.
from .profiles import AgentProfile, CompanySettings  # noqa: E402, F401
