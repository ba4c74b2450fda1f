"""The fixed vocabularies of follow-ups, as ``TextChoices`` (the rule vocabulary, kinds and due units,
belongs to procedures: rules are part of a procedure)."""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from procedures.choices import FollowUpKind, Priority

__all__ = ["AttemptResult", "FollowUpKind", "NoticeKind", "Priority", "Status"]


class Status(TextChoices):
    OPEN = "open", _("待处理")
    IN_PROGRESS = "in_progress", _("进行中")
    DONE = "done", _("已完成")
    UNREACHABLE = "unreachable", _("无法联系")
    ESCALATED = "escalated", _("已升级")
    CANCELLED = "cancelled", _("已取消")


OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)
CLOSED_STATUSES = (Status.DONE, Status.UNREACHABLE, Status.ESCALATED, Status.CANCELLED)


class AttemptResult(TextChoices):
    ANSWERED = "answered", _("已接通")
    NO_ANSWER = "no_answer", _("未接通")
    SWITCHED_OFF = "switched_off", _("关机")
    INVALID_NUMBER = "invalid_number", _("空号")
    REJECTED = "rejected", _("拒接")
    RESCHEDULE = "reschedule", _("约定时间再联系")


# Attempts that did not reach the customer (count towards 无法联系).
FAILED_ATTEMPTS = (
    AttemptResult.NO_ANSWER,
    AttemptResult.SWITCHED_OFF,
    AttemptResult.INVALID_NUMBER,
    AttemptResult.REJECTED,
)


class NoticeKind(TextChoices):
    ASSIGNED = "assigned", _("分配给我")
    DUE_SOON = "due_soon", _("即将到期")
    OVERDUE = "overdue", _("已超时")
    ESCALATED = "escalated", _("升级给我")
    UNREACHABLE = "unreachable", _("无法联系")
