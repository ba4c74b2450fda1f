"""The fixed vocabularies of procedures, as ``TextChoices``: one definition for the graph, the engine,
the blocks editors fill in and the run log's model fields.

Only Django's enum type is used here (no settings, no database), so the plain modules
(``graph``, ``engine``) can import it too.

Operator labels and the endings' outcomes are written into the run log (a rule's answer reads
``少货金额 ≤ 50``), so they are plain strings, not translated: a log line must not depend on the
language of the request that wrote it.
"""

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class StepKind(TextChoices):
    INSTRUCTION = "instruction", _("说明")
    QUESTION = "question", _("判断")
    INPUT = "input", _("采集")
    RULE = "rule", _("规则")
    SUBPROCEDURE = "subprocedure", _("子流程")
    OUTCOME = "outcome", _("结果")


class VariableType(TextChoices):
    TEXT = "text", _("文字")
    NUMBER = "number", _("数字")
    DATE = "date", _("日期")
    CHOICE = "choice", _("选项")


class Operator(TextChoices):
    """How a rule branch compares a variable with its value."""

    EQ = "eq", "="
    NE = "ne", "≠"
    LT = "lt", "<"
    LTE = "lte", "≤"
    GT = "gt", ">"
    GTE = "gte", "≥"
    DAYS_SINCE_GT = "days_since_gt", "距今超过（天）"
    DAYS_SINCE_LTE = "days_since_lte", "距今不超过（天）"


EQUALITY_OPS = (Operator.EQ, Operator.NE)
NUMBER_OPS = (*EQUALITY_OPS, Operator.LT, Operator.LTE, Operator.GT, Operator.GTE)
DATE_OPS = (Operator.DAYS_SINCE_GT, Operator.DAYS_SINCE_LTE)

# Which comparisons each variable type allows.
OPS_BY_TYPE = {
    VariableType.NUMBER: NUMBER_OPS,
    VariableType.CHOICE: EQUALITY_OPS,
    VariableType.TEXT: EQUALITY_OPS,
    VariableType.DATE: DATE_OPS,
}


class RunStatus(TextChoices):
    IN_PROGRESS = "in_progress", _("进行中")
    COMPLETED = "completed", _("已完成")
    ABANDONED = "abandoned", _("已中断")


class EventAction(TextChoices):
    """What one run event records the agent (or a rule, or an outcome step) did."""

    ANSWER = "answer", _("回答")
    NEXT = "next", _("继续")
    INPUT = "input", _("采集")
    RULE = "rule", _("规则判断")
    OUTCOME = "outcome", _("结果")
    BACK = "back", _("返回上一步")
    ESCALATE = "escalate", _("升级")
    TRANSFER = "transfer", _("转接")
    GIVE_UP = "give_up", _("客户放弃")


# The always-available endings, whatever the step, and the outcome each records on the run.
ENDING_OUTCOMES = {
    EventAction.ESCALATE: "已升级",
    EventAction.TRANSFER: "已转接",
    EventAction.GIVE_UP: "客户放弃",
}
ENDING_ACTIONS = tuple(ENDING_OUTCOMES)

# A procedure offers these outcomes unless it lists its own.
DEFAULT_OUTCOMES = ["已解决", *ENDING_OUTCOMES.values(), "无需处理"]

# Actions that move the run forward along its path (Back undoes them; endings leave it).
FORWARD_ACTIONS = (EventAction.ANSWER, EventAction.NEXT, EventAction.INPUT, EventAction.RULE)

# Buttons an agent may press on a step (an answer button posts ``answer`` instead).
AGENT_ACTIONS = (EventAction.NEXT, EventAction.BACK, *ENDING_ACTIONS)


# --- follow-up rules ------------------------------------------------------------------------------
# A step can say what follow-up it leaves behind (a callback, a promised call...): the rule is part of
# the procedure, versioned with it, and the follow-ups app carries it out when the run ends.


class FollowUpKind(TextChoices):
    CALLBACK = "callback", _("回访")
    ESCALATION = "escalation", _("升级")
    TRANSFER = "transfer", _("转接")
    PROMISED_CALL = "promised_call", _("承诺回电")
    REDO = "redo", _("重办")


class DueUnit(TextChoices):
    MINUTES = "minutes", _("分钟")
    HOURS = "hours", _("小时")
    DAYS = "days", _("天（自然日）")
    WORKDAYS = "workdays", _("工作日")


class AssignTo(TextChoices):
    AGENT = "agent", _("本次通话的坐席")
    GROUP = "group", _("一个组或角色")


class Priority(TextChoices):
    NORMAL = "normal", _("普通")
    URGENT = "urgent", _("紧急")


# The follow-up an always-available ending leaves (升级 and 转接 hand the case over; 客户放弃 asks for a
# callback only when a rule says so).
ENDING_FOLLOW_UP_KINDS = {
    EventAction.ESCALATE: FollowUpKind.ESCALATION,
    EventAction.TRANSFER: FollowUpKind.TRANSFER,
}
