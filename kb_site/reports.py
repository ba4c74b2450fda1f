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

Spreadsheets say what the screen says, the way a supervisor reads it in Excel: every export writes a
flag as 是 / 否, a person by their name (``display_name``), a time in the site's local time to the second
and a duration in whole seconds under a heading that says so. Columns whose cell should differ from the
screen declare it (``ExportColumn``: ``DurationColumn``, ``LocalTimeColumn``, ``YesNoColumn``); a code
(a status, a step key) is never exported, its label is.
"""

import datetime

import django_filters
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.urls import path
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.functional import Promise, cached_property
from django.utils.text import format_lazy
from django.utils.translation import gettext
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.reports import ReportView
from wagtail.admin.viewsets.base import ViewSet
from wagtail.coreutils import multigetattr
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


def yes_no(value):
    """是 / 否 for a flag (Wagtail's listings and exports would print Python's True / False)."""
    return gettext("是") if value else gettext("否")


def display_name(user):
    """How reports name a person: the full name, else the username ("" for nobody)."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def whole_seconds(value):
    """A duration (a ``timedelta`` or a number of seconds) as whole seconds; None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    return round(value)


def local_time(value):
    """An aware datetime in the site's time zone to the second, without tzinfo (as a spreadsheet keeps
    it); anything else as it is."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(microsecond=0, tzinfo=None)
    return value


def export_value(value):
    """A typed value as a spreadsheet cell holds it: a flag as 是 / 否, a duration in whole seconds, a user
    by name, a time in local time to the second; text and numbers as they are."""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, datetime.timedelta):
        return whole_seconds(value)
    if isinstance(value, AbstractBaseUser):
        return display_name(value)
    if isinstance(value, Promise):
        return str(value)
    return local_time(value)


class SafeExportMixin:
    """For any Wagtail view with spreadsheet export (reports, snippet listings): spreadsheets as a
    supervisor opens them. Every value goes through ``export_value`` (是 / 否, names, local time to the
    second, whole seconds: Wagtail writes True, usernames, UTC with microseconds and ``0:01:00.010065``)
    and ``safe_cell`` (whatever was stored before the forms cleaned their input), and a CSV starts with
    the UTF-8 BOM that Excel on Chinese Windows needs."""

    def preprocess_field_value(self, field, value, export_format):
        value = export_value(value)
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


class UserChoiceField(IdChoiceField):
    def label_from_instance(self, obj):
        return display_name(obj)


class UserChoiceFilter(IdChoiceFilter):
    """``IdChoiceFilter`` over users, each offered by name (``display_name``) as the report shows them."""

    field_class = UserChoiceField


class ExportColumn(Column):
    """A listed column whose spreadsheet cell may differ from what the screen shows.

    ``export_accessor`` (an attribute path or a callable, like ``accessor``) gives the value to export,
    typed (a number, a flag, a datetime, a user: ``export_value`` writes it), where the screen shows it
    formatted; ``export_label`` is the heading when it must say more than ``label`` (its unit).
    """

    def __init__(self, name, *, export_accessor=None, export_label=None, **kwargs):
        super().__init__(name, **kwargs)
        self.export_accessor = export_accessor
        self.export_label = export_label or self.label

    def get_export_value(self, instance):
        if self.export_accessor is None:
            return self.get_value(instance)
        if callable(self.export_accessor):
            return self.export_accessor(instance)
        try:
            return multigetattr(instance, self.export_accessor)
        except AttributeError:
            return None


class DurationColumn(ExportColumn):
    """A duration: the screen shows ``accessor`` (``3分30秒``), the export the whole seconds ``seconds``
    gives (a number or a ``timedelta``) under the heading ``<label>（秒）``."""

    def __init__(self, name, *, seconds, label, **kwargs):
        super().__init__(
            name, label=label, export_accessor=seconds, export_label=format_lazy("{}（秒）", label), **kwargs
        )

    def get_export_value(self, instance):
        return whole_seconds(super().get_export_value(instance))


class LocalTimeColumn(ExportColumn):
    """A time (or a date) as it happened here: the screen shows local time to the minute (``2026-03-01
    14:05``; a date as ``2026-03-01``), never a “12 小时之前” worked out from a bare date; the export keeps
    the typed value (local time to the second, by ``export_value``)."""

    time_format = "Y-m-d H:i"
    date_format = "Y-m-d"

    def get_export_value(self, instance):
        return super().get_value(instance)

    def get_value(self, instance):
        value = super().get_value(instance)
        if isinstance(value, datetime.datetime):
            return format_date(
                timezone.localtime(value) if timezone.is_aware(value) else value, self.time_format
            )
        if isinstance(value, datetime.date):
            return format_date(value, self.date_format)
        return value


class YesNoColumn(ExportColumn):
    """A flag shown and exported as 是 / 否."""

    def get_value(self, instance):
        value = super().get_value(instance)
        return "" if value is None else yes_no(value)


class ColumnsReportView(SafeExportMixin, ReportView):
    """A report whose CSV/XLSX export is exactly its listed ``columns``, headed by their labels.

    One list to keep: a column added to the listing is in the export too, with the value the listing
    shows (the column's accessor), so a spreadsheet and the screen never disagree; an ``ExportColumn``
    writes the same fact typed for a spreadsheet (seconds as a number, a time to the second).
    """

    columns = []

    @property
    def list_export(self):
        return [column.name for column in self.columns]

    @property
    def export_headings(self):
        return {column.name: getattr(column, "export_label", column.label) for column in self.columns}

    def to_row_dict(self, item):
        return {column.name: self.export_cell(column, item) for column in self.columns}

    def export_cell(self, column, item):
        """What ``column`` writes for ``item``: its ``get_export_value`` (``ExportColumn``) or what it shows."""
        if isinstance(column, ExportColumn):
            return column.get_export_value(item)
        return column.get_value(item)


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
