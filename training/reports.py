"""Admin reports on training for trainers and supervisors: 培训进度 (one row per assignment) and 题目分析
(item analysis: one row per question answered in any attempt).

Each is a ``kb_site.reports.ColumnsReportView`` (CSV / XLSX export = the listed columns) registered as a
``ReportViewSet`` by ``wagtail_hooks`` (``report_viewsets``). Who may see them: whoever holds
``training.view_all_training`` (培训师, 主管), through ``training_permission_policy``.
"""

import dataclasses
from collections import Counter, defaultdict

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.permission_policies import ModelPermissionPolicy

from kb_site.content.models import SectionPage
from kb_site.reports import (
    ColumnsReportView,
    IdChoiceFilter,
    LocalTimeColumn,
    ReportViewSet,
    UserChoiceFilter,
    display_name,
)

from .choices import FINISHED, QuestionType, Status
from .models import AttemptAnswer, Cohort, LearningPath, PathAssignment, Question, QuestionOption, Quiz

__all__ = [
    "ItemAnalysisReportView",
    "TrainingProgressReportView",
    "item_analysis",
    "UNFINISHED",
    "overdue_count",
    "report_viewsets",
    "training_permission_policy",
]

VIEW_ALL = "view_all"
# Spelled out rather than ~Q(status__in=FINISHED): a negated condition on a related row inside an
# aggregate's filter may become a subquery about the parent ("has no finished item").
UNFINISHED = [status.value for status in Status if status not in FINISHED]


class TrainingPermissionPolicy(ModelPermissionPolicy):
    """Permissions on training: ``view_all`` is the custom ``training.view_all_training`` (declared on
    ``LearningPath``), held by trainers and supervisors."""

    codenames = {VIEW_ALL: "view_all_training"}

    def _get_permission_codename(self, action):
        return self.codenames.get(action) or super()._get_permission_codename(action)


training_permission_policy = TrainingPermissionPolicy(LearningPath)


def overdue_count(today=None):
    """An annotation for assignments: how many of their items are unfinished past their due date."""
    today = today or timezone.localdate()
    return Count("items", filter=Q(items__due_date__lt=today, items__status__in=UNFINISHED))


class TrainingReportMixin:
    permission_policy = training_permission_policy
    permission_required = VIEW_ALL
    export_name = "training"

    def get_filename(self):
        return f"training-{self.export_name}-{timezone.localdate():%Y-%m-%d}"


# --- 培训进度 ----------------------------------------------------------------------------------------


class ProgressFilterSet(WagtailFilterSet):
    path = IdChoiceFilter(label=_("培训路径"), queryset=LearningPath.objects.all())
    cohort = IdChoiceFilter(label=_("批次"), queryset=Cohort.objects.all())
    mentor = UserChoiceFilter(
        label=_("带教老师"),
        queryset=get_user_model().objects.filter(mentees__isnull=False).distinct().order_by("username"),
    )
    start_date = django_filters.DateFromToRangeFilter(label=_("开始日期"), widget=DateRangePickerWidget)

    class Meta:
        model = PathAssignment
        fields = ["path", "cohort", "mentor", "start_date"]


class TrainingProgressReportView(TrainingReportMixin, ColumnsReportView):
    """培训进度: each trainee on each path, where they are and how much is late."""

    model = PathAssignment
    page_title = _("培训进度")
    header_icon = "group"
    index_url_name = "training_progress:index"
    index_results_url_name = "training_progress:index_results"
    filterset_class = ProgressFilterSet
    export_name = "progress"
    columns = [
        Column("trainee", label=_("学员"), accessor="trainee_name"),
        Column("path", label=_("培训路径"), accessor=lambda a: a.path.title),
        Column("cohort", label=_("批次"), accessor=lambda a: a.cohort.name if a.cohort else ""),
        Column("mentor", label=_("带教老师"), accessor=lambda a: display_name(a.mentor)),
        LocalTimeColumn("start_date", label=_("开始日期")),
        Column("current_stage_title", label=_("当前阶段")),
        Column("finished_items", label=_("已完成项目")),
        Column("total_items", label=_("项目总数")),
        Column("percent", label=_("完成率（%）")),
        Column("overdue", label=_("逾期项目")),
        LocalTimeColumn("completed_at", label=_("完成时间")),
    ]

    def get_queryset(self):
        return (
            PathAssignment.objects.select_related("user", "path", "cohort", "mentor")
            .annotate(overdue=overdue_count())
            .order_by("-start_date", "user__username", "pk")
        )


# --- 题目分析 ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class QuestionFigures:
    """One question's figures over the answers analysed."""

    question_id: int
    stem: str
    section: str
    type_label: str
    answered: int
    wrong: int
    top_wrong: str
    top_wrong_count: int
    cites: str

    @property
    def percent_wrong(self):
        return round(100 * self.wrong / self.answered, 1) if self.answered else 0.0

    @property
    def top_wrong_display(self):
        return f"{self.top_wrong}（{self.top_wrong_count} 次）" if self.top_wrong else ""


def _wrong_counter(question, wrong_answers):
    """How often each wrong option (its text) was chosen in ``wrong_answers`` (``(chosen, text)`` pairs).

    A choice question counts the options chosen that are not right; a fill question the typed texts;
    an ordering question has no wrong option to name."""
    counter = Counter()
    if question.type == QuestionType.ORDERING:
        return counter
    if question.type == QuestionType.FILL:
        for _chosen, text in wrong_answers:
            if (text or "").strip():
                counter[text.strip()] += 1
        return counter
    options = {option.pk: option for option in question.options.all()}
    for chosen, _text in wrong_answers:
        for option_id in chosen if isinstance(chosen, list) else []:
            option = options.get(option_id)
            if option is not None and not option.correct:
                counter[option.text] += 1
    return counter


def item_analysis(answers):
    """Figures per question for ``answers`` (an ``AttemptAnswer`` queryset): answered, share wrong, the
    wrong option chosen most often and what the options cite; hardest questions first. Three queries,
    however many answers."""
    answers = answers.filter(question__isnull=False)
    counts = {
        row["question"]: row
        for row in answers.values("question")
        .annotate(answered=Count("pk"), wrong=Count("pk", filter=Q(correct=False)))
        .order_by()
    }
    if not counts:
        return []
    wrong = defaultdict(list)
    for question_id, chosen, text in answers.filter(correct=False).values_list(
        "question_id", "chosen", "text"
    ):
        wrong[question_id].append((chosen, text))
    questions = (
        Question.objects.filter(pk__in=counts)
        .select_related("section")
        .prefetch_related(
            Prefetch(
                "options",
                queryset=QuestionOption.objects.select_related("cite_page", "cite_phrasing").order_by(
                    "sort_order"
                ),
            )
        )
    )
    rows = []
    for question in questions:
        counter = _wrong_counter(question, wrong.get(question.pk, []))
        # Ties by text: the answers come in no order (PostgreSQL's differs from run to run).
        top = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:1]
        cites = dict.fromkeys(label for label in (o.cite_label() for o in question.options.all()) if label)
        rows.append(
            QuestionFigures(
                question_id=question.pk,
                stem=question.stem,
                section=question.section.title if question.section else "",
                type_label=question.get_type_display(),
                answered=counts[question.pk]["answered"],
                wrong=counts[question.pk]["wrong"],
                top_wrong=top[0][0] if top else "",
                top_wrong_count=top[0][1] if top else 0,
                cites="、".join(cites),
            )
        )
    rows.sort(key=lambda row: (-row.percent_wrong, -row.answered, row.question_id))
    return rows


class AnswerFilterSet(WagtailFilterSet):
    section = IdChoiceFilter(
        label=_("业务栏目"),
        queryset=SectionPage.objects.all().order_by("path"),
        field_name="question__section",
    )
    quiz = IdChoiceFilter(label=_("测验"), queryset=Quiz.objects.all(), field_name="attempt__quiz")
    submitted_at = django_filters.DateFromToRangeFilter(
        label=_("交卷日期"), field_name="attempt__submitted_at", widget=DateRangePickerWidget
    )

    class Meta:
        model = AttemptAnswer
        fields = ["section", "quiz", "submitted_at"]


class ItemAnalysisReportView(TrainingReportMixin, ColumnsReportView):
    """题目分析: which questions trainees get wrong, and which wrong option they choose."""

    model = AttemptAnswer
    page_title = _("题目分析")
    header_icon = "help"
    index_url_name = "training_items:index"
    index_results_url_name = "training_items:index_results"
    filterset_class = AnswerFilterSet
    export_name = "item-analysis"
    columns = [
        Column("stem", label=_("题干")),
        Column("section", label=_("业务栏目")),
        Column("type_label", label=_("题型")),
        Column("answered", label=_("作答次数")),
        Column("wrong", label=_("答错次数")),
        Column("percent_wrong", label=_("答错率（%）")),
        Column("top_wrong_display", label=_("最常选的错误选项")),
        Column("cites", label=_("选项依据")),
        Column("question_id", label=_("题目编号")),
    ]

    def get_queryset(self):
        return AttemptAnswer.objects.all()

    def get_filtered_queryset(self):
        return item_analysis(self.filter_queryset(self.get_queryset()))


def _report(slug, view_class, order):
    return ReportViewSet(
        f"training_{slug}", view_class=view_class, url_prefix=f"reports/training/{slug}", menu_order=order
    )


def report_viewsets():
    """Every training report, in menu order, as ``wagtail_hooks`` registers them."""
    return [
        _report("progress", TrainingProgressReportView, 300),
        _report("items", ItemAnalysisReportView, 301),
    ]
