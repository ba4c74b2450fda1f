from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from .models import ProcedurePage, ProcedureRun
from .reports import (
    VIEW_RUNS,
    VIEW_STATS,
    AbandonmentReportView,
    AgentStatsReportView,
    CommonPathsReportView,
    GroupedStatsReportView,
    RunReportView,
    RunTimelineView,
)

REPORTS = [
    ("runs", "procedures_run_report", RunReportView, "流程运行记录", "list-ul", VIEW_RUNS, 200),
    ("stats", "procedures_stats_report", GroupedStatsReportView, "流程统计", "table", VIEW_STATS, 201),
    ("agents", "procedures_agent_report", AgentStatsReportView, "坐席流程统计", "user", VIEW_RUNS, 202),
    (
        "abandonment",
        "procedures_abandonment_report",
        AbandonmentReportView,
        "流程中断位置",
        "warning",
        VIEW_STATS,
        203,
    ),
    ("paths", "procedures_paths_report", CommonPathsReportView, "流程常见路径", "redirect", VIEW_STATS, 204),
]


@hooks.register("register_admin_urls")
def register_procedure_report_urls():
    urls = [
        path(
            "reports/procedures/runs/<uuid:run_id>/",
            RunTimelineView.as_view(),
            name="procedures_run_timeline",
        )
    ]
    for slug, name, view, *_rest in REPORTS:
        urls.append(path(f"reports/procedures/{slug}/", view.as_view(), name=name))
        urls.append(
            path(
                f"reports/procedures/{slug}/results/", view.as_view(results_only=True), name=f"{name}_results"
            )
        )
    return urls


class PermissionMenuItem(MenuItem):
    def __init__(self, *args, permission, **kwargs):
        super().__init__(*args, **kwargs)
        self.permission = permission

    def is_shown(self, request):
        return request.user.has_perm(self.permission)


def _menu_item(slug, name, label, icon, permission, order):
    @hooks.register("register_reports_menu_item")
    def register():
        return PermissionMenuItem(
            label,
            reverse(name),
            name=f"procedures-{slug}",
            icon_name=icon,
            order=order,
            permission=permission,
        )

    return register


for _slug, _name, _view, _label, _icon, _permission, _order in REPORTS:
    _menu_item(_slug, _name, _label, _icon, _permission, _order)


@hooks.register("before_delete_page")
def keep_procedures_that_have_runs(request, page):
    """Runs point at the exact revision the agent saw: a procedure with runs is unpublished, not deleted."""
    if request.method != "POST":
        return None
    procedures = page.get_descendants(inclusive=True).type(ProcedurePage).values_list("id", flat=True)
    if ProcedureRun.objects.filter(procedure_id__in=list(procedures)).exists():
        messages.error(request, "这个流程（或其下的流程）已有运行记录，不能删除；如不再使用，请取消发布。")
        return redirect("wagtailadmin_pages:edit", page.pk)
    return None
