"""Read-only admin reports on procedure runs for supervisors (and trainers for the statistics).

Each is a Wagtail ``ReportView``, so every one can be filtered and exported as CSV / XLSX.
Statistics never include practice runs.
"""

import datetime

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.reports import ReportView

from kb_site.content.models import SectionPage

from . import engine, stats
from .models import ProcedurePage, ProcedureRun, RunStatus
from .runs import run_summary_text

VIEW_RUNS = "procedures.view_procedurerun"
VIEW_STATS = "procedures.view_procedure_stats"


class RunFilterSet(WagtailFilterSet):
    started_at = django_filters.DateFromToRangeFilter(label=_("开始日期"), widget=DateRangePickerWidget)
    procedure = django_filters.ModelChoiceFilter(
        label=_("流程"), queryset=ProcedurePage.objects.all().order_by("title")
    )
    section = django_filters.ModelChoiceFilter(
        label=_("业务栏目"), queryset=SectionPage.objects.all().order_by("path"), method="filter_section"
    )
    user = django_filters.ModelChoiceFilter(
        label=_("坐席"),
        queryset=get_user_model()
        .objects.filter(procedure_runs__isnull=False)
        .distinct()
        .order_by("username"),
    )
    status = django_filters.ChoiceFilter(label=_("状态"), choices=RunStatus.choices)
    practice = django_filters.BooleanFilter(label=_("练习"))

    class Meta:
        model = ProcedureRun
        fields = ["started_at", "procedure", "section", "user", "status", "practice"]

    def filter_section(self, queryset, name, value):
        return queryset.filter(procedure__path__startswith=value.path) if value else queryset


class StatsFilterSet(RunFilterSet):
    """The same filters without 练习: statistics always leave practice runs out."""

    class Meta:
        model = ProcedureRun
        fields = ["started_at", "procedure", "section", "user"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("practice", None)
        self.filters.pop("status", None)


class RequirePermissionMixin:
    required_permission = VIEW_STATS
    permission_policy = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(self.required_permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def export_of(columns):
    """``(list_export, export_headings)`` for a report whose export is exactly its columns."""
    return [column.name for column in columns], {column.name: column.label for column in columns}


def seconds_column(name, label):
    return Column(name, label=label, accessor=lambda row: getattr(row, name.replace("_seconds", "_display")))


class RunReportView(RequirePermissionMixin, ReportView):
    """流程运行记录: every run with its agent, outcome and duration; click one for its timeline."""

    required_permission = VIEW_RUNS
    page_title = _("流程运行记录")
    header_icon = "list-ul"
    index_url_name = "procedures_run_report"
    index_results_url_name = "procedures_run_report_results"
    model = ProcedureRun
    filterset_class = RunFilterSet
    columns = [
        TitleColumn(
            "procedure_title",
            label=_("流程"),
            get_url=lambda run: reverse("procedures_run_timeline", args=[run.pk]),
        ),
        Column(
            "agent", label=_("坐席"), accessor=lambda run: run.user.get_full_name() or run.user.get_username()
        ),
        DateColumn("started_at", label=_("开始")),
        Column("status", label=_("状态"), accessor="get_status_display"),
        Column("outcome", label=_("结果")),
        Column("duration", label=_("用时"), accessor="duration_display"),
        Column("current_step_title", label=_("当前/最后步骤")),
        Column("practice", label=_("练习"), accessor=lambda run: "练习" if run.practice else ""),
        Column("ref", label=_("编号")),
    ]
    list_export = [
        "pk",
        "procedure_title",
        "revision_id",
        "user.username",
        "ref",
        "started_at",
        "finished_at",
        "status",
        "outcome",
        "duration_seconds",
        "current_step",
        "practice",
    ]
    export_headings = {
        "pk": "运行编号",
        "procedure_title": "流程",
        "revision_id": "流程版本",
        "user.username": "坐席",
        "ref": "工单/来电编号",
        "started_at": "开始时间",
        "finished_at": "结束时间",
        "status": "状态",
        "outcome": "结果",
        "duration_seconds": "用时（秒）",
        "current_step": "当前/最后步骤",
        "practice": "练习",
    }

    def get_filename(self):
        return f"procedure-runs-{datetime.date.today():%Y-%m-%d}"

    def get_queryset(self):
        ProcedureRun.objects.mark_abandoned()
        return ProcedureRun.objects.select_related("user").defer("definition").order_by("-started_at")


class GroupedStatsReportView(RequirePermissionMixin, ReportView):
    """Runs, outcomes and durations, one row per procedure (or per agent in the subclass)."""

    page_title = _("流程统计")
    header_icon = "table"
    index_url_name = "procedures_stats_report"
    index_results_url_name = "procedures_stats_report_results"
    model = ProcedureRun
    filterset_class = StatsFilterSet
    group_by = "procedure"
    group_label = "流程"
    paginate_by = None
    results_template_name = "procedures/admin/stats_results.html"
    list_export = [
        "label",
        "runs",
        "completed",
        "abandoned",
        "in_progress",
        "outcomes_display",
        "median_seconds",
        "p90_seconds",
    ]

    @property
    def columns(self):
        return [
            Column("label", label=self.group_label),
            Column("runs", label=_("运行次数")),
            Column("completed", label=_("完成")),
            Column("abandoned", label=_("中断")),
            Column("in_progress", label=_("进行中")),
            Column("outcomes_display", label=_("结果分布")),
            seconds_column("median_seconds", "用时中位数"),
            seconds_column("p90_seconds", "用时 P90"),
        ]

    @property
    def export_headings(self):
        return {
            "label": self.group_label,
            "runs": "运行次数",
            "completed": "完成",
            "abandoned": "中断",
            "in_progress": "进行中",
            "outcomes_display": "结果分布",
            "median_seconds": "用时中位数（秒）",
            "p90_seconds": "用时P90（秒）",
        }

    def get_filename(self):
        return f"procedure-stats-{self.group_by}-{datetime.date.today():%Y-%m-%d}"

    def get_queryset(self):
        ProcedureRun.objects.mark_abandoned()
        return ProcedureRun.objects.all()

    def get_filtered_queryset(self):
        return stats.grouped_stats(self.filter_queryset(self.get_queryset()), by=self.group_by)

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["outcome_distribution"] = stats.outcome_distribution(
            self.filter_queryset(self.get_queryset())
        )
        return context


class AgentStatsReportView(GroupedStatsReportView):
    """Per-agent figures: supervisors only."""

    required_permission = VIEW_RUNS
    page_title = _("坐席流程统计")
    header_icon = "user"
    index_url_name = "procedures_agent_report"
    index_results_url_name = "procedures_agent_report_results"
    group_by = "agent"
    group_label = "坐席"


class AbandonmentReportView(RequirePermissionMixin, ReportView):
    """中断位置: at which step runs were abandoned, per procedure."""

    page_title = _("流程中断位置")
    header_icon = "warning"
    index_url_name = "procedures_abandonment_report"
    index_results_url_name = "procedures_abandonment_report_results"
    model = ProcedureRun
    filterset_class = StatsFilterSet
    paginate_by = None
    columns = [
        Column("procedure", label=_("流程")),
        Column("step", label=_("中断在步骤")),
        Column("step_key", label=_("步骤标识")),
        Column("abandoned", label=_("中断次数")),
        Column("runs", label=_("该流程运行次数")),
        Column("share", label=_("占比")),
    ]
    list_export, export_headings = export_of(columns)

    def get_queryset(self):
        ProcedureRun.objects.mark_abandoned()
        return ProcedureRun.objects.all()

    def get_filtered_queryset(self):
        return stats.abandonment_by_step(self.filter_queryset(self.get_queryset()))


class CommonPathsReportView(RequirePermissionMixin, ReportView):
    """常见路径: the most frequent ways through each procedure (completed runs)."""

    page_title = _("流程常见路径")
    header_icon = "redirect"
    index_url_name = "procedures_paths_report"
    index_results_url_name = "procedures_paths_report_results"
    model = ProcedureRun
    filterset_class = StatsFilterSet
    paginate_by = None
    columns = [
        Column("procedure", label=_("流程")),
        Column("path", label=_("路径")),
        Column("outcome", label=_("结果")),
        Column("runs", label=_("次数")),
        Column("share", label=_("占比")),
    ]
    list_export, export_headings = export_of(columns)

    def get_queryset(self):
        return ProcedureRun.objects.all()

    def get_filtered_queryset(self):
        return stats.common_paths(self.filter_queryset(self.get_queryset()))


class RunTimelineView(RequirePermissionMixin, TemplateView):
    """One run's full timeline, for supervisors following up a call."""

    required_permission = VIEW_RUNS
    template_name = "procedures/admin/run_timeline.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = get_object_or_404(ProcedureRun.objects.select_related("user"), pk=kwargs["run_id"])
        events = list(run.events.order_by("seq"))
        procedure = run.get_procedure()
        context.update(
            run=run,
            events=[(e, engine.format_duration(e.seconds)) for e in events],
            summary_text=run_summary_text(run, procedure, events),
            page_title=f"{run.procedure_title} · {run.started_at:%Y-%m-%d %H:%M}",
            now=timezone.now(),
        )
        return context
