"""Quizzes: a question bank per section (``Question`` with its ``QuestionOption`` rows), quizzes that
draw from it (``Quiz``), and every attempt kept with its answers, time taken and quiz revision.

An attempt snapshots the questions it drew (stems, options in the order shown, which are right):
scoring, the result page and item analysis read the snapshot, so a later edit of a question never
changes a past attempt. ``AttemptAnswer`` keeps one row per question answered, for item analysis.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable, Revision, RevisionMixin

from ..choices import ONE_CORRECT, QuestionType

__all__ = ["AttemptAnswer", "Question", "QuestionOption", "Quiz", "QuizAttempt"]

MAX_COOLDOWN_MINUTES = 7 * 24 * 60


class Question(ClusterableModel):
    """A question in a section's bank; its options say which are right and what each one tests."""

    section = models.ForeignKey(
        "content.SectionPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("业务栏目"),
        help_text=_("题目属于哪个栏目的题库"),
    )
    type = models.CharField(
        _("题型"), max_length=20, choices=QuestionType.choices, default=QuestionType.SINGLE
    )
    stem = models.TextField(
        _("题干"),
        help_text=_("情景题写客户说的话，例如“客户说：‘我都打了三次电话了！’你怎么回答？”"),
    )
    procedure = models.ForeignKey(
        "procedures.ProcedurePage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("对应流程"),
        help_text=_("情景题或排序题对应的流程"),
    )
    step_key = models.CharField(
        _("对应步骤标识"), max_length=64, blank=True, help_text=_("情景题对应流程中的哪一步（步骤标识）")
    )
    explanation = models.TextField(_("解析"), blank=True, help_text=_("答题后显示的总体解析"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    panels = [
        FieldPanel("section"),
        FieldPanel("type"),
        FieldPanel("stem"),
        InlinePanel(
            "options",
            label=_("选项"),
            help_text=_("排序题按正确顺序填写（答题时会打乱）；填空题每个选项是一种可接受的答案"),
        ),
        MultiFieldPanel([FieldPanel("procedure"), FieldPanel("step_key")], heading=_("情景题")),
        FieldPanel("explanation"),
    ]

    class Meta:
        verbose_name = _("题目")
        verbose_name_plural = _("题库")
        ordering = ["section", "pk"]

    def __str__(self):
        stem = self.stem.replace("\n", " ")
        return stem if len(stem) <= 40 else stem[:39] + "…"

    def clean(self):
        super().clean()
        if self.type == QuestionType.SCENARIO and not self.procedure_id:
            raise ValidationError({"procedure": _("情景题要选择对应的流程。")})
        if self.step_key and self.procedure_id:
            procedure = self.procedure.specific
            keys = {step["key"] for step in procedure.to_procedure().steps} if procedure else set()
            if keys and self.step_key not in keys:
                raise ValidationError(
                    {
                        "step_key": _("流程中没有步骤“%(key)s”；可选：%(keys)s")
                        % {"key": self.step_key, "keys": "、".join(sorted(keys))}
                    }
                )

    def check_options(self, options):
        """Why ``options`` (dicts with ``text`` and ``correct``) do not fit this question's type, or None."""
        correct = sum(1 for o in options if o["correct"])
        if self.type == QuestionType.FILL:
            return None if options else _("填写题至少要有一个可接受的答案。")
        if len(options) < 2:
            return _("至少要有两个选项。")
        if self.type == QuestionType.ORDERING:
            return None
        if self.type == QuestionType.TRUE_FALSE and len(options) != 2:
            return _("判断题只有两个选项（对 / 错）。")
        if self.type in ONE_CORRECT and correct != 1:
            return _("这种题型要有且只有一个正确选项。")
        if self.type == QuestionType.MULTIPLE and correct < 1:
            return _("多选题至少要有一个正确选项。")
        return None

    def snapshot(self):
        """The question as an attempt keeps it (options in the question's own order)."""
        return {
            "id": self.pk,
            "type": self.type,
            "stem": self.stem,
            "explanation": self.explanation,
            "procedure": self.procedure_id,
            "step_key": self.step_key,
            "options": [option.snapshot() for option in self.options.all()],
        }


class QuestionOption(Orderable):
    question = ParentalKey(Question, on_delete=models.CASCADE, related_name="options")
    text = models.CharField(_("选项内容"), max_length=500)
    correct = models.BooleanField(_("正确"), default=False)
    explanation = models.TextField(_("选项解析"), blank=True, help_text=_("为什么对或错；答题后显示"))
    cite_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("依据页面"),
        help_text=_("这个选项考的规范文章或流程"),
    )
    cite_anchor = models.CharField(
        _("依据位置"),
        max_length=80,
        blank=True,
        help_text=_("页面中的位置：文章段落的锚点或流程步骤标识（如 step-confirm）"),
    )
    cite_phrasing = models.ForeignKey(
        "content.Phrasing",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("依据话术"),
    )

    panels = [
        FieldPanel("text"),
        FieldPanel("correct"),
        FieldPanel("explanation"),
        FieldPanel("cite_page"),
        FieldPanel("cite_anchor"),
        FieldPanel("cite_phrasing"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("选项")
        verbose_name_plural = _("选项")

    def __str__(self):
        return self.text

    def cite_url(self):
        """Where the option's explanation points: the exact article block, procedure step or phrasing."""
        if self.cite_page_id and self.cite_page is not None:
            url = self.cite_page.url or ""
            if url and self.cite_anchor:
                anchor = self.cite_anchor.lstrip("#")
                url += "#" + (anchor if anchor.startswith(("step-", "block-")) else f"step-{anchor}")
            return url
        if self.cite_phrasing_id and self.cite_phrasing is not None and self.cite_phrasing.section_id:
            return self.cite_phrasing.url_in_section(self.cite_phrasing.section)
        return ""

    def cite_label(self):
        if self.cite_page_id and self.cite_page is not None:
            return self.cite_page.title
        if self.cite_phrasing_id and self.cite_phrasing is not None:
            return str(self.cite_phrasing)
        return ""

    def snapshot(self):
        return {
            "id": self.pk,
            "text": self.text,
            "correct": self.correct,
            "explanation": self.explanation,
            "cite_url": self.cite_url(),
            "cite_label": self.cite_label(),
        }


class Quiz(RevisionMixin, ClusterableModel):
    """A quiz: questions drawn at random from a section's bank (or a chosen list), a pass mark, an
    attempt limit and a cooldown between attempts."""

    title = models.CharField(_("名称"), max_length=120, help_text=_("例如“投诉受理话术考核”"))
    section = models.ForeignKey(
        "content.SectionPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("题库栏目"),
        help_text=_("没有指定题目时，从这个栏目的题库中抽题"),
    )
    questions = ParentalManyToManyField(
        Question,
        blank=True,
        related_name="quizzes",
        verbose_name=_("指定题目"),
        help_text=_("留空则从栏目题库抽题"),
    )
    draw_count = models.PositiveSmallIntegerField(
        _("每次抽题数"),
        default=10,
        validators=[MaxValueValidator(100)],
        help_text=_("每次作答随机抽取的题数（最多 100）；0 或题库中的题目不够时全部出"),
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("及格分"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("百分制（1–100）；留空则用培训设置中的默认及格分"),
    )
    attempt_limit = models.PositiveSmallIntegerField(
        _("作答次数上限"),
        default=3,
        validators=[MaxValueValidator(50)],
        help_text=_("0 表示不限次数；最多 50"),
    )
    cooldown_minutes = models.PositiveIntegerField(
        _("两次作答间隔（分钟）"),
        default=30,
        validators=[MaxValueValidator(MAX_COOLDOWN_MINUTES)],
        help_text=_("未通过后要等这么久才能再答；0 表示不用等，最多 10080（一周）"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    panels = [
        FieldPanel("title"),
        FieldPanel("section"),
        FieldPanel("questions"),
        FieldPanel("draw_count"),
        MultiFieldPanel(
            [FieldPanel("pass_mark"), FieldPanel("attempt_limit"), FieldPanel("cooldown_minutes")],
            heading=_("规则"),
        ),
    ]

    class Meta:
        verbose_name = _("测验")
        verbose_name_plural = _("测验")
        ordering = ["title"]

    def __str__(self):
        return self.title

    def bank(self):
        """The questions this quiz draws from."""
        chosen = Question.objects.filter(quizzes=self) if self.pk else Question.objects.none()
        if chosen.exists():
            return chosen
        if self.section_id:
            return Question.objects.filter(section_id=self.section_id)
        return Question.objects.none()


class QuizAttempt(models.Model):
    """One attempt at a quiz: the questions drawn (a snapshot), the answers, the score and the time."""

    id = models.UUIDField(_("编号"), primary_key=True, default=uuid.uuid4, editable=False)
    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("测验"))
    quiz_title = models.CharField(_("测验名称"), max_length=120)
    revision = models.ForeignKey(
        Revision,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("测验版本"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="quiz_attempts",
        verbose_name=_("学员"),
    )
    drawn = models.JSONField(_("抽到的题目"), default=list, editable=False)
    answers = models.JSONField(_("答案"), default=dict, blank=True)
    pass_mark = models.PositiveSmallIntegerField(_("及格分"))
    score = models.FloatField(_("得分"), null=True, blank=True)
    passed = models.BooleanField(_("通过"), null=True)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    submitted_at = models.DateTimeField(_("交卷时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("测验记录")
        verbose_name_plural = _("测验记录")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "quiz"])]

    def __str__(self):
        return f"{self.quiz_title} · {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"

    @property
    def is_submitted(self):
        return self.submitted_at is not None

    @property
    def seconds(self):
        if self.submitted_at is None:
            return None
        return max(round((self.submitted_at - self.started_at).total_seconds()), 0)


class AttemptAnswer(models.Model):
    """One question answered in one attempt, for item analysis (which questions, and which wrong
    options, trainees choose)."""

    attempt = models.ForeignKey(QuizAttempt, on_delete=models.CASCADE, related_name="answer_rows")
    question = models.ForeignKey(
        Question, null=True, on_delete=models.SET_NULL, related_name="answers", verbose_name=_("题目")
    )
    chosen = models.JSONField(_("所选"), default=list, blank=True)
    text = models.CharField(_("填写内容"), max_length=500, blank=True)
    correct = models.BooleanField(_("答对"))

    class Meta:
        verbose_name = _("答题记录")
        verbose_name_plural = _("答题记录")
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="unique_answer_per_question")
        ]
