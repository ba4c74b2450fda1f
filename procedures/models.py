"""Guided procedures (ProcedurePage) and the log of every run (ProcedureRun, RunEvent)."""

import datetime
import functools
import json
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page, Revision
from wagtail.search import index

from kb_site.content.models import Phrasing, ReviewMixin
from zhtext import pinyin_keys

from . import engine, graph
from .blocks import (
    STEP_KINDS,
    StepStreamBlock,
    VariablesStreamBlock,
    graph_errors_to_validation_error,
    stream_to_steps,
)

__all__ = [
    "ProcedurePage",
    "ProcedurePageTag",
    "ProcedureRun",
    "RunEvent",
    "RunStatus",
    "EventAction",
    "procedure_for_revision",
]


class ProcedurePageTag(TaggedItemBase):
    content_object = ParentalKey(
        "procedures.ProcedurePage", related_name="tagged_items", on_delete=models.CASCADE
    )


class ProcedurePage(ReviewMixin, Page):
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
        help_text="流程收集的信息，如 客户称呼、订单号；文字和话术中写 {变量名} 即可填入",
    )
    outcomes = models.TextField(
        _("可选结果"),
        blank=True,
        help_text=_("每行一个；留空则使用默认：已解决、已升级、已转接、客户放弃、无需处理"),
    )
    steps = StreamField(
        StepStreamBlock(),
        verbose_name=_("步骤"),
        help_text=_("第一个步骤是起点。每一步有唯一的标识，回答、规则和“下一步”都用标识指向目标步骤"),
    )
    tags = ClusterTaggableManager(
        through=ProcedurePageTag, blank=True, verbose_name=_("标签"), help_text=_("便于检索的关键词")
    )

    content_panels = Page.content_panels + [
        FieldPanel("when_to_use"),
        FieldRowPanel([FieldPanel("expected_minutes")]),
        FieldPanel("tags"),
        FieldPanel("variables"),
        MultiFieldPanel([FieldPanel("outcomes")], heading=_("结果"), classname="collapsed"),
        FieldPanel("steps"),
        *ReviewMixin.review_panels,
    ]

    search_fields = Page.search_fields + [
        index.SearchField("when_to_use", boost=2),
        index.SearchField("search_steps_text"),
        index.RelatedFields("tags", [index.SearchField("name")]),
        index.FilterField("review_due"),
        index.AutocompleteField("title_pinyin"),
    ]

    parent_page_types = ["content.SectionPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("引导流程")
        verbose_name_plural = _("引导流程")

    def title_pinyin(self):
        """Pinyin keys of the title (``tousu ts``) for header-box suggestions."""
        return pinyin_keys(self.title)

    # --- plain views of the content -------------------------------------------------------

    def outcome_choices(self):
        own = [line.strip() for line in (self.outcomes or "").splitlines() if line.strip()]
        return own or list(engine.DEFAULT_OUTCOMES)

    def variable_defs(self):
        return [
            engine.Variable(
                name=child.value.get("name"),
                label=child.value.get("label") or "",
                type=child.value.get("type") or "text",
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
                {"title": p.resolved_title(), "scenario": p.resolved_scenario(), "text": p.resolved_text()}
                for p in value.get("phrasings") or []
            ]
            steps.append(step)
        return steps

    def to_procedure(self):
        return engine.Procedure(
            self.step_dicts(), self.variable_defs(), outcomes=self.outcome_choices(), title=self.title
        )

    def search_steps_text(self):
        """Every step's title, text, phrasings and answers, for the search index."""
        parts = []
        for step in self.step_dicts():
            parts.append(step.get("title", ""))
            parts.append(strip_tags(step.get("text_html", "")))
            for phrasing in step.get("phrasings", []):
                parts.extend([phrasing["title"], phrasing["text"]])
            parts.extend(a.get("label", "") for a in step.get("answers", []))
            parts.extend(step.get("checklist", []))
            if step.get("outcome"):
                parts.append(step["outcome"])
        return "\n".join(p for p in parts if p)

    @property
    def summary(self):
        # page cards and search results show a summary line
        return self.when_to_use

    # --- validation -----------------------------------------------------------------------

    def clean(self):
        super().clean()
        steps = stream_to_steps(self.steps)
        variables = {v.name: v.type for v in self.variable_defs()}
        errors = graph.validate(steps, variables)
        outcomes = self.outcome_choices()
        for position, step in enumerate(steps):
            if step["kind"] == graph.OUTCOME and step.get("outcome") and step["outcome"] not in outcomes:
                errors.append(
                    graph.GraphError(
                        position,
                        step["key"],
                        "outcome",
                        f"结果“{step['outcome']}”不在可选结果中：{'、'.join(outcomes)}。",
                    )
                )
        if errors:
            raise ValidationError({"steps": graph_errors_to_validation_error(errors, steps)})

    # --- front end ------------------------------------------------------------------------

    def get_context(self, request, *args, **kwargs):
        from .overview import overview_rows

        context = super().get_context(request, *args, **kwargs)
        if getattr(request, "is_preview", False) or not self.live_revision_id:
            procedure = self.to_procedure()  # the draft being previewed
        else:
            procedure = procedure_for_revision(self.live_revision_id)  # cached: what a run would use
        context["overview"] = overview_rows(procedure.steps)
        context["step_kinds"] = STEP_KINDS
        context["variable_list"] = [
            (variable, request.GET.get(name, "")[:500]) for name, variable in procedure.variables.items()
        ]
        context["prefill_ref"] = request.GET.get("ref", "")[:100]
        context["default_practice"] = _is_new_hire(request.user)
        return context


def _is_new_hire(user):
    from kb_site.content import roles

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


@functools.lru_cache(maxsize=256)
def procedure_for_revision(revision_id):
    """The structure of one page revision (cached per process: revisions never change).

    Used for the overview map. Phrasing snippets may change after the revision was made, so
    runs keep their own snapshot (``ProcedureRun.definition``) instead of using this.
    """
    return load_procedure(Revision.objects.get(pk=revision_id))


# --- the run log --------------------------------------------------------------------------


class RunStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "进行中"
    COMPLETED = "completed", "已完成"
    ABANDONED = "abandoned", "已中断"


class EventAction(models.TextChoices):
    ANSWER = "answer", "回答"
    NEXT = "next", "继续"
    INPUT = "input", "采集"
    RULE = "rule", "规则判断"
    OUTCOME = "outcome", "结果"
    BACK = "back", "返回上一步"
    ESCALATE = "escalate", "升级"
    TRANSFER = "transfer", "转接"
    GIVE_UP = "give_up", "客户放弃"


def abandon_after():
    return datetime.timedelta(minutes=getattr(settings, "CALLBOOK_RUN_ABANDON_AFTER_MINUTES", 120))


class ProcedureRunQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)

    def in_progress(self):
        return self.filter(status=RunStatus.IN_PROGRESS)

    def counted(self):
        """Runs that count in statistics: practice runs never do."""
        return self.filter(practice=False)

    def mark_abandoned(self, now=None):
        """Mark runs untouched for CALLBOOK_RUN_ABANDON_AFTER_MINUTES as abandoned; returns how many."""
        cutoff = (now or timezone.now()) - abandon_after()
        return self.filter(status=RunStatus.IN_PROGRESS, last_activity_at__lt=cutoff).update(
            status=RunStatus.ABANDONED
        )


class ProcedureRun(models.Model):
    """One agent walking through one procedure, pinned to the page revision live at its start."""

    id = models.UUIDField(_("编号"), primary_key=True, default=uuid.uuid4, editable=False)
    procedure = models.ForeignKey(
        ProcedurePage, null=True, on_delete=models.SET_NULL, related_name="runs", verbose_name=_("流程")
    )
    procedure_title = models.CharField(_("流程名称"), max_length=255)
    revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, related_name="+", verbose_name=_("流程版本")
    )
    definition = models.JSONField(
        _("流程内容快照"),
        default=dict,
        editable=False,
        help_text=_("开始时的步骤、变量和话术原文：之后发布新版本或修改话术都不会改变进行中的运行"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="procedure_runs",
        verbose_name=_("坐席"),
    )
    ref = models.CharField(_("工单/来电编号"), max_length=100, blank=True)
    variables = models.JSONField(_("变量"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=RunStatus.choices, default=RunStatus.IN_PROGRESS
    )
    outcome = models.CharField(_("结果"), max_length=50, blank=True)
    practice = models.BooleanField(_("练习"), default=False, help_text=_("练习运行不计入任何统计"))
    current_step = models.CharField(_("当前步骤"), max_length=64, blank=True)
    current_step_title = models.CharField(_("当前步骤标题"), max_length=200, blank=True)
    next_seq = models.PositiveIntegerField(_("下一事件序号"), default=1)
    step_entered_at = models.DateTimeField(_("进入当前步骤"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("最近操作"), default=timezone.now)

    objects = ProcedureRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("流程运行")
        verbose_name_plural = _("流程运行")
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["user", "status"]),
            models.Index(fields=["status", "last_activity_at"]),
        ]
        permissions = [("view_procedure_stats", "可查看流程统计")]

    def __str__(self):
        return f"{self.procedure_title} · {self.started_at:%Y-%m-%d %H:%M}"

    def get_procedure(self):
        """The procedure exactly as it was when this run started (steps, variables, phrasing texts)."""
        if not hasattr(self, "_procedure"):
            if self.definition:
                self._procedure = engine.Procedure.from_dict(self.definition)
            else:
                self._procedure = procedure_for_revision(self.revision_id)
        return self._procedure

    @property
    def is_finished(self):
        return self.status != RunStatus.IN_PROGRESS

    @property
    def duration_seconds(self):
        end = self.finished_at or self.last_activity_at
        return max((end - self.started_at).total_seconds(), 0) if end else 0

    @property
    def duration_display(self):
        return engine.format_duration(self.duration_seconds)

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("procedures:run", args=[self.pk])


class RunEvent(models.Model):
    """One step left during a run: what the agent saw (a snapshot) and what they did."""

    run = models.ForeignKey(
        ProcedureRun, on_delete=models.CASCADE, related_name="events", verbose_name=_("运行")
    )
    seq = models.PositiveIntegerField(_("序号"))
    step_key = models.CharField(_("步骤标识"), max_length=64)
    step_title = models.CharField(_("步骤标题"), max_length=200, blank=True)
    kind = models.CharField(_("步骤类型"), max_length=20, choices=list(STEP_KINDS.items()))
    action = models.CharField(_("操作"), max_length=20, choices=EventAction.choices)
    answer = models.CharField(_("回答"), max_length=255, blank=True)
    next_key = models.CharField(_("去往步骤"), max_length=64, blank=True)
    inputs = models.JSONField(_("采集的值"), default=dict, blank=True)
    note = models.TextField(_("备注"), blank=True)
    entered_at = models.DateTimeField(_("进入时间"))
    left_at = models.DateTimeField(_("离开时间"))

    class Meta:
        verbose_name = _("运行事件")
        verbose_name_plural = _("运行事件")
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="unique_run_event_seq")]

    def __str__(self):
        return f"{self.seq}. {self.step_title} · {self.get_action_display()}"

    @property
    def seconds(self):
        return max((self.left_at - self.entered_at).total_seconds(), 0)
