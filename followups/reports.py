"""Admin reports on follow-ups for supervisors: 跟进统计 (figures per kind, procedure, section, agent or
group) and 不满意原因 (the follow-ups that ended unhappy, with what was said).

Each is a ``kb_site.reports.ColumnsReportView`` (CSV / XLSX export = the listed columns) registered as a
``ReportViewSet`` by ``wagtail_hooks`` (``report_viewsets``). Who may see them: whoever holds
``followups.view_all_followups`` (主管), through ``followup_permission_policy``.

How the figures are counted (``follow_up_stats``): cancelled follow-ups (已取消: withdrawn, not worked)
are left out. 完成率 is closed (已完成, 无法联系, 已升级) over all; 按时率 is those closed by their
*original* due time over those whose outcome is known (closed, or still open past the original due
time); 满意率 is the answers other than 不满意 over the follow-ups with an answer; 不满意/未解决 counts the
rows of the 不满意原因 report; 处理时长 is the median of the hours from the end of the source run (the
call) to the follow-up's close.
"""

import statistics
from collections import defaultdict
from types import SimpleNamespace

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.permission_policies import ModelPermissionPolicy

from kb_site.reports import (
    ColumnsReportView,
    ExportColumn,
    LocalTimeColumn,
    ReportViewSet,
    UserChoiceFilter,
    display_name,
)
from procedures.choices import FollowUpKind
from procedures.models import RunEvent

from .choices import Status
from .models import FollowUp

__all__ = [
    "DissatisfactionReportView",
    "FollowUpStatsReportView",
    "followup_permission_policy",
    "follow_up_stats",
    "report_viewsets",
    "unhappy",
]

VIEW_ALL = "view_all"
UNHAPPY_SATISFACTION = "不满意"
# The outcomes of the callback procedure that mean the customer was not helped.
UNHAPPY_RESULTS = ("回访不满意", "问题未解决")
CLOSED = (Status.DONE, Status.UNREACHABLE, Status.ESCALATED)


class FollowUpPermissionPolicy(ModelPermissionPolicy):
    """Permissions on follow-ups: ``view_all`` is the custom ``followups.view_all_followups`` (主管)."""

    codenames = {VIEW_ALL: "view_all_followups"}

    def _get_permission_codename(self, action):
        return self.codenames.get(action) or super()._get_permission_codename(action)


followup_permission_policy = FollowUpPermissionPolicy(FollowUp)


def unhappy():
    """The condition of a follow-up that ended unhappy: 不满意, or a callback outcome saying so."""
    return Q(satisfaction=UNHAPPY_SATISFACTION) | Q(result__in=UNHAPPY_RESULTS)


class FollowUpReportMixin:
    model = FollowUp
    permission_policy = followup_permission_policy
    permission_required = VIEW_ALL
    export_name = "followups"

    def get_filename(self):
        return f"followup-{self.export_name}-{timezone.localdate():%Y-%m-%d}"


# --- 跟进统计 ----------------------------------------------------------------------------------------

DIMENSIONS = {
    "kind": _("类型"),
    "procedure": _("来源流程"),
    "section": _("业务栏目"),
    "agent": _("处理人"),
    "group": _("处理组"),
}


def _rate(part, whole):
    return round(100 * part / whole, 1) if whole else None


def _percent(value):
    return "—" if value is None else f"{value}%"


def follow_up_stats(follow_ups, by="kind", now=None):
    """One row per value of ``by`` (a key of ``DIMENSIONS``) over ``follow_ups``, most follow-ups first.

    Reads one row of values per follow-up (no model instances) and the names of the assignees once.
    """
    now = now or timezone.now()
    rows = (
        follow_ups.exclude(status=Status.CANCELLED)
        .order_by()
        .values_list(
            "kind",
            "source_run__procedure_id",
            "source_run__procedure_title",
            "section_id",
            "section__title",
            "assignee_id",
            "group_id",
            "group__name",
            "status",
            "closed_at",
            "original_due_at",
            "satisfaction",
            "result",
            "source_run__finished_at",
        )
    )
    groups = defaultdict(list)
    labels = {}
    for row in rows:
        kind, procedure_id, procedure_title, section_id, section_title, assignee_id, group_id, group_name = (
            row[:8]
        )
        key, label = {
            "kind": (kind, FollowUpKind(kind).label if kind in FollowUpKind.values else kind),
            "procedure": (procedure_id, procedure_title),
            "section": (section_id, section_title),
            "agent": (assignee_id, None),
            "group": (group_id, group_name),
        }[by]
        groups[key].append(row[8:])
        labels.setdefault(key, label)
    if by == "agent":
        users = get_user_model().objects.in_bulk([key for key in groups if key is not None])
        labels = {key: display_name(users.get(key)) for key in groups}
    return sorted(
        (_summarise(labels[key] or "—", group, now) for key, group in groups.items()),
        key=lambda row: (-row.total, str(row.label)),
    )


def _summarise(label, rows, now):
    closed = on_time = decided = answered = satisfied = unhappy_count = 0
    hours = []
    for status, closed_at, original_due_at, satisfaction, result, run_finished_at in rows:
        if status in CLOSED:
            closed += 1
            decided += 1
            on_time += closed_at is not None and closed_at <= original_due_at
            if closed_at is not None and run_finished_at is not None:
                hours.append((closed_at - run_finished_at).total_seconds() / 3600)
        elif original_due_at < now:
            decided += 1  # still open past the original due time: late whatever happens
        if satisfaction:
            answered += 1
            satisfied += satisfaction != UNHAPPY_SATISFACTION
        unhappy_count += satisfaction == UNHAPPY_SATISFACTION or result in UNHAPPY_RESULTS
    median = round(statistics.median(hours), 1) if hours else None
    return SimpleNamespace(
        label=label,
        total=len(rows),
        closed=closed,
        completion=_rate(closed, len(rows)),
        on_time=_rate(on_time, decided),
        satisfaction=_rate(satisfied, answered),
        answered=answered,
        unhappy=unhappy_count,
        median_hours=median,
        completion_display=_percent(_rate(closed, len(rows))),
        on_time_display=_percent(_rate(on_time, decided)),
        satisfaction_display=_percent(_rate(satisfied, answered)),
        median_display="—" if median is None else f"{median} 小时",
    )


def kind_choices():
    return FollowUpKind.choices


class StatsFilterSet(WagtailFilterSet):
    by = django_filters.ChoiceFilter(
        label=_("分组方式"), choices=list(DIMENSIONS.items()), method="keep", empty_label=_("类型（默认）")
    )
    created_at = django_filters.DateFromToRangeFilter(label=_("创建日期"), widget=DateRangePickerWidget)
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=kind_choices)

    class Meta:
        model = FollowUp
        fields = ["by", "created_at", "kind"]

    def keep(self, queryset, name, value):
        return queryset  # how rows are grouped, read by the view


class FollowUpStatsReportView(FollowUpReportMixin, ColumnsReportView):
    """跟进统计: completion, on-time and satisfaction figures, one row per kind, procedure, section,
    agent or group (the 分组方式 filter)."""

    page_title = _("跟进统计")
    header_icon = "table"
    index_url_name = "followups_stats:index"
    index_results_url_name = "followups_stats:index_results"
    filterset_class = StatsFilterSet
    paginate_by = None
    export_name = "stats"

    @property
    def dimension(self):
        if self.filters is not None and self.filters.is_valid():
            return self.filters.form.cleaned_data.get("by") or "kind"
        return "kind"

    @property
    def columns(self):
        return [
            Column("label", label=DIMENSIONS[self.dimension]),
            Column("total", label=_("跟进数")),
            Column("closed", label=_("已关闭")),
            ExportColumn(
                "completion_display",
                label=_("完成率"),
                export_accessor="completion",
                export_label=_("完成率（%）"),
            ),
            ExportColumn(
                "on_time_display", label=_("按时率"), export_accessor="on_time", export_label=_("按时率（%）")
            ),
            ExportColumn(
                "satisfaction_display",
                label=_("满意率"),
                export_accessor="satisfaction",
                export_label=_("满意率（%）"),
            ),
            Column("answered", label=_("有满意度")),
            Column("unhappy", label=_("不满意/未解决")),
            ExportColumn(
                "median_display",
                label=_("处理时长中位数"),
                export_accessor="median_hours",
                export_label=_("处理时长中位数（小时）"),
            ),
        ]

    def get_queryset(self):
        return FollowUp.objects.all()

    def get_filtered_queryset(self):
        return follow_up_stats(self.filter_queryset(self.get_queryset()), by=self.dimension)


# --- 不满意原因 --------------------------------------------------------------------------------------


class DissatisfactionFilterSet(WagtailFilterSet):
    closed_at = django_filters.DateFromToRangeFilter(label=_("关闭日期"), widget=DateRangePickerWidget)
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=kind_choices)
    assignee = UserChoiceFilter(
        label=_("处理人"),
        queryset=get_user_model().objects.filter(follow_ups__isnull=False).distinct().order_by("username"),
    )

    class Meta:
        model = FollowUp
        fields = ["closed_at", "kind", "assignee"]


def _event_notes(follow_up):
    run = follow_up.work_run
    return "；".join(event.note for event in getattr(run, "noted_events", [])) if run else ""


class DissatisfactionReportView(FollowUpReportMixin, ColumnsReportView):
    """不满意原因: the follow-ups whose customer was not satisfied or whose problem was not solved, with the
    notes, and the reason and notes of the run that worked them."""

    page_title = _("不满意原因")
    header_icon = "warning"
    index_url_name = "followups_dissatisfaction:index"
    index_results_url_name = "followups_dissatisfaction:index_results"
    filterset_class = DissatisfactionFilterSet
    export_name = "dissatisfaction"
    columns = [
        LocalTimeColumn("closed_at", label=_("关闭时间")),
        Column("kind", label=_("类型"), accessor="get_kind_display"),
        Column("title", label=_("事项")),
        Column("procedure", label=_("来源流程"), accessor="source_run.procedure_title"),
        Column("assignee", label=_("处理人"), accessor=lambda f: display_name(f.assignee)),
        Column("satisfaction", label=_("满意度")),
        Column("result", label=_("结果")),
        Column("notes", label=_("处理备注")),
        Column(
            "ending_reason",
            label=_("处理运行的结束原因"),
            accessor=lambda f: f.work_run.ending_reason if f.work_run else "",
        ),
        Column("run_notes", label=_("处理运行中的备注"), accessor=_event_notes),
        Column("reason", label=_("跟进原因")),
        Column("ref", label=_("工单/来电编号")),
    ]

    def get_queryset(self):
        return (
            FollowUp.objects.filter(unhappy())
            .select_related("source_run", "work_run", "assignee")
            .defer(
                "source_run__definition",
                "source_run__variables",
                "source_run__start_variables",
                "work_run__definition",
                "work_run__variables",
                "work_run__start_variables",
            )
            .prefetch_related(
                Prefetch(
                    "work_run__events",
                    queryset=RunEvent.objects.exclude(note="").order_by("seq").only("run_id", "note"),
                    to_attr="noted_events",
                )
            )
            .order_by("-closed_at", "-created_at")
        )


def _report(slug, view_class, order):
    return ReportViewSet(
        f"followups_{slug}", view_class=view_class, url_prefix=f"reports/followups/{slug}", menu_order=order
    )


def report_viewsets():
    """Every follow-ups report, in menu order, as ``wagtail_hooks`` registers them."""
    return [
        _report("stats", FollowUpStatsReportView, 320),
        _report("dissatisfaction", DissatisfactionReportView, 321),
    ]
