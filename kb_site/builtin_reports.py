"""Wagtail's own reports (locked pages, workflows, site history, aging pages, page types) with the
project's spreadsheet exports: the UTF-8 BOM, local time to the second, people by name, 是 / 否, no
formula cells (``kb_site.reports.SafeExportMixin``). Wagtail builds their URLs itself, so
``kb_site.urls`` mounts these views at the same paths first; reversing Wagtail's names gives the same
URLs, and the views keep Wagtail's checks (admin access, as on every admin URL, and each report's own).
"""

from django.urls import path
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views.reports.aging_pages import AgingPagesView
from wagtail.admin.views.reports.audit_logging import LogEntriesView
from wagtail.admin.views.reports.locked_pages import LockedPagesView
from wagtail.admin.views.reports.page_types_usage import PageTypesUsageReportView
from wagtail.admin.views.reports.workflows import WorkflowTasksView, WorkflowView

from kb_site.reports import SafeExportMixin, display_name


class AgingPagesReport(AgingPagesView):
    """Names the last publisher as every report does (Wagtail lists the username)."""

    def decorate_paginated_queryset(self, queryset):
        user_ids = set(queryset.values_list("last_published_by", flat=True))
        names = {user.pk: display_name(user) for user in self.user_model.objects.filter(pk__in=user_ids)}
        for page in queryset:
            self.add_last_publisher_name_to_page(names, page)
        return queryset


REPORTS = {
    "locked/": LockedPagesView,
    "workflow/": WorkflowView,
    "workflow_tasks/": WorkflowTasksView,
    "site-history/": LogEntriesView,
    "aging-pages/": AgingPagesReport,
    "page-types-usage/": PageTypesUsageReportView,
}


def safe_export(view_class):
    return type(view_class.__name__, (SafeExportMixin, view_class), {"__module__": __name__})


urlpatterns = []
for prefix, view_class in REPORTS.items():
    view = safe_export(view_class)
    urlpatterns += [
        path(f"admin/reports/{prefix}", require_admin_access(view.as_view())),
        path(f"admin/reports/{prefix}results/", require_admin_access(view.as_view(results_only=True))),
    ]
