from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.models import Page
from wagtail.permissions import policy_registry

from .views import OverdueReviewReportView
from .viewsets import KnowledgeViewSetGroup


@hooks.register("register_admin_viewset")
def register_knowledge_viewsets():
    return KnowledgeViewSetGroup()


@hooks.register("register_admin_urls")
def register_overdue_review_urls():
    return [
        path("reports/overdue-review/", OverdueReviewReportView.as_view(), name="content_overdue_review"),
        path(
            "reports/overdue-review/results/",
            OverdueReviewReportView.as_view(results_only=True),
            name="content_overdue_review_results",
        ),
    ]


class EditorsMenuItem(MenuItem):
    def is_shown(self, request):
        return policy_registry.get_by_type(Page).user_has_any_permission(
            request.user, ["add", "change", "publish"]
        )


@hooks.register("register_reports_menu_item")
def register_overdue_review_menu_item():
    return EditorsMenuItem(
        _("待复核内容"),
        reverse("content_overdue_review"),
        name="overdue-review",
        icon_name="time",
        order=100,
    )
