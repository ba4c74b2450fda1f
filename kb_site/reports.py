"""How every Callbook admin report is registered: one ``ReportViewSet`` per report.

A report is a Wagtail ``ReportView`` subclass that declares who may see it the way Wagtail's own views
do (``permission_policy`` plus ``permission_required`` or ``any_permission_required``). The viewset
serves it at ``/admin/<url_prefix>/`` with the ``results/`` view its filters refresh, and adds an item
to the Reports menu that only the users the same policy admits see. Register it from an app's
``wagtail_hooks.py``::

    @hooks.register("register_admin_viewset")
    def register_overdue_review_report():
        return ReportViewSet(
            "content_overdue_review", view_class=OverdueReviewReportView, url_prefix="reports/overdue-review"
        )

``reverse("content_overdue_review:index")`` is then the report's URL; the menu item takes the view's
``page_title`` and ``header_icon`` unless ``menu_label`` / ``menu_icon`` are given. Subclasses add views (a run's
timeline, say) by extending ``get_urlpatterns``. This module knows no project model: any app may use it.
"""

import datetime

import django_filters
from django.core.exceptions import ValidationError
from django.urls import path
from django.utils import timezone
from django.utils.functional import cached_property
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.reports import ReportView
from wagtail.admin.viewsets.base import ViewSet
from wagtail.permissions import policy_registry

from zhtext import clean_text

# A spreadsheet program runs a CSV cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value, export_format):
    """``value`` as a spreadsheet may receive it: text without the characters XLSX refuses (control
    characters, noncharacters) and, in CSV, never starting a formula (prefixed with ``'``, as OWASP
    advises). XLSX cells are already written as text, not formulas, by Wagtail."""
    if not isinstance(value, str):
        return value
    value = clean_text(value, multiline=True)
    if export_format == "csv" and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeExportMixin:
    """For any Wagtail view with spreadsheet export (reports, snippet listings): spreadsheets as a
    supervisor opens them. Every cell goes through ``safe_cell`` (whatever was stored before the forms
    cleaned their input), times are the site's local time to the second (Wagtail writes UTC with
    microseconds), and a CSV starts with the UTF-8 BOM that Excel on Chinese Windows needs."""

    def preprocess_field_value(self, field, value, export_format):
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            value = timezone.localtime(value).replace(microsecond=0, tzinfo=None)
        return safe_cell(super().preprocess_field_value(field, value, export_format), export_format)

    def stream_csv(self, queryset):
        yield "\ufeff"
        yield from super().stream_csv(queryset)


# The largest primary key the databases store (a signed 64-bit integer).
MAX_ID = 2**63 - 1


class IdChoiceField(django_filters.fields.ModelChoiceField):
    """A model choice by id that treats an id no database can hold as an unknown choice.

    Django's own field would pass ``10**30`` to the database, where SQLite raises ``OverflowError`` and
    PostgreSQL an out-of-range error: a 500 from a tampered filter.
    """

    def to_python(self, value):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit() and abs(int(value)) > MAX_ID:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdChoiceFilter(django_filters.ModelChoiceFilter):
    """``ModelChoiceFilter`` for report and listing filters: an out-of-range id is ignored, never a 500."""

    field_class = IdChoiceField


class ColumnsReportView(SafeExportMixin, ReportView):
    """A report whose CSV/XLSX export is exactly its listed ``columns``, headed by their labels.

    One list to keep: a column added to the listing is in the export too, with the value the listing
    shows (the column's accessor), so a spreadsheet and the screen never disagree.
    """

    columns = []

    @property
    def list_export(self):
        return [column.name for column in self.columns]

    @property
    def export_headings(self):
        return {column.name: column.label for column in self.columns}

    def to_row_dict(self, item):
        return {column.name: column.get_value(item) for column in self.columns}


class ReportMenuItem(MenuItem):
    """A Reports menu item shown to the users the report view's permission policy admits."""

    def __init__(self, *args, view_class, **kwargs):
        super().__init__(*args, **kwargs)
        self.view_class = view_class

    def is_shown(self, request):
        return report_permitted(self.view_class, request.user)


def report_permitted(view_class, user):
    """Whether ``user`` passes the permission check ``view_class`` declares (as its ``dispatch`` does)."""
    policy = view_class.permission_policy
    if isinstance(policy, cached_property):  # PermissionCheckedMixin's default: the policy of ``model``
        policy = policy_registry.get_by_type(view_class.model) if view_class.model else None
    if policy is None:  # the view checks nothing beyond admin access, and neither does its menu item
        return user.is_active
    if view_class.permission_required is not None:
        return policy.user_has_permission(user, view_class.permission_required)
    if view_class.any_permission_required is not None:
        return policy.user_has_any_permission(user, view_class.any_permission_required)
    return user.is_active


class ReportViewSet(ViewSet):
    """One admin report: its listing, the results-only view its filters refresh, and a menu item."""

    view_class = None
    menu_hook = "register_reports_menu_item"

    @cached_property
    def menu_label(self):
        return self.view_class.page_title

    @cached_property
    def menu_icon(self):
        return self.view_class.header_icon

    def get_urlpatterns(self):
        return [
            path("", self.view_class.as_view(), name="index"),
            path("results/", self.view_class.as_view(results_only=True), name="index_results"),
        ]

    def get_menu_item(self, order=None):
        return ReportMenuItem(
            self.menu_label,
            self.menu_url,
            name=self.menu_name or self.name,
            icon_name=self.menu_icon,
            order=self.get_menu_item_order(order),
            view_class=self.view_class,
        )
