"""The 新员工培训 admin menu: learning paths, the question bank, quizzes, scenario cards, cohorts and
path assignments, as snippet viewsets (``wagtail_hooks`` registers the group).

Each editor's validation lives in its form (``training.admin_forms``), set as the ``base_form_class`` of
the viewset's panels. Saving a cohort assigns its path to its members, and saving an assignment creates
its item rows: ``after_snippet_saved``, registered for ``after_create_snippet`` / ``after_edit_snippet``.
"""

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet, SnippetViewSetGroup

from kb_site.content.models import SectionPage
from kb_site.reports import IdChoiceFilter, SafeExportMixin, UserChoiceFilter

from . import progress
from .admin_forms import (
    CohortAdminForm,
    LearningPathAdminForm,
    PathAssignmentAdminForm,
    QuestionAdminForm,
    ScenarioCardAdminForm,
)
from .choices import QuestionType
from .models import Cohort, LearningPath, PathAssignment, Question, Quiz, ScenarioCard
from .models.paths import trainee_name

__all__ = [
    "CohortViewSet",
    "LearningPathViewSet",
    "PathAssignmentViewSet",
    "QuestionViewSet",
    "QuizViewSet",
    "ScenarioCardViewSet",
    "TrainingViewSetGroup",
    "after_snippet_saved",
]


class SafeIndexView(SafeExportMixin, IndexView):
    """A listing whose spreadsheet export says 是 / 否, names and local times (``SafeExportMixin``)."""


class TrainingSnippetViewSet(SnippetViewSet):
    index_view_class = SafeIndexView
    search_backend_name = None  # these models are not in the search index: search with the ORM


class LearningPathViewSet(TrainingSnippetViewSet):
    """培训路径: stages of items with gates; saving one brings its trainees' items up to date."""

    model = LearningPath
    icon = "list-ol"
    menu_label = _("培训路径")
    menu_name = "learning_paths"
    list_display = ["title", "updated_at"]
    search_fields = ["title", "description"]
    ordering = ["title"]
    edit_handler = ObjectList(LearningPath.panels, base_form_class=LearningPathAdminForm)


class QuestionFilterSet(WagtailFilterSet):
    section = IdChoiceFilter(label=_("业务栏目"), queryset=SectionPage.objects.all().order_by("path"))
    type = django_filters.ChoiceFilter(label=_("题型"), choices=QuestionType.choices)

    class Meta:
        model = Question
        fields = ["section", "type"]


class QuestionViewSet(TrainingSnippetViewSet):
    """题库: questions per section, with options that fit their type (``QuestionAdminForm``)."""

    model = Question
    icon = "help"
    menu_label = _("题库")
    menu_name = "questions"
    list_display = [
        "__str__",
        Column("section", label=_("业务栏目"), sort_key="section_id"),
        Column("get_type_display", label=_("题型"), sort_key="type"),
        "updated_at",
    ]
    filterset_class = QuestionFilterSet
    search_fields = ["stem", "explanation"]
    ordering = ["section", "pk"]
    edit_handler = ObjectList(Question.panels, base_form_class=QuestionAdminForm)


class QuizViewSet(TrainingSnippetViewSet):
    model = Quiz
    icon = "tasks"
    menu_label = _("测验")
    menu_name = "quizzes"
    list_display = [
        "title",
        Column("section", label=_("题库栏目"), sort_key="section_id"),
        "draw_count",
        "pass_mark",
        "updated_at",
    ]
    search_fields = ["title"]
    ordering = ["title"]


class ScenarioCardViewSet(TrainingSnippetViewSet):
    """情景卡: the golden path is ticked from the procedure's live steps (``ScenarioCardAdminForm``)."""

    model = ScenarioCard
    icon = "clipboard-list"
    menu_label = _("情景卡")
    menu_name = "scenario_cards"
    list_display = ["title", Column("procedure", label=_("流程"), sort_key="procedure_id"), "updated_at"]
    search_fields = ["title", "persona", "facts"]
    ordering = ["procedure", "title"]
    edit_handler = ObjectList(ScenarioCard.panels, base_form_class=ScenarioCardAdminForm)


class CohortViewSet(TrainingSnippetViewSet):
    """培训批次: saving one assigns its path to each member (``after_snippet_saved``)."""

    model = Cohort
    icon = "group"
    menu_label = _("培训批次")
    menu_name = "cohorts"
    list_display = [
        "name",
        Column("path", label=_("培训路径"), sort_key="path_id"),
        "start_date",
        Column("mentor", label=_("默认带教老师"), accessor=lambda c: trainee_name(c.mentor)),
    ]
    search_fields = ["name"]
    ordering = ["-start_date", "name"]
    edit_handler = ObjectList(Cohort.panels, base_form_class=CohortAdminForm)


class PathAssignmentFilterSet(WagtailFilterSet):
    path = IdChoiceFilter(label=_("培训路径"), queryset=LearningPath.objects.all())
    cohort = IdChoiceFilter(label=_("批次"), queryset=Cohort.objects.all())
    mentor = UserChoiceFilter(
        label=_("带教老师"),
        queryset=get_user_model().objects.filter(mentees__isnull=False).distinct().order_by("username"),
    )

    class Meta:
        model = PathAssignment
        fields = ["path", "cohort", "mentor"]


class PathAssignmentViewSet(TrainingSnippetViewSet):
    """路径分配: one trainee on one path; saving creates (or brings up to date) the item rows."""

    model = PathAssignment
    icon = "user"
    menu_label = _("路径分配")
    menu_name = "path_assignments"
    list_display = [
        "__str__",
        Column("cohort", label=_("批次"), sort_key="cohort__name"),
        Column("mentor", label=_("带教老师"), accessor=lambda a: trainee_name(a.mentor)),
        "start_date",
        Column("current_stage_title", label=_("当前阶段")),
        Column("percent", label=_("完成率（%）")),
    ]
    filterset_class = PathAssignmentFilterSet
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    ordering = ["-start_date", "user__username"]
    edit_handler = ObjectList(
        [
            FieldPanel("user"),
            FieldPanel("path"),
            FieldPanel("start_date"),
            MultiFieldPanel([FieldPanel("mentor"), FieldPanel("cohort")], heading=_("带教与批次")),
        ],
        base_form_class=PathAssignmentAdminForm,
    )

    def get_queryset(self, request):
        return PathAssignment.objects.select_related("user", "path", "cohort", "mentor")


class TrainingViewSetGroup(SnippetViewSetGroup):
    """The 新员工培训 admin menu."""

    menu_label = _("新员工培训")
    menu_icon = "group"
    menu_name = "training"
    menu_order = 250
    items = [
        LearningPathViewSet,
        QuestionViewSet,
        QuizViewSet,
        ScenarioCardViewSet,
        CohortViewSet,
        PathAssignmentViewSet,
    ]


def after_snippet_saved(request, instance):
    """``after_create_snippet`` / ``after_edit_snippet``: a cohort's members get its path, an assignment
    its item rows (due dates follow a changed start date)."""
    if isinstance(instance, Cohort):
        progress.assign_cohort(instance)
    elif isinstance(instance, PathAssignment):
        progress.sync_assignment(instance)
