"""StreamField blocks for guided procedures: the variables a run collects and the steps.

Each step kind is one block type (说明 / 判断 / 采集 / 规则 / 结果) with a stable ``key`` that
other steps point to. ``StepStreamBlock.clean`` runs the graph validation of
``procedures.graph`` so the admin shows every problem on the offending step.
"""

from django import forms
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.stream_block import StreamBlockValidationError
from wagtail.blocks.struct_block import StructBlockValidationError

from kb_site.content.blocks import RICH_FEATURES, PhrasingBlock
from kb_site.content.richtext import SafeRichTextBlock

from . import graph
from .choices import AssignTo, DueUnit, FollowUpKind, Operator, Priority, StepKind, VariableType

KEY_HELP = _("自动生成，保存后不再改变；其他步骤按标题选择这一步，无需填写")
TARGET_HELP = _("从本流程的步骤中按标题选择，也可以在这里新建一个步骤")

key_validator = RegexValidator(graph.KEY_RE, _("只能用英文字母、数字和连字符，例如 ask-package"))


FLOW_EDITOR_MEDIA = {"js": ["procedures/flow-editor.js"], "css": {"all": ["procedures/flow-editor.css"]}}


class StepKeyInput(forms.TextInput):
    """The key as a muted label over a hidden input: ``flow-editor.js`` fills an empty key (and a duplicated
    step's copied key) with ``s-`` and six hex digits, as ``graph.new_key`` does on save."""

    template_name = "procedures/admin/step_key_widget.html"

    class Media:
        js = FLOW_EDITOR_MEDIA["js"]
        css = FLOW_EDITOR_MEDIA["css"]


class StepTargetInput(forms.TextInput):
    """A picker of the procedure's own steps by title (with ＋ 新建步骤…) over a hidden input holding the key."""

    template_name = "procedures/admin/step_target_widget.html"

    class Media:
        js = FLOW_EDITOR_MEDIA["js"]
        css = FLOW_EDITOR_MEDIA["css"]


class StepKeyBlock(blocks.CharBlock):
    """A step's stable key: generated (in the editor when the step is added, else on save), never typed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("required", False)
        kwargs.setdefault("validators", [key_validator])
        super().__init__(**kwargs)
        self.field.widget = StepKeyInput()


class StepTargetBlock(blocks.CharBlock):
    """Where an arrow leads: the key of another step of the same procedure, picked by its title."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)
        self.field.widget = StepTargetInput()


def target_block(label=_("下一步"), help_text=TARGET_HELP, **kwargs):
    return StepTargetBlock(label=label, help_text=help_text, **kwargs)


class StepPhrasingBlock(PhrasingBlock):
    """A phrasing in a step, which the trainer can mark 必说: the agent ticks it once said."""

    must_say = blocks.BooleanBlock(
        required=False,
        default=False,
        label=_("必说"),
        help_text=_("坐席必须说这句话：运行时要勾选“已说”，报表统计勾选率"),
    )

    class Meta:
        label = _("标准话术")


def phrasings_block(label=_("标准话术"), help_text=_("这一步要说的话术，运行时填入变量并可一键复制")):
    return blocks.ListBlock(StepPhrasingBlock(), required=False, default=[], label=label, help_text=help_text)


class VariableBlock(blocks.StructBlock):
    """A value the run collects (from the link that starts it, or an input step)."""

    name = blocks.CharBlock(
        max_length=20, label=_("变量名"), help_text=_("在文字和话术中写作 {变量名}，例如 客户称呼、订单号")
    )
    label = blocks.CharBlock(
        required=False, max_length=60, label=_("显示名称"), help_text=_("可选，留空则显示变量名")
    )
    type = blocks.ChoiceBlock(
        choices=VariableType.choices,
        default=VariableType.TEXT,
        label=_("类型"),
        help_text=_("填写时按类型检查；规则步骤按类型比较"),
    )
    choices = blocks.ListBlock(
        blocks.CharBlock(label=_("选项")),
        required=False,
        default=[],
        label=_("选项"),
        help_text=_("类型为“选项”时的可选值"),
    )
    required = blocks.BooleanBlock(
        required=False,
        default=False,
        label=_("必填"),
        help_text=_("必须填写：由输入步骤采集的在那一步必填；没有步骤采集的在开始时必填"),
    )

    class Meta:
        icon = "form"
        label = _("变量")
        description = _("流程收集的一项信息，如客户称呼、订单号；文字和话术中写 {变量名} 即可填入")
        preview_value = {"name": "订单号", "label": "", "type": VariableType.TEXT, "required": True}

    def clean(self, value):
        value = super().clean(value)
        if value.get("type") == VariableType.CHOICE and not value.get("choices"):
            raise StructBlockValidationError(
                block_errors={"choices": ValidationError(_("“选项”类型需要至少一个选项。"))}
            )
        return value


class VariablesStreamBlock(blocks.StreamBlock):
    """A procedure's variables; names must be unique."""

    variable = VariableBlock()

    class Meta:
        description = _("流程收集的信息，如客户称呼、订单号")

    def clean(self, value):
        value = super().clean(value)
        seen = set()
        errors = {}
        for index, child in enumerate(value):
            name = child.value.get("name")
            if name in seen:
                errors[index] = StructBlockValidationError(
                    block_errors={"name": ValidationError(_("变量名“%(name)s”重复了。") % {"name": name})}
                )
            seen.add(name)
        if errors:
            raise StreamBlockValidationError(block_errors=errors)
        return value


class AnswerBlock(blocks.StructBlock):
    label = blocks.CharBlock(max_length=80, label=_("回答"), help_text=_("按钮上的文字，例如“完好”"))
    next = target_block()

    class Meta:
        icon = "arrow-right"
        label = _("回答")
        description = _("判断步骤的一个回答按钮，和它通往的步骤")


class BranchBlock(blocks.StructBlock):
    variable = blocks.CharBlock(max_length=20, label=_("变量"), help_text=_("按哪个变量判断（变量名）"))
    op = blocks.ChoiceBlock(
        choices=Operator.choices,
        default=Operator.EQ,
        label=_("比较"),
        help_text=_("数字可用全部比较；选项/文字用 =、≠；日期用“距今”天数"),
    )
    value = blocks.CharBlock(max_length=80, label=_("比较值"), help_text=_("数字、选项值或天数"))
    next = target_block()

    class Meta:
        icon = "arrow-right"
        label = _("分支")
        description = _("规则步骤的一个条件：变量满足比较时去往的步骤")


class FollowUpRuleBlock(blocks.StructBlock):
    """A follow-up the step leaves behind when a run goes through it (a promise made there, or an outcome
    that needs a callback): what, by when, for whom, and which procedure working it runs."""

    title = blocks.CharBlock(
        max_length=100, label=_("跟进事项"), help_text=_("例如“3 天内回访处理结果”“两小时内回电”")
    )
    kind = blocks.ChoiceBlock(choices=FollowUpKind.choices, default=FollowUpKind.CALLBACK, label=_("类型"))
    amount = blocks.IntegerBlock(min_value=1, max_value=1000, label=_("期限数量"), help_text=_("例如 3"))
    unit = blocks.ChoiceBlock(
        choices=DueUnit.choices,
        default=DueUnit.DAYS,
        label=_("期限单位"),
        help_text=_("工作日按中国法定节假日和调休计算（可在后台的工作日历中补充）"),
    )
    before_hour = blocks.IntegerBlock(
        required=False,
        min_value=1,
        max_value=23,
        label=_("当天几点前"),
        help_text=_("可选，只用于“天”或“工作日”：例如 18 表示到期那天 18:00 前"),
    )
    assign_to = blocks.ChoiceBlock(choices=AssignTo.choices, default=AssignTo.AGENT, label=_("交给"))
    group = blocks.CharBlock(
        required=False,
        max_length=150,
        label=_("组或角色名称"),
        help_text=_("交给一个组或角色时填写，例如“主管”“售后组”"),
    )
    priority = blocks.ChoiceBlock(choices=Priority.choices, default=Priority.NORMAL, label=_("优先级"))
    procedure = blocks.PageChooserBlock(
        page_type="procedures.ProcedurePage",
        required=False,
        label=_("跟进时运行的流程"),
        help_text=_("例如回访流程：处理跟进时按它一步步走，并带入本次通话的信息"),
    )

    class Meta:
        icon = "date"
        label = _("跟进规则")
        description = _("运行经过这一步后，要在期限内完成的回访、回电或转交")

    def clean(self, value):
        value = super().clean(value)
        errors = {}
        if value.get("before_hour") and value.get("unit") not in (DueUnit.DAYS, DueUnit.WORKDAYS):
            errors["before_hour"] = ValidationError(
                _("“当天几点前”只能和“天”或“工作日”一起用，否则算不出期限。")
            )
        if value.get("assign_to") == AssignTo.GROUP:
            name = (value.get("group") or "").strip()
            if not name:
                errors["group"] = ValidationError(_("交给一个组或角色时，要填写它的名称。"))
            elif not Group.objects.filter(name=name).exists():
                names = "、".join(Group.objects.order_by("name").values_list("name", flat=True))
                errors["group"] = ValidationError(
                    _("没有名为“%(name)s”的组；现有：%(names)s") % {"name": name, "names": names}
                )
        if errors:
            raise StructBlockValidationError(block_errors=errors)
        return value


def follow_ups_block():
    return blocks.ListBlock(
        FollowUpRuleBlock(),
        required=False,
        default=[],
        label=_("跟进规则"),
        help_text=_("可选：运行经过这一步后自动生成的跟进（回访、承诺回电等）"),
    )


def follow_up_dict(value):
    """A rule as the run's snapshot keeps it (plain data: the procedure by id)."""
    procedure = value.get("procedure")
    return {
        "title": value.get("title") or "",
        "kind": value.get("kind") or FollowUpKind.CALLBACK,
        "amount": value.get("amount"),
        "unit": value.get("unit") or DueUnit.DAYS,
        "before_hour": value.get("before_hour"),
        "assign_to": value.get("assign_to") or AssignTo.AGENT,
        "group": (value.get("group") or "").strip(),
        "priority": value.get("priority") or Priority.NORMAL,
        "procedure": getattr(procedure, "pk", procedure) if procedure else None,
    }


class StepBlock(blocks.StructBlock):
    """What every step has: a stable key other steps point to, a title, what to do and what to say.

    Each step kind extends it; a kind without text or phrasings (规则) sets them to ``None``.
    """

    key = StepKeyBlock(label=_("步骤标识"), help_text=KEY_HELP)
    title = blocks.CharBlock(
        max_length=200, label=_("标题"), help_text=_("这一步在屏幕上的标题，例如“外包装是否完好？”")
    )
    target_seconds = blocks.IntegerBlock(
        required=False,
        min_value=5,
        max_value=3600,
        label=_("目标用时（秒）"),
        help_text=_("可选：这一步通常应在多少秒内完成；超过时坐席的计时变为琥珀色，报表按它对比"),
    )
    text = SafeRichTextBlock(
        required=False,
        features=RICH_FEATURES,
        label=_("说明"),
        help_text=_("坐席在这一步要做什么；可用 {客户称呼} 这样的变量，运行时自动填入"),
    )
    phrasings = phrasings_block()
    follow_ups = follow_ups_block()


class InstructionStepBlock(StepBlock):
    """说明: tell the agent what to do or say, optionally with a checklist to tick."""

    checklist = blocks.ListBlock(
        blocks.CharBlock(label=_("检查项")),
        required=False,
        default=[],
        label=_("检查清单"),
        help_text=_("可选：必须全部勾选才能继续，例如“已核对订单号”"),
    )
    next = target_block()

    class Meta:
        icon = "doc-full"
        label = StepKind.INSTRUCTION.label
        description = _("告诉坐席做什么、说什么，可带必须勾选的检查清单，然后继续下一步")
        preview_value = {
            "key": "greet",
            "title": "问候并确认来意",
            "checklist": ["已核对订单号"],
            "next": "ask",
        }


class QuestionStepBlock(StepBlock):
    """判断: ask a question; each answer leads to a step."""

    answers = blocks.ListBlock(
        AnswerBlock(), min_num=1, label=_("回答"), help_text=_("每个回答是一个大按钮，按 1–9 选择")
    )

    class Meta:
        icon = "help"
        label = StepKind.QUESTION.label
        description = _("问一个问题，每个回答通往一个步骤")
        preview_value = {
            "key": "ask-package",
            "title": "外包装是否完好？",
            "answers": [{"label": "完好", "next": "collect"}, {"label": "破损", "next": "damaged"}],
        }


class InputStepBlock(StepBlock):
    """采集: ask for variable values, checked by type."""

    variables = blocks.ListBlock(
        blocks.CharBlock(max_length=20, label=_("变量名")),
        min_num=1,
        label=_("采集的变量"),
        help_text=_("填写流程变量中定义的变量名"),
    )
    next = target_block()

    class Meta:
        icon = "form"
        label = StepKind.INPUT.label
        description = _("让坐席填写流程变量（按类型检查），例如订单号、金额")
        preview_value = {
            "key": "collect",
            "title": "记录订单信息",
            "variables": ["订单号"],
            "next": "by-amount",
        }


class RuleStepBlock(StepBlock):
    """规则: branch on variables without asking; the first matching branch wins."""

    text = None
    phrasings = None
    follow_ups = None
    branches = blocks.ListBlock(
        BranchBlock(), min_num=1, label=_("分支"), help_text=_("从上到下检查，第一个满足的分支生效")
    )
    default = target_block(label=_("其他情况"), help_text=_("没有分支满足时去哪一步"))

    class Meta:
        icon = "cogs"
        label = StepKind.RULE.label
        description = _("按变量自动分流，不问坐席：从上到下第一个满足的分支生效")
        preview_value = {
            "key": "by-amount",
            "title": "按少货金额分流",
            "branches": [{"variable": "少货金额", "op": Operator.LTE, "value": "50", "next": "refund"}],
            "default": "reship",
        }


class SubprocedureStepBlock(StepBlock):
    """子流程: run another procedure (identity check, special handling) inside this run, then come back."""

    text = None
    phrasings = None
    follow_ups = None
    procedure = blocks.PageChooserBlock(
        page_type="procedures.ProcedurePage",
        label=_("运行的流程"),
        help_text=_("进入时按它当时的发布版本运行，记录在同一次运行里；它走到结果后回到这里的下一步"),
    )
    next = target_block(label=_("完成后下一步"))

    class Meta:
        icon = "redirect"
        label = StepKind.SUBPROCEDURE.label
        description = _("在这一步运行另一个流程（例如身份核验），走完后回到本流程继续")
        preview_value = {"key": "verify", "title": "核验身份", "next": "ask"}


class OutcomeStepBlock(StepBlock):
    """结果: end the run with an outcome and a closing phrasing."""

    phrasings = phrasings_block(label=_("结束话术"), help_text=_("结束通话时说的话术"))
    outcome = blocks.CharBlock(
        max_length=50,
        label=_("结果"),
        help_text=_("已解决 / 已升级 / 已转接 / 客户放弃 / 无需处理，或本流程自定义的结果"),
    )
    continue_with = blocks.PageChooserBlock(
        page_type="procedures.ProcedurePage",
        required=False,
        label=_("接着进入的流程"),
        help_text=_("可选：以这个结果结束后，坐席可一键开始这个流程，已采集的同名变量自动带入"),
    )

    class Meta:
        icon = "success"
        label = StepKind.OUTCOME.label
        description = _("以一个结果结束这次运行，并给出结束话术")
        preview_value = {"key": "refund", "title": "退款处理", "outcome": "已解决"}


# Fields each step kind has, so a graph error lands on a field the step really shows.
ERROR_FIELDS = {
    StepKind.INSTRUCTION: {"next", "key"},
    StepKind.QUESTION: {"answers", "key"},
    StepKind.INPUT: {"variables", "next", "key"},
    StepKind.RULE: {"branches", "default", "key"},
    StepKind.SUBPROCEDURE: {"procedure", "next", "key"},
    StepKind.OUTCOME: {"outcome", "key"},
}


def _page_id(page):
    return getattr(page, "pk", page) if page else None


def step_dict(block_type, value):
    """A step block's value as the plain dict ``procedures.graph`` and the engine work on."""
    step = {"kind": StepKind(block_type), "key": value.get("key") or "", "title": value.get("title") or ""}
    if "next" in value:
        step["next"] = value.get("next") or ""
    if block_type == StepKind.QUESTION:
        step["answers"] = [
            {"label": a.get("label"), "next": a.get("next")} for a in value.get("answers") or []
        ]
    if block_type == StepKind.INPUT:
        step["variables"] = [v for v in value.get("variables") or [] if v]
    if block_type == StepKind.RULE:
        step["branches"] = [
            {"variable": b.get("variable"), "op": b.get("op"), "value": b.get("value"), "next": b.get("next")}
            for b in value.get("branches") or []
        ]
        step["default"] = value.get("default") or ""
    if block_type == StepKind.INSTRUCTION:
        step["checklist"] = [c for c in value.get("checklist") or [] if c]
    if block_type == StepKind.SUBPROCEDURE:
        step["procedure"] = _page_id(value.get("procedure"))
    if block_type == StepKind.OUTCOME:
        step["outcome"] = value.get("outcome") or ""
        if value.get("continue_with"):
            step["continue_with"] = _page_id(value.get("continue_with"))
    if value.get("target_seconds"):
        step["target_seconds"] = value.get("target_seconds")
    rules = [follow_up_dict(rule) for rule in value.get("follow_ups") or [] if rule]
    if rules:
        step["follow_ups"] = rules
    return step


def stream_to_steps(stream_value):
    return [step_dict(child.block_type, child.value) for child in stream_value]


def graph_errors_to_validation_error(errors, steps):
    """Group ``GraphError``s into the StreamBlockValidationError the admin shows per step."""
    by_index = {}
    general = []
    for error in errors:
        if error.index is None:
            general.append(ValidationError(str(error)))
            continue
        kind = steps[error.index].get("kind")
        field = error.field if error.field in ERROR_FIELDS.get(kind, ()) else "key"
        by_index.setdefault(error.index, {}).setdefault(field, []).append(error.message)
    block_errors = {
        index: StructBlockValidationError(
            block_errors={field: ValidationError(" ".join(messages)) for field, messages in fields.items()}
        )
        for index, fields in by_index.items()
    }
    return StreamBlockValidationError(block_errors=block_errors, non_block_errors=general)


class StepStreamBlock(blocks.StreamBlock):
    """A procedure's steps, the first being the start; saving checks the whole graph."""

    instruction = InstructionStepBlock()
    question = QuestionStepBlock()
    input = InputStepBlock()
    rule = RuleStepBlock()
    subprocedure = SubprocedureStepBlock()
    outcome = OutcomeStepBlock()

    class Meta:
        min_num = 1
        block_counts = {}
        description = _("流程的步骤：第一个是起点，保存时检查每个箭头都指向存在的步骤")

    def clean(self, value):
        value = super().clean(value)
        taken = {child.value.get("key") for child in value}
        for child in value:
            if not child.value.get("key"):
                child.value["key"] = graph.new_key(taken)
                taken.add(child.value["key"])
        steps = stream_to_steps(value)
        errors = graph.validate(steps)
        if errors:
            raise graph_errors_to_validation_error(errors, steps)
        return value
