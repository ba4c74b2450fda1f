"""StreamField blocks for guided procedures: the variables a run collects and the steps.

Each step kind is one block type (说明 / 判断 / 采集 / 规则 / 结果) with a stable ``key`` that
other steps point to. ``StepStreamBlock.clean`` runs the graph validation of
``procedures.graph`` so the admin shows every problem on the offending step.
"""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.stream_block import StreamBlockValidationError
from wagtail.blocks.struct_block import StructBlockValidationError

from kb_site.content.blocks import RICH_FEATURES, PhrasingBlock

from . import graph

KEY_HELP = "稳定的英文标识（字母、数字、连字符），其他步骤用它指向这里，例如 ask-package"
TARGET_HELP = "下一步的步骤标识"

key_validator = RegexValidator(graph.KEY_RE, "只能用英文字母、数字和连字符，例如 ask-package")


def key_block(**kwargs):
    return blocks.CharBlock(
        max_length=64, validators=[key_validator], label=_("步骤标识"), help_text=KEY_HELP, **kwargs
    )


def target_block(label=_("下一步"), help_text=TARGET_HELP, **kwargs):
    return blocks.CharBlock(max_length=64, label=label, help_text=help_text, **kwargs)


def title_block():
    return blocks.CharBlock(
        max_length=200, label=_("标题"), help_text=_("这一步在屏幕上的标题，例如“外包装是否完好？”")
    )


def text_block():
    return blocks.RichTextBlock(
        required=False,
        features=RICH_FEATURES,
        label=_("说明"),
        help_text="坐席在这一步要做什么；可用 {客户称呼} 这样的变量，运行时自动填入",
    )


def phrasings_block(label=_("标准话术"), help_text=_("这一步要说的话术，运行时填入变量并可一键复制")):
    return blocks.ListBlock(PhrasingBlock(), required=False, default=[], label=label, help_text=help_text)


class VariableBlock(blocks.StructBlock):
    """A value the run collects (from the link that starts it, or an input step)."""

    name = blocks.CharBlock(
        max_length=20, label=_("变量名"), help_text="在文字和话术中写作 {变量名}，例如 客户称呼、订单号"
    )
    label = blocks.CharBlock(
        required=False, max_length=60, label=_("显示名称"), help_text=_("可选，留空则显示变量名")
    )
    type = blocks.ChoiceBlock(
        choices=[("text", "文字"), ("number", "数字"), ("date", "日期"), ("choice", "选项")],
        default="text",
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
        required=False, default=False, label=_("必填"), help_text=_("采集时必须填写")
    )

    class Meta:
        icon = "form"
        label = _("变量")

    def clean(self, value):
        value = super().clean(value)
        if value.get("type") == "choice" and not value.get("choices"):
            raise StructBlockValidationError(
                block_errors={"choices": ValidationError("“选项”类型需要至少一个选项。")}
            )
        return value


class VariablesStreamBlock(blocks.StreamBlock):
    variable = VariableBlock()

    def clean(self, value):
        value = super().clean(value)
        seen = set()
        errors = {}
        for index, child in enumerate(value):
            name = child.value.get("name")
            if name in seen:
                errors[index] = StructBlockValidationError(
                    block_errors={"name": ValidationError(f"变量名“{name}”重复了。")}
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


class BranchBlock(blocks.StructBlock):
    variable = blocks.CharBlock(max_length=20, label=_("变量"), help_text=_("按哪个变量判断（变量名）"))
    op = blocks.ChoiceBlock(
        choices=[
            ("eq", "等于"),
            ("ne", "不等于"),
            ("lt", "小于"),
            ("lte", "小于等于"),
            ("gt", "大于"),
            ("gte", "大于等于"),
            ("days_since_gt", "距今超过（天）"),
            ("days_since_lte", "距今不超过（天）"),
        ],
        default="eq",
        label=_("比较"),
        help_text=_("数字可用全部比较；选项/文字用等于、不等于；日期用“距今”天数"),
    )
    value = blocks.CharBlock(max_length=80, label=_("比较值"), help_text=_("数字、选项值或天数"))
    next = target_block()

    class Meta:
        icon = "arrow-right"
        label = _("分支")


class InstructionStepBlock(blocks.StructBlock):
    """说明: tell the agent what to do or say, optionally with a checklist to tick."""

    key = key_block()
    title = title_block()
    text = text_block()
    phrasings = phrasings_block()
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
        label = _("说明")


class QuestionStepBlock(blocks.StructBlock):
    """判断: ask a question; each answer leads to a step."""

    key = key_block()
    title = title_block()
    text = text_block()
    phrasings = phrasings_block()
    answers = blocks.ListBlock(
        AnswerBlock(), min_num=1, label=_("回答"), help_text=_("每个回答是一个大按钮，按 1–9 选择")
    )

    class Meta:
        icon = "help"
        label = _("判断")


class InputStepBlock(blocks.StructBlock):
    """采集: ask for variable values, checked by type."""

    key = key_block()
    title = title_block()
    text = text_block()
    phrasings = phrasings_block()
    variables = blocks.ListBlock(
        blocks.CharBlock(max_length=20, label=_("变量名")),
        min_num=1,
        label=_("采集的变量"),
        help_text=_("填写流程变量中定义的变量名"),
    )
    next = target_block()

    class Meta:
        icon = "form"
        label = _("采集")


class RuleStepBlock(blocks.StructBlock):
    """规则: branch on variables without asking; the first matching branch wins."""

    key = key_block()
    title = title_block()
    branches = blocks.ListBlock(
        BranchBlock(), min_num=1, label=_("分支"), help_text=_("从上到下检查，第一个满足的分支生效")
    )
    default = target_block(label=_("其他情况"), help_text=_("没有分支满足时去哪一步（步骤标识）"))

    class Meta:
        icon = "cogs"
        label = _("规则")


class OutcomeStepBlock(blocks.StructBlock):
    """结果: end the run with an outcome and a closing phrasing."""

    key = key_block()
    title = title_block()
    outcome = blocks.CharBlock(
        max_length=50,
        label=_("结果"),
        help_text=_("已解决 / 已升级 / 已转接 / 客户放弃 / 无需处理，或本流程自定义的结果"),
    )
    text = text_block()
    phrasings = phrasings_block(label=_("结束话术"), help_text=_("结束通话时说的话术"))

    class Meta:
        icon = "success"
        label = _("结果")


STEP_KINDS = {
    graph.INSTRUCTION: "说明",
    graph.QUESTION: "判断",
    graph.INPUT: "采集",
    graph.RULE: "规则",
    graph.OUTCOME: "结果",
}

# Fields each step kind has, so a graph error lands on a field the step really shows.
ERROR_FIELDS = {
    graph.INSTRUCTION: {"next", "key"},
    graph.QUESTION: {"answers", "key"},
    graph.INPUT: {"variables", "next", "key"},
    graph.RULE: {"branches", "default", "key"},
    graph.OUTCOME: {"outcome", "key"},
}


def step_dict(block_type, value):
    """A step block's value as the plain dict ``procedures.graph`` and the engine work on."""
    step = {"kind": block_type, "key": value.get("key") or "", "title": value.get("title") or ""}
    if "next" in value:
        step["next"] = value.get("next") or ""
    if block_type == graph.QUESTION:
        step["answers"] = [
            {"label": a.get("label"), "next": a.get("next")} for a in value.get("answers") or []
        ]
    if block_type == graph.INPUT:
        step["variables"] = [v for v in value.get("variables") or [] if v]
    if block_type == graph.RULE:
        step["branches"] = [
            {"variable": b.get("variable"), "op": b.get("op"), "value": b.get("value"), "next": b.get("next")}
            for b in value.get("branches") or []
        ]
        step["default"] = value.get("default") or ""
    if block_type == graph.INSTRUCTION:
        step["checklist"] = [c for c in value.get("checklist") or [] if c]
    if block_type == graph.OUTCOME:
        step["outcome"] = value.get("outcome") or ""
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
    instruction = InstructionStepBlock()
    question = QuestionStepBlock()
    input = InputStepBlock()
    rule = RuleStepBlock()
    outcome = OutcomeStepBlock()

    class Meta:
        min_num = 1
        block_counts = {}

    def clean(self, value):
        value = super().clean(value)
        steps = stream_to_steps(value)
        errors = graph.validate(steps)
        if errors:
            raise graph_errors_to_validation_error(errors, steps)
        return value
