"""StreamField blocks for SOP articles (and reused by procedure steps)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.contrib.table_block.blocks import TableBlock
from wagtail.snippets.blocks import SnippetChooserBlock

from .richtext import SafeRichTextBlock

RICH_FEATURES = ["bold", "italic", "ol", "ul", "link", "document-link", "h3", "h4"]


class HeadingBlock(blocks.CharBlock):
    class Meta:
        icon = "title"
        template = "blocks/heading_block.html"
        label = _("标题")
        description = _("小节标题：把长文章分成坐席能快速跳读的几段")
        preview_value = "受理步骤"
        help_text = _("小节标题，会出现在文章目录中")


class StepItemBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("步骤"), help_text=_("这一步做什么，一句话"))
    detail = SafeRichTextBlock(
        required=False, features=RICH_FEATURES, label=_("说明"), help_text=_("可选：细节、注意事项")
    )

    class Meta:
        icon = "list-ol"
        label = _("步骤")
        description = _("编号步骤中的一步")


class StepsBlock(blocks.StructBlock):
    """An ordered list of steps, numbered in the page."""

    title = blocks.CharBlock(required=False, label=_("标题"), help_text=_("可选，例如“受理流程”"))
    steps = blocks.ListBlock(StepItemBlock(), label=_("步骤"), min_num=1)

    class Meta:
        icon = "list-ol"
        template = "blocks/steps_block.html"
        label = _("编号步骤")
        description = _("按顺序编号的操作步骤，例如受理流程")
        preview_value = {
            "title": "受理流程",
            "steps": [
                {"title": "问候并核实客户身份"},
                {"title": "记录诉求与订单号"},
                {"title": "告知处理时限"},
            ],
        }


class PhrasingStructValue(blocks.StructValue):
    def resolved_title(self):
        phrasing = self.get("phrasing")
        return self.get("label") or (phrasing.title if phrasing else "")

    def resolved_scenario(self):
        phrasing = self.get("phrasing")
        return self.get("scenario") or (phrasing.scenario if phrasing else "")

    def resolved_text(self):
        phrasing = self.get("phrasing")
        if phrasing is not None:
            return phrasing.text
        return self.get("text") or ""


class PhrasingBlock(blocks.StructBlock):
    """A standard phrasing (标准话术): pick a Phrasing snippet, or write one inline."""

    phrasing = SnippetChooserBlock(
        "content.Phrasing",
        required=False,
        label=_("话术库中的话术"),
        help_text=_("从话术库选择；与“直接填写”二选一"),
    )
    label = blocks.CharBlock(required=False, label=_("标题"), help_text=_("可选，留空则用话术库中的标题"))
    scenario = blocks.CharBlock(
        required=False, label=_("使用场景"), help_text=_("什么时候说，例如“客户情绪激动时”")
    )
    text = blocks.TextBlock(
        required=False,
        label=_("直接填写话术"),
        help_text=_("可用占位符，如 {客户称呼}、{工号}、{天数}"),
    )

    class Meta:
        icon = "openquote"
        template = "blocks/phrasing_block.html"
        label = _("标准话术")
        value_class = PhrasingStructValue
        description = _("一条标准话术：从话术库选择，或直接填写；页面上可一键复制")
        preview_value = {
            "label": "致歉话术",
            "scenario": "客户情绪激动时",
            "text": "{客户称呼}您好，给您添麻烦了，非常抱歉。",
        }

    def clean(self, value):
        value = super().clean(value)
        has_snippet = value.get("phrasing") is not None
        has_text = bool((value.get("text") or "").strip())
        if has_snippet == has_text:
            message = _("请选择一条话术库中的话术，或直接填写话术（二选一）。")
            raise StructBlockValidationError(block_errors={"text": ValidationError(message)})
        return value

    def get_searchable_content(self, value):
        return [value.resolved_title(), value.resolved_scenario(), value.resolved_text()]


class CalloutBlock(blocks.StructBlock):
    """Do / don't callouts (要点 / 禁忌)."""

    kind = blocks.ChoiceBlock(
        choices=[("do", _("要点")), ("dont", _("禁忌"))],
        default="do",
        label=_("类型"),
        help_text=_("要点：必须做到；禁忌：绝对不能做"),
    )
    items = blocks.ListBlock(blocks.CharBlock(label=_("条目")), label=_("条目"), min_num=1)

    class Meta:
        icon = "warning"
        template = "blocks/callout_block.html"
        label = _("要点 / 禁忌")
        description = _("必须做到的要点，或绝对不能做的禁忌")
        preview_value = {"kind": "dont", "items": ["不与客户争辩", "不承诺做不到的时限"]}


TIME_UNITS = [("minute", _("分钟")), ("hour", _("小时")), ("day", _("日")), ("workday", _("个工作日"))]


class TimeLimitRowValue(blocks.StructValue):
    def unit_label(self):
        return dict(TIME_UNITS).get(self.get("unit"), "")


class TimeLimitRowBlock(blocks.StructBlock):
    stage = blocks.CharBlock(label=_("环节"), help_text=_("例如“响应”“答复”“办结”“回访”"))
    amount = blocks.IntegerBlock(min_value=1, label=_("时限数值"))
    unit = blocks.ChoiceBlock(choices=TIME_UNITS, default="hour", label=_("单位"))
    note = blocks.CharBlock(required=False, label=_("说明"), help_text=_("可选：适用范围或起算点"))

    class Meta:
        icon = "time"
        label = _("时限")
        description = _("时限表中的一行：环节、时限和说明")
        value_class = TimeLimitRowValue


# Wagtail ships Handsontable's English only: the table's right-click menu gets its items named here.
TABLE_OPTIONS = {
    "contextMenu": {
        "items": {
            "row_above": {"name": "在上方插入行"},
            "row_below": {"name": "在下方插入行"},
            "separator1": "---------",
            "col_left": {"name": "在左侧插入列"},
            "col_right": {"name": "在右侧插入列"},
            "separator2": "---------",
            "remove_row": {"name": "删除行"},
            "remove_col": {"name": "删除列"},
            "separator3": "---------",
            "undo": {"name": "撤销"},
            "redo": {"name": "重做"},
        }
    },
}


class TimeLimitTableBlock(blocks.StructBlock):
    """A time-limit table, rendered as e.g. 10 分钟内响应 · 24 小时内答复."""

    title = blocks.CharBlock(required=False, label=_("标题"), help_text=_("可选，例如“投诉处理时限”"))
    rows = blocks.ListBlock(TimeLimitRowBlock(), label=_("时限"), min_num=1)

    class Meta:
        icon = "time"
        template = "blocks/time_limit_table_block.html"
        label = _("时限表")
        description = _("各环节的处理时限，例如 10 分钟内响应、24 小时内答复")
        preview_value = {
            "title": "投诉处理时限",
            "rows": [
                {"stage": "响应", "amount": 10, "unit": "minute", "note": ""},
                {"stage": "答复", "amount": 24, "unit": "hour", "note": "一般问题"},
            ],
        }

    def get_searchable_content(self, value):
        unit_labels = dict(TIME_UNITS)
        content = [value.get("title") or ""]
        for row in value["rows"]:
            content.append(
                f"{row['amount']} {unit_labels.get(row['unit'], '')}内{row['stage']} {row.get('note') or ''}"
            )
        return content


class ArticleStreamBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = SafeRichTextBlock(
        features=RICH_FEATURES,
        icon="pilcrow",
        label=_("正文"),
        template="blocks/paragraph_block.html",
        description=_("一段正文，可加粗、列表和链接"),
    )
    steps = StepsBlock()
    phrasing = PhrasingBlock()
    callout = CalloutBlock()
    time_limits = TimeLimitTableBlock()
    table = TableBlock(
        label=_("表格"),
        template="blocks/table_block.html",
        description=_("简单表格，例如收费标准或联系人"),
        table_options=TABLE_OPTIONS,
    )
