"""Follow-ups (跟进): what a run leaves to be done after the call, who does it, by when, and every attempt.

A ``FollowUp`` comes from a run (``source_run``, its step and revision) by a rule of the procedure or
by a handoff ending (升级 / 转接). Working it may run a procedure (``work_run``, e.g. a 回访 procedure
pre-filled from the source run); a follow-up created by that run points back (``parent``), so the chain
original run → callback run → 重办 is kept. ``due_at`` may move when the customer asks for another
time; ``original_due_at`` never does (reports measure on-time against it).
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting

from kb_site.content.profiles import person_name
from procedures.choices import FollowUpKind, Priority

from .choices import CLOSED_STATUSES, OPEN_STATUSES, AttemptResult, NoticeKind, Status

__all__ = ["FollowUp", "FollowUpAttempt", "FollowUpSettings", "GroupLead", "Notice", "WorkCalendarDay"]


class WorkCalendarDay(models.Model):
    """A day the calendar says otherwise about: a holiday or a 调休 make-up workday (years the
    chinese-calendar library does not cover yet, or the company's own days)."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(
        _("上班"), help_text=_("勾选：这天上班（例如调休补班）；不勾选：这天放假")
    )
    note = models.CharField(_("说明"), max_length=100, blank=True, help_text=_("例如“2027 年春节”"))

    panels = [FieldPanel("date"), FieldPanel("is_workday"), FieldPanel("note")]

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ["-date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {'上班' if self.is_workday else '放假'}"


class GroupLead(models.Model):
    """Who leads a group (组长): told when a follow-up of the group is overdue or cannot reach the customer."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="lead", verbose_name=_("组"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="led_groups", verbose_name=_("组长")
    )

    panels = [FieldPanel("group"), FieldPanel("user")]

    class Meta:
        verbose_name = _("组长")
        verbose_name_plural = _("组长")

    def __str__(self):
        return f"{self.group.name}：{self.user.get_full_name() or self.user.get_username()}"


@register_setting(icon="date")
class FollowUpSettings(BaseGenericSetting):
    """How follow-ups are chased: when attempts make one 无法联系, when an overdue one goes up again,
    and the group robot notices are posted to."""

    unreachable_attempts = models.PositiveSmallIntegerField(
        _("无法联系：失败次数"), default=3, help_text=_("未接通、关机、空号、拒接累计这么多次……")
    )
    unreachable_days = models.PositiveSmallIntegerField(
        _("无法联系：至少跨越天数"),
        default=2,
        help_text=_("……且第一次和最后一次尝试至少相隔这么多个日期，才算无法联系"),
    )
    due_soon_minutes = models.PositiveIntegerField(
        _("即将超时提醒（分钟）"), default=120, help_text=_("到期前多久提醒处理人")
    )
    escalate_again_hours = models.PositiveIntegerField(
        _("再次升级间隔（小时）"),
        default=24,
        help_text=_("超时后第一次提醒组长，过了这么久仍未处理再提醒一次"),
    )
    webhook_url = models.URLField(
        _("群机器人地址"),
        blank=True,
        help_text=_("企业微信或钉钉群机器人的 Webhook 地址；填写后提醒也会发到群里"),
    )

    panels = [
        FieldPanel("unreachable_attempts"),
        FieldPanel("unreachable_days"),
        FieldPanel("due_soon_minutes"),
        FieldPanel("escalate_again_hours"),
        FieldPanel("webhook_url"),
    ]

    class Meta:
        verbose_name = _("跟进设置")


class FollowUpQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def visible_to(self, user):
        """Supervisors see every follow-up; agents theirs and their groups'; new hires none."""
        if user.is_superuser or user.has_perm("followups.view_all_followups"):
            return self
        if not user.has_perm("followups.work_followup"):
            return self.none()
        return self.filter(Q(assignee=user) | Q(group__in=user.groups.all()))

    def overdue(self, now=None):
        return self.open().filter(due_at__lt=now or timezone.now())

    def due_within(self, minutes, now=None):
        now = now or timezone.now()
        return self.open().filter(due_at__gte=now, due_at__lt=now + timezone.timedelta(minutes=minutes))


class FollowUp(models.Model):
    """One thing to do after a call: a callback, an escalation, a transfer, a promised call, a redo."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("类型"), max_length=20, choices=FollowUpKind.choices)
    title = models.CharField(_("事项"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    priority = models.CharField(_("优先级"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    source_run = models.ForeignKey(
        "procedures.ProcedureRun",
        on_delete=models.PROTECT,
        related_name="follow_ups",
        verbose_name=_("来源运行"),
    )
    source_step = models.CharField(_("来源步骤"), max_length=64, blank=True)
    source_revision = models.ForeignKey(
        "wagtailcore.Revision",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("来源流程版本"),
    )
    procedure = models.ForeignKey(
        "procedures.ProcedurePage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("处理时运行的流程"),
    )
    section = models.ForeignKey(
        "content.SectionPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("业务栏目"),
    )
    ref = models.CharField(_("工单/来电编号"), max_length=100, blank=True)
    customer = models.JSONField(_("客户信息"), default=dict, blank=True, help_text=_("来源运行的变量"))
    reason = models.TextField(_("原因"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        verbose_name=_("处理人"),
    )
    group = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        verbose_name=_("处理组"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("来源坐席"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    due_at = models.DateTimeField(_("到期时间"), db_index=True)
    original_due_at = models.DateTimeField(_("原定到期时间"))
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        verbose_name=_("上一个跟进"),
    )
    work_run = models.OneToOneField(
        "procedures.ProcedureRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="worked_follow_up",
        verbose_name=_("处理运行"),
    )
    result = models.CharField(_("结果"), max_length=50, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=20, blank=True)
    notes = models.TextField(_("处理备注"), blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("关闭人"),
    )
    escalation_level = models.PositiveSmallIntegerField(_("超时升级次数"), default=0)
    last_escalated_at = models.DateTimeField(_("最近升级提醒"), null=True, blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("跟进")
        verbose_name_plural = _("跟进")
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"]),
            models.Index(fields=["group", "status", "due_at"]),
            models.Index(fields=["status", "due_at"]),
        ]
        permissions = [
            ("work_followup", "可处理自己和本组的跟进"),
            ("view_all_followups", "可查看所有跟进"),
            ("reassign_followup", "可重新分配跟进"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.title}"

    def get_absolute_url(self):
        return reverse("followups:detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def is_closed(self):
        return self.status in CLOSED_STATUSES

    def is_overdue(self, now=None):
        return self.is_open and self.due_at < (now or timezone.now())

    @property
    def closed_on_time(self):
        return self.closed_at is not None and self.closed_at <= self.original_due_at

    @property
    def rescheduled(self):
        return self.due_at != self.original_due_at

    @property
    def assignee_label(self):
        parts = []
        if self.group_id:
            parts.append(self.group.name)
        if self.assignee_id:
            parts.append(person_name(self.assignee))
        return " · ".join(parts) or "—"


class FollowUpAttempt(models.Model):
    """One attempt to reach the customer: when, with what result, and a note."""

    follow_up = models.ForeignKey(
        FollowUp, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("跟进")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("处理人"),
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    result = models.CharField(_("结果"), max_length=20, choices=AttemptResult.choices)
    note = models.TextField(_("备注"), blank=True)
    next_at = models.DateTimeField(_("约定时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("联系记录")
        verbose_name_plural = _("联系记录")
        ordering = ["at"]

    def __str__(self):
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {self.get_result_display()}"


class Notice(models.Model):
    """An in-app notice (the bell): a follow-up assigned to me, due soon, overdue or escalated to me."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices", verbose_name=_("收件人")
    )
    follow_up = models.ForeignKey(
        FollowUp, on_delete=models.CASCADE, related_name="notices", verbose_name=_("跟进")
    )
    kind = models.CharField(_("类型"), max_length=20, choices=NoticeKind.choices)
    level = models.PositiveSmallIntegerField(
        _("次数"), default=0, help_text=_("同一类提醒的第几次（再次升级）")
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "follow_up", "kind", "level"], name="one_notice_per_event"
            )
        ]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.follow_up}"
