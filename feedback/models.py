"""Feedback (内容反馈) from agents on what they read and run, and what its owner did with it.

A ``Feedback`` is about a page (an article or a procedure) and, within it, optionally an article block
(``block_id``, the ``block-<id>`` anchor), a phrasing, or a procedure step (``step_key``). Sent from inside
a run it is pinned to the run, the step and the revision the run was on; otherwise to the page's live
revision when it was sent. It goes to the content's owner (``ReviewMixin.maintainer``), else to the
trainers' group (``owner_group``). Every status change is a ``FeedbackLog`` row; the people told of it
get a ``FeedbackNotice`` (the site-wide inbox lists them beside follow-up notices).

Other apps count open feedback per page and step with ``Feedback.objects.open()``.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from kb_site.content.profiles import person_name

from .choices import OPEN_STATUSES, FeedbackKind, FeedbackStatus, NoticeKind

__all__ = ["Feedback", "FeedbackLog", "FeedbackNotice"]

TEXT_MAX_LENGTH = 2000


class FeedbackQuerySet(models.QuerySet):
    def open(self):
        """Feedback still waiting: 待处理 or 需补充信息."""
        return self.filter(status__in=OPEN_STATUSES)

    def assigned_to(self, user):
        """Feedback whose owner is ``user``, or owned by a group ``user`` is in."""
        return self.filter(
            models.Q(owner=user) | models.Q(owner__isnull=True, owner_group__in=user.groups.all())
        )


class Feedback(models.Model):
    """One agent's remark on a piece of content, and its handling by the content's owner."""

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="feedback_sent",
        verbose_name=_("反馈人"),
    )
    page = models.ForeignKey(
        "wagtailcore.Page",
        on_delete=models.CASCADE,
        related_name="feedback",
        verbose_name=_("页面"),
        help_text=_("反馈针对的规范文章或流程"),
    )
    block_id = models.CharField(
        _("文章段落"), max_length=64, blank=True, help_text=_("文章中段落的标识（锚点 block-<标识>）")
    )
    phrasing = models.ForeignKey(
        "content.Phrasing",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
        verbose_name=_("话术"),
    )
    step_key = models.CharField(_("流程步骤"), max_length=64, blank=True)
    run = models.ForeignKey(
        "procedures.ProcedureRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
        verbose_name=_("流程运行"),
        help_text=_("在运行中提交时，提交时所在的运行"),
    )
    revision = models.ForeignKey(
        "wagtailcore.Revision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("反馈时的版本"),
        help_text=_("运行中提交时为运行所用的版本，否则为提交时的线上版本"),
    )
    kind = models.CharField(_("类型"), max_length=20, choices=FeedbackKind.choices)
    text = models.TextField(_("内容"), max_length=TEXT_MAX_LENGTH)
    status = models.CharField(
        _("状态"), max_length=20, choices=FeedbackStatus.choices, default=FeedbackStatus.OPEN
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback_owned",
        verbose_name=_("负责人"),
        help_text=_("内容的负责培训师；没有时由培训师组处理"),
    )
    owner_group = models.ForeignKey(
        Group,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("负责组"),
    )
    fixed_revision = models.ForeignKey(
        "wagtailcore.Revision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修正版本"),
        help_text=_("修正了这条反馈的页面版本（比反馈时的版本新）"),
    )
    reject_reason = models.TextField(_("不采纳原因"), blank=True)
    question = models.TextField(_("追问"), blank=True, help_text=_("负责人请反馈人补充的信息"))
    answer = models.TextField(_("补充信息"), blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = FeedbackQuerySet.as_manager()

    class Meta:
        verbose_name = _("内容反馈")
        verbose_name_plural = _("内容反馈")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["page", "status"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["owner_group", "status"]),
            models.Index(fields=["reporter", "created_at"]),
        ]
        permissions = [("handle_feedback", "可处理内容反馈")]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.page.title}"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def owner_name(self):
        """Who handles it, as shown to the reporter: the owner's name, else the group's."""
        if self.owner_id:
            return person_name(self.owner)
        return self.owner_group.name if self.owner_group_id else ""

    @property
    def anchor(self):
        """The fragment that points at what the feedback is about on its page."""
        if self.step_key:
            return f"#step-{self.step_key}"
        if self.block_id:
            return f"#block-{self.block_id}"
        if self.phrasing_id:
            return f"#phrasing-{self.phrasing_id}"
        return ""

    @cached_property
    def content_url(self):
        """The page, at the block, phrasing or step the feedback is about."""
        url = self.page.url or ""
        return f"{url}{self.anchor}" if url else ""

    @cached_property
    def replay_seq(self):
        """Where the run's replay opens: its first event at the reported step, else (the step was still on
        screen when reported, and a step's event is written on leaving it) the run's last event; None
        for a run with no events yet."""
        if not self.run_id:
            return None
        events = self.run.events.order_by("seq")
        event = events.filter(step_key=self.step_key).first() or events.last()
        return event.seq if event else None


class FeedbackLog(models.Model):
    """A status change of a feedback: who, when, from what to what, and the note given with it."""

    feedback = models.ForeignKey(
        Feedback, on_delete=models.CASCADE, related_name="log", verbose_name=_("反馈")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    from_status = models.CharField(_("原状态"), max_length=20, choices=FeedbackStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=FeedbackStatus.choices)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("反馈记录")
        verbose_name_plural = _("反馈记录")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


class FeedbackNotice(models.Model):
    """An in-app notice about a feedback: new feedback for its owner, a result or a question for its reporter."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="feedback_notices",
        verbose_name=_("收件人"),
    )
    feedback = models.ForeignKey(
        Feedback, on_delete=models.CASCADE, related_name="notices", verbose_name=_("反馈")
    )
    kind = models.CharField(_("类型"), max_length=20, choices=NoticeKind.choices)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("反馈提醒")
        verbose_name_plural = _("反馈提醒")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.feedback}"
