"""The fixed vocabularies of training, as ``TextChoices``."""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class ItemKind(TextChoices):
    READ = "read", _("阅读确认")
    PHRASINGS = "phrasings", _("话术学习")
    QUIZ = "quiz", _("测验")
    PRACTICE = "practice", _("流程练习")
    OFFLINE = "offline", _("线下任务")


class ConfirmationKind(TextChoices):
    """Why a ``ReadConfirmation`` was recorded: a trainee's read-and-confirm, or an agent acknowledging a
    change notice (``changes``); only the first is evidence that a path's reading item was done."""

    READ = "read", _("阅读确认")
    CHANGE = "change", _("变更确认")


class Gate(TextChoices):
    """What lets a trainee past a stage."""

    ALL_DONE = "all_done", _("完成本阶段全部项目")
    MENTOR = "mentor", _("完成后由带教老师确认")


class Status(TextChoices):
    """An item's (or a path's) status. 逾期 is never stored: it is shown for late unfinished items."""

    NOT_STARTED = "not_started", _("未开始")
    IN_PROGRESS = "in_progress", _("进行中")
    OVERDUE = "overdue", _("逾期")
    FAILED = "failed", _("未通过")
    DONE = "done", _("已完成")
    SIGNED_OFF = "signed_off", _("带教确认")
    RELEARN = "relearn", _("需重学")


FINISHED = (Status.DONE, Status.SIGNED_OFF)
# What a manual change may set (逾期 is derived, never set).
SETTABLE = [s for s in Status if s != Status.OVERDUE]


class QuestionType(TextChoices):
    SINGLE = "single", _("单选")
    MULTIPLE = "multiple", _("多选")
    TRUE_FALSE = "true_false", _("判断")
    ORDERING = "ordering", _("排序")
    FILL = "fill", _("填写关键话术")
    COMPLIANT = "compliant", _("选出合规话术")
    SCENARIO = "scenario", _("情景题")


# Types answered by choosing exactly one option.
ONE_CORRECT = (QuestionType.SINGLE, QuestionType.TRUE_FALSE, QuestionType.COMPLIANT, QuestionType.SCENARIO)
