"""The blocks a learning path is written in: stages, each with a gate and its items.

Every item is a block in a nested stream, so it keeps its block id across edits of the path: a
trainee's progress (``ItemProgress.item_id``) follows the item, wherever the trainer moves it.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

from .choices import Gate, ItemKind


def due_day_block():
    return blocks.IntegerBlock(
        label=_("期限（开始后第几天）"),
        required=False,
        min_value=0,
        max_value=365,
        help_text=_(
            "D+N：分配开始日期后第 N 天内完成，例如 3 表示 D+3；留空表示不设期限。期限只提示逾期，不会锁定"
        ),
    )


class ItemBlock(blocks.StructBlock):
    """What every item has: a due day. Each kind adds what it points at."""

    kind = None

    def item_title(self, value):
        raise NotImplementedError


class ReadItemBlock(ItemBlock):
    article = blocks.PageChooserBlock(
        page_type="content.ArticlePage", label=_("规范文章"), help_text=_("新员工读完并确认的文章")
    )
    min_seconds = blocks.IntegerBlock(
        label=_("最少阅读时间（秒）"),
        required=False,
        min_value=0,
        max_value=3600,
        help_text=_("留空则使用培训设置中的默认值"),
    )
    check_questions = blocks.ListBlock(
        SnippetChooserBlock("training.Question"),
        label=_("确认时的检查题"),
        max_num=3,
        min_num=0,
        help_text=_("可选，一到三道题，确认阅读时须答对"),
    )
    due_day = due_day_block()

    kind = ItemKind.READ

    class Meta:
        icon = "doc-full"
        label = _("阅读确认")
        description = _("阅读一篇规范文章，滚动到底并停留足够时间后确认")

    def item_title(self, value):
        return value["article"].title if value.get("article") else ""


class PhrasingsItemBlock(ItemBlock):
    title = blocks.CharBlock(label=_("名称"), max_length=120, help_text=_("例如“投诉受理五步话术”"))
    phrasings = blocks.ListBlock(SnippetChooserBlock("content.Phrasing"), label=_("要学的话术"), min_num=1)
    quiz = SnippetChooserBlock("training.Quiz", label=_("考核测验"), help_text=_("通过这份测验即完成本项"))
    due_day = due_day_block()

    kind = ItemKind.PHRASINGS

    class Meta:
        icon = "openquote"
        label = _("话术学习")
        description = _("学习一组标准话术，以测验考核")

    def item_title(self, value):
        return value.get("title", "")


class QuizItemBlock(ItemBlock):
    quiz = SnippetChooserBlock("training.Quiz", label=_("测验"))
    due_day = due_day_block()

    kind = ItemKind.QUIZ

    class Meta:
        icon = "help"
        label = _("测验")
        description = _("通过一份测验")

    def item_title(self, value):
        return value["quiz"].title if value.get("quiz") else ""


class PracticeItemBlock(ItemBlock):
    procedure = blocks.PageChooserBlock(page_type="procedures.ProcedurePage", label=_("流程"))
    passes = blocks.IntegerBlock(
        label=_("需要通过的练习次数"),
        required=False,
        min_value=1,
        max_value=20,
        help_text=_("留空则用路径的设置（默认 3 次）；达到次数后取得该流程的上岗资格"),
    )
    due_day = due_day_block()

    kind = ItemKind.PRACTICE

    class Meta:
        icon = "list-ol"
        label = _("流程练习")
        description = _("按情景卡练习真实流程，达到通过次数")

    def item_title(self, value):
        return value["procedure"].title if value.get("procedure") else ""


class OfflineItemBlock(ItemBlock):
    title = blocks.CharBlock(label=_("任务"), max_length=120, help_text=_("例如“跟岗 4 小时（报修专线）”"))
    description = blocks.TextBlock(label=_("说明"), required=False)
    due_day = due_day_block()

    kind = ItemKind.OFFLINE

    class Meta:
        icon = "user"
        label = _("线下任务")
        description = _("跟岗、试接等线下任务，由带教老师确认完成")

    def item_title(self, value):
        return value.get("title", "")


class StageItemsBlock(blocks.StreamBlock):
    read = ReadItemBlock()
    phrasings = PhrasingsItemBlock()
    quiz = QuizItemBlock()
    practice = PracticeItemBlock()
    offline = OfflineItemBlock()

    class Meta:
        min_num = 1


class StageBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("阶段名称"), max_length=60, help_text=_("例如“业务培训”“跟岗”“试接”"))
    gate = blocks.ChoiceBlock(
        choices=Gate.choices,
        default=Gate.ALL_DONE,
        label=_("过关条件"),
        help_text=_("“带教确认”的阶段，每一项都要带教老师确认后才算过关"),
    )
    items = StageItemsBlock(label=_("项目"))

    class Meta:
        icon = "folder-open-inverse"
        label = _("阶段")
        description = _("培训路径的一个阶段：若干项目和一个过关条件")

    def clean(self, value):
        value = super().clean(value)
        if not value.get("items"):
            raise ValidationError(_("每个阶段至少要有一个项目。"))
        return value


class StagesBlock(blocks.StreamBlock):
    stage = StageBlock()

    class Meta:
        min_num = 1
