from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from kb_site.content.viewsets import KnowledgeViewSetGroup

from .views import SearchQueryReportView, ZeroResultReportView
from .viewsets import SynonymGroupViewSet

# 同义词 sits in the 话术库 menu next to phrasings (the group invites apps to append their viewsets).
if SynonymGroupViewSet not in KnowledgeViewSetGroup.items:
    KnowledgeViewSetGroup.items = [*KnowledgeViewSetGroup.items, SynonymGroupViewSet]


@hooks.register("register_admin_urls")
def register_search_report_urls():
    return [
        path("reports/top-queries/", SearchQueryReportView.as_view(), name="search_top_queries"),
        path(
            "reports/top-queries/results/",
            SearchQueryReportView.as_view(results_only=True),
            name="search_top_queries_results",
        ),
        path("reports/zero-results/", ZeroResultReportView.as_view(), name="search_zero_results"),
        path(
            "reports/zero-results/results/",
            ZeroResultReportView.as_view(results_only=True),
            name="search_zero_results_results",
        ),
    ]


class SearchReportMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("search.view_zeroresultquery")


@hooks.register("register_reports_menu_item")
def register_top_queries_menu_item():
    return SearchReportMenuItem(
        "热门搜索", reverse("search_top_queries"), name="top-queries", icon_name="search", order=300
    )


@hooks.register("register_reports_menu_item")
def register_zero_results_menu_item():
    return SearchReportMenuItem(
        "无结果搜索", reverse("search_zero_results"), name="zero-results", icon_name="warning", order=310
    )
