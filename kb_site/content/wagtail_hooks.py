"""What the content app registers: its report, its search kinds and sections, its part of the demo."""

from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from kb_site.reports import ReportViewSet

from . import demo, review
from .models import ArticlePage, CallbookDocument, Phrasing, SectionPage
from .reports import OverdueReviewReportView

hooks.register("register_log_actions", review.register_log_actions)
hooks.register("register_admin_urls", review.admin_urls)
hooks.register("register_page_header_buttons", review.page_header_buttons)
hooks.register("register_bulk_action", review.MarkReviewedBulkAction)


@hooks.register("register_admin_viewset")
def register_overdue_review_report():
    return ReportViewSet(
        "content_overdue_review",
        view_class=OverdueReviewReportView,
        url_prefix="reports/overdue-review",
        menu_order=100,
    )


@hooks.register("register_permissions")
def document_and_image_delete_permissions():
    """Deleting documents and images needs these (``permissions.py``): shown in the group editor."""
    return Permission.objects.filter(
        content_type__app_label__in=["wagtaildocs", "wagtailimages"],
        codename__in=["delete_document", "delete_image"],
    )


@hooks.register("register_search_kind")
def article_search_kind():
    return {"name": "article", "label": _("文章"), "model": ArticlePage, "order": 20}


@hooks.register("register_search_kind")
def phrasing_search_kind():
    return {
        "name": "phrasing",
        "label": _("话术"),
        "model": Phrasing,
        "order": 30,
        "queryset": lambda: Phrasing.objects.filter(live=True),
        "section_field": "section_id",
        "url": Phrasing.url_in_section,
        "text": lambda phrasing: " ".join(filter(None, [phrasing.scenario, phrasing.text])),
    }


@hooks.register("register_search_kind")
def document_search_kind():
    return {
        "name": "document",
        "label": _("文档"),
        "model": CallbookDocument,
        "order": 40,
        "text": lambda document: document.extracted_text or "",
    }


@hooks.register("register_search_sections")
def search_sections():
    return SectionPage


@hooks.register("register_search_text_dependency")
def phrasings_appear_in_pages():
    return Phrasing


@hooks.register("register_demo_loader", order=10)
def load_content_demo(update, report, **options):
    demo.load(update=update, report=report, with_users=options.get("with_users", True))
