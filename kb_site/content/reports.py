"""Admin reports on knowledge content: 待复核内容 (registered in ``wagtail_hooks``)."""

from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.models import Page, get_page_models

from kb_site.reports import ColumnsReportView, ExportColumn, LocalTimeColumn, display_name

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


class SelectColumn(Column):
    """A checkbox per row: the rows 复核完成 acts on (``review.MarkReviewedBulkAction``); not exported."""

    def get_value(self, instance):
        return format_html(
            '<input type="checkbox" name="id" value="{}" aria-label="{}">',
            instance.pk,
            _("选择“%(title)s”") % {"title": instance.title},
        )


class OverdueReviewReportView(ColumnsReportView):
    """待复核内容: every article and procedure whose review interval has run out, for page editors.

    The rows can be marked reviewed together: the listing is a form that sends the checked ids to the
    复核完成 bulk action (its confirmation page takes an optional note)."""

    page_title = _("待复核内容")
    header_icon = "time"
    index_url_name = "content_overdue_review:index"
    index_results_url_name = "content_overdue_review:index_results"
    results_template_name = "content/admin/overdue_review_results.html"
    select_column = SelectColumn("select", label=_("选择"))
    columns = [
        TitleColumn("title", label=_("标题"), url_name="wagtailadmin_pages:edit"),
        Column("page_type", label=_("类型")),
        Column("maintainer", label=_("负责培训师"), accessor="maintainer_name"),
        LocalTimeColumn("last_reviewed", label=_("上次复核")),
        LocalTimeColumn("review_due", label=_("复核到期")),
        ExportColumn(
            "days_overdue",
            label=_("逾期天数"),
            accessor="days_overdue_display",
            export_accessor="days_overdue",
        ),
        Column("page_url", label=_("地址")),
    ]
    model = Page
    any_permission_required = ["add", "change", "publish"]

    def get_table(self, object_list):
        return self.table_class([self.select_column, *self.columns], object_list, **self.get_table_kwargs())

    def get_filename(self):
        return f"overdue-review-{timezone.localdate():%Y-%m-%d}"

    def get_queryset(self):
        today = timezone.localdate()
        pages = sorted(overdue_pages(today), key=lambda p: p.review_due)
        for page in pages:
            page.page_type = page.get_verbose_name()
            page.days_overdue = (today - page.review_due).days
            page.days_overdue_display = ngettext("%(days)d 天", "%(days)d 天", page.days_overdue) % {
                "days": page.days_overdue
            }
            page.maintainer_name = display_name(page.maintainer) or "—"
            page.page_url = page.get_url()
        return pages
