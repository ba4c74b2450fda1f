"""What search registers in the admin: its two reports. Its synonyms viewset is placed by the site."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from kb_site.reports import ReportViewSet

from . import demo
from .backend import batched_index_writes
from .reports import SearchQueryReportView, ZeroResultReportView


@hooks.register("register_admin_viewset")
def register_top_queries_report():
    return ReportViewSet(
        "search_top_queries",
        view_class=SearchQueryReportView,
        url_prefix="reports/top-queries",
        menu_label=_("热门搜索"),
        menu_name="top-queries",
        menu_icon="search",
        menu_order=300,
    )


@hooks.register("register_admin_viewset")
def register_zero_results_report():
    return ReportViewSet(
        "search_zero_results",
        view_class=ZeroResultReportView,
        url_prefix="reports/zero-results",
        menu_label=_("无结果搜索"),
        menu_name="zero-results",
        menu_icon="warning",
        menu_order=310,
    )


@hooks.register("wrap_demo_load")
def batch_demo_index_writes():
    """The demo creates hundreds of pages: one index write at the end instead of one per save."""
    return batched_index_writes()


@hooks.register("register_demo_loader", order=90)
def load_search_demo(update, report, **options):
    demo.load(update=update, report=report)
