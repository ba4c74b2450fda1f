"""The 跟进与回访 admin menu: the working-day calendar (工作日历: trainers and supervisors) and the group
leads escalations go to (组长: supervisors), as snippet viewsets (``wagtail_hooks`` registers the group).
How follow-ups are chased (跟进设置) is a Wagtail setting, under 设置.

Who sees each item is the model's permissions (``followups/migrations/0002_role_permissions.py``).
"""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet, SnippetViewSetGroup

from kb_site.reports import SafeExportMixin, display_name

from .models import GroupLead, WorkCalendarDay

__all__ = ["FollowUpViewSetGroup", "GroupLeadViewSet", "WorkCalendarDayViewSet"]


class SafeIndexView(SafeExportMixin, IndexView):
    """A listing whose spreadsheet export says 是 / 否, names and local times (``SafeExportMixin``)."""


class FollowUpSnippetViewSet(SnippetViewSet):
    index_view_class = SafeIndexView
    search_backend_name = None  # these models are not in the search index: search with the ORM


class WorkCalendarDayViewSet(FollowUpSnippetViewSet):
    """工作日历: holidays and 调休 workdays the chinese-calendar library does not know (or the company's)."""

    model = WorkCalendarDay
    icon = "date"
    menu_label = _("工作日历")
    menu_name = "work_calendar"
    list_display = [
        "date",
        Column("is_workday", label=_("上班"), accessor=lambda day: "上班" if day.is_workday else "放假"),
        "note",
    ]
    list_filter = ["is_workday"]
    search_fields = ["note"]
    ordering = ["-date"]


class GroupLeadViewSet(FollowUpSnippetViewSet):
    """组长: who hears of a group's overdue follow-ups and customers that cannot be reached."""

    model = GroupLead
    icon = "user"
    menu_label = _("组长")
    menu_name = "group_leads"
    list_display = [
        Column("group", label=_("组"), accessor="group.name"),
        Column("user", label=_("组长"), accessor=lambda lead: display_name(lead.user)),
    ]
    search_fields = ["group__name", "user__username", "user__first_name", "user__last_name"]
    ordering = ["group__name"]

    def get_queryset(self, request):
        return GroupLead.objects.select_related("group", "user")


class FollowUpViewSetGroup(SnippetViewSetGroup):
    """The 跟进与回访 admin menu."""

    menu_label = _("跟进与回访")
    menu_icon = "date"
    menu_name = "followups"
    menu_order = 260
    items = [WorkCalendarDayViewSet, GroupLeadViewSet]
