"""The fixed vocabularies of feedback, as ``TextChoices``."""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

__all__ = ["FeedbackKind", "FeedbackStatus", "NoticeKind", "OPEN_STATUSES"]


class FeedbackKind(TextChoices):
    ERROR = "error", _("错误")
    OUTDATED = "outdated", _("过时")
    UNCLEAR = "unclear", _("不清楚")
    MISSING = "missing", _("缺内容")
    SUGGESTION = "suggestion", _("建议")


class FeedbackStatus(TextChoices):
    OPEN = "open", _("待处理")
    NEEDS_INFO = "needs_info", _("需补充信息")
    FIXED = "fixed", _("已修正")
    REJECTED = "rejected", _("不采纳")


# Feedback still waiting on someone (the owner, or the reporter's answer): what "open" counts.
OPEN_STATUSES = (FeedbackStatus.OPEN, FeedbackStatus.NEEDS_INFO)


class NoticeKind(TextChoices):
    NEW = "new", _("新反馈")
    ANSWERED = "answered", _("已补充信息")
    FIXED = "fixed", _("已修正")
    REJECTED = "rejected", _("不采纳")
    QUESTION = "question", _("需补充信息")
