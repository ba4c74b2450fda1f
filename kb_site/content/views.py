"""Admin views for knowledge content."""

import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.reports import ReportView
from wagtail.models import Page, get_page_models

from .models import ReviewMixin


def reviewable_page_models():
    return [model for model in get_page_models() if issubclass(model, ReviewMixin)]


def overdue_pages(today=None):
    """Pages of every reviewable type whose review date has passed, most overdue first."""
    today = today or timezone.localdate()
    condition = Q()
    for model in reviewable_page_models():
        condition |= Q(**{f"{model._meta.model_name}__review_due__lt": today})
    if not condition:
        return Page.objects.none()
    return Page.objects.filter(condition).specific()


class OverdueReviewReportView(ReportView):
    """待复核内容: every article and procedure whose review interval has run out."""

    page_title = _("待复核内容")
    header_icon = "time"
    index_url_name = "content_overdue_review"
    index_results_url_name = "content_overdue_review_results"
    results_template_name = "content/admin/overdue_review_results.html"
    list_export = ["title", "maintainer", "last_reviewed", "review_due", "days_overdue", "page_url"]
    export_headings = {
        "title": _("标题"),
        "maintainer": _("负责培训师"),
        "last_reviewed": _("上次复核"),
        "review_due": _("复核到期"),
        "days_overdue": _("逾期天数"),
        "page_url": _("地址"),
    }
    model = Page
    any_permission_required = ["add", "change", "publish"]

    def get_filename(self):
        return f"overdue-review-{datetime.date.today():%Y-%m-%d}"

    def get_queryset(self):
        today = timezone.localdate()
        pages = sorted(overdue_pages(today), key=lambda p: p.review_due)
        for page in pages:
            page.days_overdue = (today - page.review_due).days
            page.page_url = page.get_url()
        return pages
