"""Read-only admin reports on procedure runs for supervisors (and trainers for the statistics).

Each is a ``kb_site.reports.ColumnsReportView`` (a Wagtail ``ReportView`` whose CSV / XLSX export
is its listed columns) registered as a ``ReportViewSet`` in ``wagtail_hooks``. Who may see a report
is its ``permission_policy`` and ``permission_required``: supervisors have ``view`` on runs (every
run, per agent), trainers ``view_stats`` (figures without agents' names). Statistics never include
practice runs; a run idle past the limit counts as abandoned.
"""

from collections import defaultdict

import django_filters
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic import PermissionCheckedMixin
from wagtail.permission_policies import ModelPermissionPolicy

from kb_site.content.models import SectionPage
from kb_site.reports import (
    ColumnsReportView,
    DurationColumn,
    IdChoiceFilter,
    LocalTimeColumn,
    ReportViewSet,
    UserChoiceFilter,
    YesNoColumn,
)

from . import engine, stats
from .choices import DEFAULT_OUTCOMES, RunStatus
from .models import ProcedurePage, ProcedureRun
from .runs import run_summary_text
from .signals import RUN_SUMMARY_PANEL

VIEW_RUNS = "view"
VIEW_STATS = "view_stats"


class RunPermissionPolicy(ModelPermissionPolicy):
    """Permissions on runs: ``view`` is Django's ``view_procedurerun`` (supervisors: every run and
    agent), ``view_stats`` the custom ``view_procedure_stats`` (trainers: figures only)."""

    codenames = {VIEW_STATS: "view_procedure_stats"}

    def _get_permission_codename(self, action):
        return self.codenames.get(action) or super()._get_permission_codename(action)


run_permission_policy = RunPermissionPolicy(ProcedureRun)


def ending_choices():
    """How runs can end: the standard outcomes and every outcome a procedure of this site has used."""
    used = ProcedureRun.objects.exclude(outcome="").values_list("outcome", flat=True).distinct()
    return [(outcome, outcome) for outcome in dict.fromkeys([*DEFAULT_OUTCOMES, *sorted(used)])]


class RunFilterSet(WagtailFilterSet):
    started_at = django_filters.DateFromToRangeFilter(label=_("开始日期"), widget=DateRangePickerWidget)
    procedure = IdChoiceFilter(label=_("流程"), queryset=ProcedurePage.objects.all().order_by("title"))
    section = IdChoiceFilter(
        label=_("业务栏目"), queryset=SectionPage.objects.all().order_by("path"), method="filter_section"
    )
    user = UserChoiceFilter(
        label=_("坐席"),
        queryset=get_user_model()
        .objects.filter(procedure_runs__isnull=False)
        .distinct()
        .order_by("username"),
    )
    status = django_filters.ChoiceFilter(label=_("状态"), choices=RunStatus.choices, method="filter_status")
    ending = django_filters.ChoiceFilter(label=_("结束方式"), choices=ending_choices, method="filter_ending")
    practice = django_filters.BooleanFilter(label=_("练习"))

    class Meta:
        model = ProcedureRun
        fields = ["started_at", "procedure", "section", "user", "status", "ending", "practice"]

    def filter_section(self, queryset, name, value):
        return queryset.filter(procedure__path__startswith=value.path) if value else queryset

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value) if value else queryset

    def filter_ending(self, queryset, name, value):
        return queryset.filter(status=RunStatus.COMPLETED, outcome=value) if value else queryset


class StatsFilterSet(RunFilterSet):
    """The same filters without 练习 and 状态: statistics always leave practice runs out; 坐席 only for
    those who may see runs."""

    class Meta:
        model = ProcedureRun
        fields = ["started_at", "procedure", "section", "user"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("practice", None)
        self.filters.pop("status", None)
        self.filters.pop("ending", None)
        # Trainers see figures, not people: one agent's figures are for those who see runs (主管).
        request = kwargs.get("request")
        if request is None or not run_permission_policy.user_has_permission(request.user, VIEW_RUNS):
            self.filters.pop("user", None)


class RunsReportMixin:
    """What every run report shares: who may see it, the runs it starts from, its filename."""

    model = ProcedureRun
    permission_policy = run_permission_policy
    permission_required = VIEW_STATS
    filterset_class = StatsFilterSet
    export_name = "procedures"

    def get_queryset(self):
        return ProcedureRun.objects.all()

    def get_filename(self):
        return f"procedure-{self.export_name}-{timezone.localdate():%Y-%m-%d}"


class RunReportView(RunsReportMixin, ColumnsReportView):
    """流程运行记录: every run with its agent, outcome and duration; click one for its timeline."""

    permission_required = VIEW_RUNS
    page_title = _("流程运行记录")
    header_icon = "list-ul"
    index_url_name = "procedures_runs:index"
    index_results_url_name = "procedures_runs:index_results"
    filterset_class = RunFilterSet
    export_name = "runs"
    columns = [
        TitleColumn(
            "procedure_title",
            label=_("流程"),
            get_url=lambda run: reverse("procedures_runs:timeline", args=[run.pk]),
        ),
        Column("agent_name", label=_("坐席")),
        LocalTimeColumn("started_at", label=_("开始")),
        Column("ending_display", label=_("状态")),
        Column("outcome", label=_("结果")),
        DurationColumn("duration_display", label=_("用时"), seconds="duration_seconds"),
        Column("current_step_title", label=_("当前/最后步骤")),
        YesNoColumn("practice", label=_("练习")),
        Column("ref", label=_("编号")),
        Column("revision_id", label=_("流程版本")),
        LocalTimeColumn("finished_at", label=_("结束")),
        # The run's own id, so a row of the export can be traced back to its timeline and events.
        Column("id", label=_("记录编号")),
    ]

    def get_queryset(self):
        return ProcedureRun.objects.select_related("user").defer("definition").order_by("-started_at")


class GroupedStatsReportView(RunsReportMixin, ColumnsReportView):
    """流程统计: runs, outcomes and durations, one row per procedure (per agent in the subclass)."""

    page_title = _("流程统计")
    header_icon = "table"
    index_url_name = "procedures_stats:index"
    index_results_url_name = "procedures_stats:index_results"
    group_by = "procedure"
    group_label = _("流程")
    paginate_by = None
    results_template_name = "procedures/admin/stats_results.html"
    export_name = "stats-procedure"

    @property
    def columns(self):
        return [
            Column("label", label=self.group_label),
            Column("runs", label=_("运行次数")),
            Column("completed", label=_("完成")),
            Column("abandoned", label=_("中断")),
            Column("in_progress", label=_("进行中")),
            Column("outcomes_display", label=_("结果分布")),
            DurationColumn("median_display", label=_("用时中位数"), seconds="median_seconds"),
            DurationColumn("p90_display", label=_("用时 P90"), seconds="p90_seconds"),
        ]

    def get_filtered_queryset(self):
        return stats.grouped_stats(self.filter_queryset(self.get_queryset()), by=self.group_by)

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["outcome_distribution"] = stats.outcome_distribution(
            self.filter_queryset(self.get_queryset())
        )
        return context


class AgentStatsReportView(GroupedStatsReportView):
    """坐席流程统计: the same figures per agent, for supervisors only."""

    permission_required = VIEW_RUNS
    page_title = _("坐席流程统计")
    header_icon = "user"
    index_url_name = "procedures_agents:index"
    index_results_url_name = "procedures_agents:index_results"
    group_by = "agent"
    group_label = _("坐席")
    export_name = "stats-agent"


class ProcedureFiguresReportView(RunsReportMixin, ColumnsReportView):
    """A table of figures per procedure computed by one ``stats`` function, never paginated."""

    paginate_by = None
    figures = None  # a ``stats`` function: the filtered runs → rows

    def get_filtered_queryset(self):
        return self.figures(self.filter_queryset(self.get_queryset()))


class AbandonmentReportView(ProcedureFiguresReportView):
    """流程中断位置: at which step runs were abandoned, per procedure."""

    page_title = _("流程中断位置")
    header_icon = "warning"
    index_url_name = "procedures_abandonment:index"
    index_results_url_name = "procedures_abandonment:index_results"
    export_name = "abandonment"
    figures = staticmethod(stats.abandonment_by_step)
    columns = [
        Column("procedure", label=_("流程")),
        Column("step_label", label=_("中断在步骤")),
        Column("abandoned", label=_("中断次数")),
        Column("runs", label=_("该流程运行次数")),
        Column("share", label=_("占比")),
    ]

    def get_filtered_queryset(self):
        """Each step by its title; its key added only where the title alone does not say which step
        (two rows of one procedure with the same title, or a step without one)."""
        rows = super().get_filtered_queryset()
        keys = defaultdict(set)
        for row in rows:
            keys[(row.procedure_id, row.step)].add(row.step_key)
        for row in rows:
            if not row.step:
                row.step_label = row.step_key
            elif len(keys[(row.procedure_id, row.step)]) > 1:
                row.step_label = f"{row.step}（{row.step_key}）"
            else:
                row.step_label = row.step
        return rows


class CommonPathsReportView(ProcedureFiguresReportView):
    """流程常见路径: the most frequent ways through each procedure (completed runs)."""

    page_title = _("流程常见路径")
    header_icon = "redirect"
    index_url_name = "procedures_paths:index"
    index_results_url_name = "procedures_paths:index_results"
    export_name = "paths"
    figures = staticmethod(stats.common_paths)
    columns = [
        Column("procedure", label=_("流程")),
        Column("path", label=_("路径")),
        Column("outcome", label=_("结果")),
        Column("runs", label=_("次数")),
        Column("share", label=_("占比")),
    ]


class StepTimesReportView(ProcedureFiguresReportView):
    """步骤用时: per procedure, each step's time (median, P90) against its target and the share of runs
    over it. Figures without names, like 流程统计: trainers and supervisors."""

    page_title = _("步骤用时")
    header_icon = "time"
    index_url_name = "procedures_step_times:index"
    index_results_url_name = "procedures_step_times:index_results"
    export_name = "step-times"
    figures = staticmethod(stats.step_times)
    columns = [
        Column("procedure", label=_("流程")),
        Column("step", label=_("步骤")),
        Column("runs", label=_("经过的运行")),
        DurationColumn("median_display", label=_("用时中位数"), seconds="median_seconds"),
        DurationColumn("p90_display", label=_("用时 P90"), seconds="p90_seconds"),
        DurationColumn("target_display", label=_("目标用时"), seconds="target_seconds"),
        Column("over_share", label=_("超过目标的占比")),
    ]


class MustSayReportView(ProcedureFiguresReportView):
    """必说话术勾选率: per procedure and agent, how often each 必说 line was ticked when its step was left.
    Per agent, so for supervisors only, as 坐席流程统计."""

    permission_required = VIEW_RUNS
    page_title = _("必说话术勾选率")
    header_icon = "tick-inverse"
    index_url_name = "procedures_must_say:index"
    index_results_url_name = "procedures_must_say:index_results"
    export_name = "must-say"
    figures = staticmethod(stats.must_say_rates)
    columns = [
        Column("procedure", label=_("流程")),
        Column("agent", label=_("坐席")),
        Column("step", label=_("步骤")),
        Column("line", label=_("必说话术")),
        Column("left", label=_("离开该步骤次数")),
        Column("ticked", label=_("勾选“已说”次数")),
        Column("share", label=_("勾选率")),
    ]


class RunTimelineView(PermissionCheckedMixin, TemplateView):
    """One run's full timeline, for supervisors following up a call."""

    permission_policy = run_permission_policy
    permission_required = VIEW_RUNS
    template_name = "procedures/admin/run_timeline.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = get_object_or_404(ProcedureRun.objects.select_related("user"), pk=kwargs["run_id"])
        labels = run.get_procedure().labels()
        context.update(
            run=run,
            events=[(e, engine.inputs_text(e.inputs, labels)) for e in run.logged_events],
            summary_text=run_summary_text(run),
            # The apps built on runs show here what they show on its summary (procedures.signals).
            panels=[html for fn in hooks.get_hooks(RUN_SUMMARY_PANEL) if (html := fn(self.request, run))],
            page_title=f"{run.procedure_title} · {timezone.localtime(run.started_at):%Y-%m-%d %H:%M}",
            now=timezone.now(),
        )
        return context


class RunReportViewSet(ReportViewSet):
    """The runs report, plus each run's timeline at ``<run id>/`` (``procedures_runs:timeline``)."""

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("<uuid:run_id>/", RunTimelineView.as_view(), name="timeline"),
        ]


def _report(slug, view_class, order, viewset_class=ReportViewSet):
    return viewset_class(
        f"procedures_{slug.replace('-', '_')}",
        view_class=view_class,
        url_prefix=f"reports/procedures/{slug}",
        menu_order=order,
    )


def report_viewsets():
    """Every procedures report, in menu order, as ``wagtail_hooks`` registers them."""
    return [
        _report("runs", RunReportView, 200, viewset_class=RunReportViewSet),
        _report("stats", GroupedStatsReportView, 201),
        _report("agents", AgentStatsReportView, 202),
        _report("abandonment", AbandonmentReportView, 203),
        _report("paths", CommonPathsReportView, 204),
        _report("step-times", StepTimesReportView, 205),
        _report("must-say", MustSayReportView, 206),
    ]
