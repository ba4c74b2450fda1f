"""Guided procedures as editors write them (``ProcedurePage``) and the plain procedures runs use."""

import functools
import json

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, MultipleChooserPanel
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page, Revision
from wagtail.search import index

from kb_site.content import roles
from kb_site.content.models import (
    ArticlePage,
    Phrasing,
    ReviewMixin,
    TaggedSearchableMixin,
    tags_field,
    visible_pages,
)

from .. import engine, graph
from ..blocks import (
    StepStreamBlock,
    VariablesStreamBlock,
    graph_errors_to_validation_error,
    stream_to_steps,
)
from ..choices import DEFAULT_OUTCOMES, StepKind, VariableType
from ..flow_map import FlowMapPanel
from ..forms import StartForm
from ..hits import step_text
from ..overview import overview_rows
from ..signals import PROCEDURE_START_NOTE

__all__ = [
    "ProcedurePage",
    "ProcedureRelatedArticle",
    "ProcedurePageTag",
    "current_procedure",
    "forget_cached_procedures",
    "procedure_for_revision",
]


class ProcedurePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "procedures.ProcedurePage", related_name="tagged_items", on_delete=models.CASCADE
    )


class ProcedureRelatedArticle(Orderable):
    """An article a procedure names as related (its 规范), shown on both pages."""

    procedure = ParentalKey(
        "procedures.ProcedurePage", related_name="related_articles", on_delete=models.CASCADE
    )
    article = models.ForeignKey(
        "content.ArticlePage",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("相关规范"),
        help_text=_("同一话题的规范文章，例如 少货处理 ↔ 少货处理规范"),
    )

    panels = [FieldPanel("article")]

    class Meta(Orderable.Meta):
        verbose_name = _("相关规范")
        verbose_name_plural = _("相关规范")


class ProcedurePage(TaggedSearchableMixin, ReviewMixin, Page):
    """A guided procedure (引导流程) that walks an agent through a call step by step."""

    when_to_use = models.TextField(
        _("适用场景"), help_text=_("什么时候用这个流程，例如“客户反映收到的商品比订单少”；坐席搜索时会看到")
    )
    expected_minutes = models.PositiveIntegerField(
        _("预计用时（分钟）"), null=True, blank=True, help_text=_("正常情况下走完这个流程需要几分钟")
    )
    variables = StreamField(
        VariablesStreamBlock(),
        blank=True,
        verbose_name=_("变量"),
        help_text=_("流程收集的信息，如 客户称呼、订单号；文字和话术中写 {变量名} 即可填入"),
    )
    outcomes = models.TextField(
        _("可选结果"),
        blank=True,
        help_text=_("每行一个；留空则使用默认：已解决、已升级、已转接、客户放弃、无需处理"),
    )
    steps = StreamField(
        StepStreamBlock(),
        verbose_name=_("步骤"),
        help_text=_(
            "第一个步骤是起点。回答、规则和“下一步”都从本流程的步骤中按标题选择，旁边的流程图随编辑更新"
        ),
    )
    tags = tags_field(ProcedurePageTag)

    content_panels = Page.content_panels + [
        FieldPanel("when_to_use"),
        FieldRowPanel([FieldPanel("expected_minutes")]),
        FieldPanel("tags"),
        FieldPanel("variables"),
        MultiFieldPanel([FieldPanel("outcomes")], heading=_("结果"), classname="collapsed"),
        FlowMapPanel("steps"),
        FieldPanel("steps"),
        MultipleChooserPanel(
            "related_articles", chooser_field_name="article", heading=_("相关规范"), label=_("相关规范")
        ),
        *ReviewMixin.review_panels,
    ]

    search_fields = Page.search_fields + [
        index.SearchField("when_to_use", boost=2),
        index.SearchField("search_steps_text"),
        index.FilterField("review_due"),
        *TaggedSearchableMixin.tagged_search_fields,
    ]

    parent_page_types = ["content.SectionPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("引导流程")
        verbose_name_plural = _("引导流程")

    # --- plain views of the content -------------------------------------------------------

    def outcome_choices(self):
        own = [line.strip() for line in (self.outcomes or "").splitlines() if line.strip()]
        return own or list(DEFAULT_OUTCOMES)

    def variable_defs(self):
        return [
            engine.Variable(
                name=child.value.get("name"),
                label=child.value.get("label") or "",
                type=child.value.get("type") or VariableType.TEXT,
                choices=list(child.value.get("choices") or []),
                required=bool(child.value.get("required")),
            )
            for child in self.variables
        ]

    def step_dicts(self):
        """Steps as plain dicts, with their text and phrasings resolved for display."""
        steps = []
        for child in self.steps:
            step = stream_to_steps([child])[0]
            value = child.value
            text = value.get("text")
            step["text_html"] = text.source if text is not None and hasattr(text, "source") else ""
            step["phrasings"] = [
                {
                    "title": p.resolved_title(),
                    "scenario": p.resolved_scenario(),
                    "text": p.resolved_text(),
                    "must_say": bool(p.get("must_say")),
                }
                for p in value.get("phrasings") or []
            ]
            steps.append(step)
        return steps

    def to_procedure(self):
        return engine.Procedure(
            self.step_dicts(), self.variable_defs(), outcomes=self.outcome_choices(), title=self.title
        )

    def search_steps_text(self):
        """Every step's title, text, phrasings, answers, checklist and outcome, for the search index."""
        return "\n".join(text for text in map(step_text, self.step_dicts()) if text)

    @property
    def summary(self):
        # page cards and search results show a summary line
        return self.when_to_use

    # --- validation -----------------------------------------------------------------------

    def clean(self):
        super().clean()
        steps, errors = self.graph_errors()
        if errors:
            raise ValidationError({"steps": graph_errors_to_validation_error(errors, steps)})

    def graph_errors(self):
        """``(steps, errors)``: the steps as plain dicts and every problem saving reports (the editor's flow
        map shows the same list)."""
        steps = stream_to_steps(self.steps)
        variables = {v.name: v.type for v in self.variable_defs()}
        errors = graph.validate(steps, variables)
        outcomes = self.outcome_choices()
        for position, step in enumerate(steps):
            if step["kind"] == StepKind.OUTCOME and step.get("outcome") and step["outcome"] not in outcomes:
                errors.append(
                    graph.GraphError(
                        position,
                        step["key"],
                        "outcome",
                        _("结果“%(outcome)s”不在可选结果中：%(choices)s。")
                        % {"outcome": step["outcome"], "choices": "、".join(outcomes)},
                    )
                )
        errors.extend(self.subprocedure_loops(steps))
        return steps, errors

    def subprocedure_loops(self, steps):
        """A ``GraphError`` for each 子流程 step that would call this procedure again, directly or through
        the procedures it calls (read from their live revisions, as a run would pin them)."""
        errors = []
        for position, step in enumerate(steps):
            called = step.get("procedure") if step.get("kind") == StepKind.SUBPROCEDURE else None
            if not called:
                continue
            if self.pk and called == self.pk:
                message = str(_("子流程不能运行本流程自己，否则会无限循环。"))
            else:
                trail = calls_back(called, self.pk) if self.pk else None
                if trail is None:
                    continue
                message = _("子流程会经由其他流程回到本流程（%(trail)s），运行时会无限循环。") % {
                    "trail": " → ".join([self.title, *trail, self.title])
                }
            errors.append(graph.GraphError(position, step["key"], "procedure", message))
        return errors

    # --- front end ------------------------------------------------------------------------

    def get_context(self, request, *args, start_form=None, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        if getattr(request, "is_preview", False) or not self.live_revision_id:
            procedure = self.to_procedure()  # the draft being previewed
        else:
            procedure = procedure_for_revision(self.live_revision_id)  # cached: what a run would use
        context["overview"] = overview_rows(procedure.steps)
        context["start_form"] = start_form or StartForm.prefilled(
            procedure, request.GET, practice=_is_new_hire(request.user)
        )
        context["start_notes"] = self.start_notes(request)
        context["related_pages"] = self.related_for(request)
        return context

    def related_for(self, request):
        """The articles shown under 相关规范: those this procedure names, then the articles naming it;
        live ones the request may see, each once."""
        ids = [link.article_id for link in self.related_articles.all() if link.article_id]
        if self.pk:
            ids.extend(self.articles_naming_it())
        return visible_pages(request, ids)

    def articles_naming_it(self):
        """Ids of the articles whose 相关页面 name this procedure."""
        return list(
            ArticlePage.objects.filter(related_pages__page=self).order_by("path").values_list("pk", flat=True)
        )

    def start_notes(self, request):
        """HTML notes other apps show in the start box (``procedure_start_note`` hooks); none in a preview."""
        if getattr(request, "is_preview", False):
            return []
        return [html for fn in hooks.get_hooks(PROCEDURE_START_NOTE) if (html := fn(request, self))]


def _is_new_hire(user):
    return bool(user and user.is_authenticated and user.groups.filter(name=roles.NEW_HIRE).exists())


def load_procedure(revision):
    """The plain ``engine.Procedure`` of one page revision, phrasing texts as they are now."""
    return revision.as_object().to_procedure()


def referenced_phrasing_ids(revision):
    """Pks of the phrasing snippets a revision's steps refer to (read from the raw revision data)."""
    steps = revision.content.get("steps") or []
    if isinstance(steps, str):
        steps = json.loads(steps)
    ids = set()
    for block in steps:
        for item in (block.get("value") or {}).get("phrasings") or []:
            value = item.get("value", item) if isinstance(item, dict) else {}
            if isinstance(value, dict) and value.get("phrasing"):
                ids.add(value["phrasing"])
    return ids


def called_page_ids(revision):
    """Pks of the procedures a revision's 子流程 steps run (read from the raw revision data)."""
    steps = revision.content.get("steps") or []
    if isinstance(steps, str):
        steps = json.loads(steps)
    return [
        block["value"]["procedure"]
        for block in steps
        if block.get("type") == StepKind.SUBPROCEDURE and (block.get("value") or {}).get("procedure")
    ]


def calls_back(start_id, target_id):
    """The titles of the procedures from ``start_id`` through which their live revisions' 子流程 steps
    lead to ``target_id`` (``["身份核验", "地址核验"]``), or None when none does."""
    trails = {start_id: []}
    queue = [start_id]
    while queue:
        page_id = queue.pop(0)
        page = ProcedurePage.objects.filter(pk=page_id).select_related("live_revision").first()
        if page is None or page.live_revision is None:
            continue
        trail = [*trails[page_id], page.title]
        for called in called_page_ids(page.live_revision):
            if called == target_id:
                return trail
            if called not in trails:
                trails[called] = trail
                queue.append(called)
    return None


_current = {}


def current_procedure(revision):
    """The procedure a new run of ``revision`` starts with: its steps plus today's phrasing texts.

    Cached per process by revision and the phrasings' ``updated_at``, so an edited phrasing is
    picked up by the next run while starting a run stays one small query.
    """
    ids = referenced_phrasing_ids(revision)
    versions = (
        tuple(sorted(Phrasing.objects.filter(pk__in=ids).values_list("pk", "updated_at"))) if ids else ()
    )
    key = (revision.pk, versions)
    procedure = _current.get(key)
    if procedure is None:
        procedure = load_procedure(revision)
        if len(_current) >= 512:
            _current.clear()
        _current[key] = procedure
    return procedure


def forget_cached_procedures():
    """Empty this process's procedure caches (tests: revision ids come back after a rollback)."""
    _current.clear()
    procedure_for_revision.cache_clear()


@functools.lru_cache(maxsize=256)
def procedure_for_revision(revision_id):
    """The structure of one page revision (cached per process: revisions never change).

    Used for the overview map. Phrasing snippets may change after the revision was made, so
    runs keep their own snapshot (``ProcedureRun.definition``) instead of using this.
    """
    return load_procedure(Revision.objects.get(pk=revision_id))
