"""Read-and-confirm records, scenario cards, scored practice sessions and procedure licences.

``ReadConfirmation`` is kept per article revision: the record says which revision a trainee read, so
"learned revision 12; live is 14" can be shown (and a later change notice can use the same rows).
A ``PracticeSession`` is a practice ``ProcedureRun`` with its score against a ``ScenarioCard``; the run
itself stays in the run log and, being practice, never counts in statistics. A ``ProcedureLicence``
lets a new hire run a procedure live: earned by passing practice, or granted by hand with a reason.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.models import Revision

from ..choices import ConfirmationKind

__all__ = ["PracticeSession", "ProcedureLicence", "ReadConfirmation", "ScenarioCard"]


class ReadConfirmation(models.Model):
    """A user confirmed one revision of a page: a trainee read an article (after scrolling to its end and
    dwelling: ``dwell_seconds``), or an agent acknowledged a change notice of an article or procedure
    (``kind`` 变更确认, no dwell time: ``changes``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="read_confirmations",
        verbose_name=_("学员"),
    )
    page = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.CASCADE, related_name="+", verbose_name=_("页面")
    )
    revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, related_name="+", verbose_name=_("页面版本")
    )
    kind = models.CharField(
        _("类型"), max_length=8, choices=ConfirmationKind.choices, default=ConfirmationKind.READ
    )
    dwell_seconds = models.PositiveIntegerField(_("停留时间（秒）"), null=True, blank=True)
    answers = models.JSONField(_("检查题答案"), default=dict, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), default=timezone.now)

    class Meta:
        verbose_name = _("阅读确认")
        verbose_name_plural = _("阅读确认")
        ordering = ["-confirmed_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "revision"], name="unique_confirmation_per_revision")
        ]

    def __str__(self):
        return f"{self.page} · {timezone.localtime(self.confirmed_at):%Y-%m-%d %H:%M}"


class ScenarioCard(ClusterableModel):
    """A practice scenario for a procedure: the customer, the expected ending, the golden path and the
    lines that must be said."""

    procedure = models.ForeignKey(
        "procedures.ProcedurePage", on_delete=models.CASCADE, related_name="+", verbose_name=_("流程")
    )
    title = models.CharField(_("名称"), max_length=120, help_text=_("例如“少货：客户收到 3 件少 1 件”"))
    persona = models.TextField(
        _("客户"), help_text=_("扮演的客户：身份、情绪、说话方式，例如“老客户，语气急，第二次来电”")
    )
    facts = models.TextField(_("情景事实"), help_text=_("练习时要用到的事实：订单号、金额、日期等，每行一条"))
    expected_outcome = models.CharField(
        _("期望结果"), max_length=50, blank=True, help_text=_("好的处理应当以哪个结果结束，例如“已解决”")
    )
    golden_path = models.JSONField(
        _("标准路径"),
        default=list,
        blank=True,
        help_text=_("好的坐席经过的步骤（步骤标识，按顺序）"),
    )
    must_say = ParentalManyToManyField(
        "content.Phrasing",
        blank=True,
        related_name="+",
        verbose_name=_("必说话术"),
        help_text=_("练习中必须说到的话术（运行经过含这句话术的步骤即算说到）"),
    )
    expected_minutes = models.PositiveSmallIntegerField(
        _("期望用时（分钟）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text=_("留空则用流程的预计时长"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    panels = [
        FieldPanel("procedure"),
        FieldPanel("title"),
        MultiFieldPanel([FieldPanel("persona"), FieldPanel("facts")], heading=_("客户与情景")),
        FieldPanel("expected_outcome"),
        FieldPanel("golden_path"),
        FieldPanel("must_say"),
        FieldPanel("expected_minutes"),
    ]

    class Meta:
        verbose_name = _("情景卡")
        verbose_name_plural = _("情景卡")
        ordering = ["procedure", "title"]

    def __str__(self):
        return self.title

    def live_steps(self):
        """The live procedure's steps as plain dicts (empty when it is not published)."""
        procedure = self.procedure.specific if self.procedure_id else None
        if procedure is None:
            return []
        revision = procedure.live_revision
        source = revision.as_object() if revision else procedure
        return source.to_procedure().steps

    def clean(self):
        super().clean()
        if not self.procedure_id:
            return
        steps = self.live_steps()
        keys = [step["key"] for step in steps]
        path = self.golden_path if isinstance(self.golden_path, list) else []
        unknown = [key for key in path if key not in keys]
        if unknown:
            raise ValidationError(
                {"golden_path": _("流程中没有这些步骤：%(keys)s") % {"keys": "、".join(map(str, unknown))}}
            )
        if self.expected_outcome:
            outcomes = self.procedure.specific.outcome_choices()
            if self.expected_outcome not in outcomes:
                raise ValidationError(
                    {"expected_outcome": _("可选结果：%(choices)s") % {"choices": "、".join(outcomes)}}
                )

    def expected_seconds(self):
        minutes = self.expected_minutes or getattr(self.procedure.specific, "expected_minutes", None)
        return minutes * 60 if minutes else None

    def fact_lines(self):
        return [line.strip() for line in self.facts.splitlines() if line.strip()]


class PracticeSession(models.Model):
    """A practice run and its score: against a scenario card when one was chosen, else on its ending."""

    id = models.UUIDField(_("编号"), primary_key=True, default=uuid.uuid4, editable=False)
    run = models.OneToOneField(
        "procedures.ProcedureRun",
        on_delete=models.PROTECT,
        related_name="practice_session",
        verbose_name=_("运行"),
    )
    card = models.ForeignKey(
        ScenarioCard,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
        verbose_name=_("情景卡"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="practice_sessions",
        verbose_name=_("学员"),
    )
    procedure = models.ForeignKey(
        "procedures.ProcedurePage",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("流程"),
    )
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    scored_at = models.DateTimeField(_("评分时间"), null=True, blank=True)
    score = models.FloatField(_("得分"), null=True, blank=True)
    passed = models.BooleanField(_("通过"), null=True)
    feedback = models.JSONField(_("反馈"), default=dict, blank=True)

    class Meta:
        verbose_name = _("练习评分")
        verbose_name_plural = _("练习评分")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "procedure", "passed"])]

    def __str__(self):
        return f"{self.run.procedure_title} · {self.score if self.score is not None else '—'}"


class ProcedureLicence(models.Model):
    """A new hire may run this procedure live (上岗资格): earned by passing practice or granted by hand."""

    class Source(models.TextChoices):
        PRACTICE = "practice", _("练习通过")
        MANUAL = "manual", _("带教授予")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="procedure_licences",
        verbose_name=_("学员"),
    )
    procedure = models.ForeignKey(
        "procedures.ProcedurePage", on_delete=models.CASCADE, related_name="+", verbose_name=_("流程")
    )
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("授予人"),
    )
    reason = models.TextField(_("原因"), blank=True)
    granted_at = models.DateTimeField(_("授予时间"), default=timezone.now)

    class Meta:
        verbose_name = _("上岗资格")
        verbose_name_plural = _("上岗资格")
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "procedure"], name="unique_licence_per_procedure")
        ]

    def __str__(self):
        return f"{self.procedure} · {self.get_source_display()}"
