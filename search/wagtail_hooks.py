"""What search registers in the admin: its reports. Its synonyms viewset is placed by the site."""

from wagtail import hooks

from kb_site.reports import ReportViewSet

from . import admin_views, click_demo, demo
from .backend import batched_index_writes
from .click_reports import LearnedLinkViewSet, UnclickedQueryReportView
from .reports import SearchQueryReportView, ZeroResultReportView


@hooks.register("register_admin_viewset")
def register_search_reports():
    """热门搜索, 无结果搜索, 无人点击的搜索 and 点击学习关联 (with 撤销 / 恢复), for trainers and supervisors."""
    return [
        ReportViewSet(name, view_class=view, url_prefix=f"reports/{slug}", menu_order=order)
        for name, view, slug, order in (
            ("search_top_queries", SearchQueryReportView, "top-queries", 300),
            ("search_zero_results", ZeroResultReportView, "zero-results", 310),
            ("search_unclicked", UnclickedQueryReportView, "unclicked-queries", 320),
        )
    ] + [LearnedLinkViewSet("search_learned_links", url_prefix="reports/learned-links", menu_order=330)]


@hooks.register("register_admin_urls")
def register_zero_result_actions():
    """加同义词 / 设推荐结果 from a row of 无结果搜索."""
    return admin_views.admin_urls()


@hooks.register("wrap_demo_load")
def batch_demo_index_writes():
    """The demo creates hundreds of pages: one index write at the end instead of one per save."""
    return batched_index_writes()


@hooks.register("register_demo_loader", order=90)
def load_search_demo(update, report, **options):
    demo.load(update=update, report=report)


@hooks.register("register_demo_loader", order=92)
def load_click_demo(update, report, **options):
    """Demo clicks, learned links and searches nobody opened a result of (``search.click_demo``)."""
    click_demo.load(update=update, report=report)
