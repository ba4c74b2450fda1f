"""Admin reports on what agents search for: 热门搜索 and 无结果搜索 (registered in ``wagtail_hooks``)."""

from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import ChoiceFilter, DateFromToRangeFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, NumberColumn
from wagtail.contrib.search_promotions.models import QueryDailyHits
from wagtail.permission_policies import ModelPermissionPolicy

from kb_site.reports import ColumnsReportView, ExportColumn, LocalTimeColumn
from search.admin_views import may_add_promotion, may_add_synonym
from search.models import ZeroResultQuery

NOTHING, WEAK = "nothing", "weak"


class SearchReportFilterSet(WagtailFilterSet):
    date = DateFromToRangeFilter(label=_("日期"), widget=DateRangePickerWidget)

    class Meta:
        fields = []


class TopQueriesFilterSet(SearchReportFilterSet):
    class Meta(SearchReportFilterSet.Meta):
        model = QueryDailyHits


class ZeroResultFilterSet(SearchReportFilterSet):
    kind = ChoiceFilter(
        label=_("结果"),
        choices=[(NOTHING, _("无结果")), (WEAK, _("结果较弱"))],
        method="filter_kind",
        empty_label=_("全部"),
    )

    class Meta(SearchReportFilterSet.Meta):
        model = ZeroResultQuery

    def filter_kind(self, queryset, name, value):
        return queryset.filter(best_coverage__isnull=value == NOTHING)


def last_search(row):
    """The time of a query's last search over the filtered days, in local time; its day alone where the
    last day counted it before times were kept."""
    at, day = row["last_time"], row["last_date"]
    if at is None or timezone.localdate(at) < day:
        return day
    return at


class SearchQueryReportView(ColumnsReportView):
    """热门搜索: what agents search for most, over a date range; CSV/XLSX export.

    Rows are aggregated per query over the filtered days (the site's local days). Subclasses point
    ``filterset_class``, ``get_rows_queryset`` and ``time_field`` at another daily-count table (see
    ``ZeroResultReportView``). Both reports are for whoever may view the zero-result records (trainers
    and supervisors).
    """

    page_title = _("热门搜索")
    header_icon = "search"
    index_url_name = "search_top_queries:index"
    index_results_url_name = "search_top_queries:index_results"
    filename_prefix = "search-top-queries"
    filterset_class = TopQueriesFilterSet
    permission_policy = ModelPermissionPolicy(ZeroResultQuery)
    permission_required = "view"
    query_field = "query__query_string"
    time_field = "last_search__searched_at"
    columns = [
        Column("query_string", label=_("搜索词")),
        NumberColumn("hits", label=_("次数")),
        Column("days", label=_("出现天数")),
        LocalTimeColumn("last_search", label=_("最近一次"), accessor=last_search),
    ]

    def get_filename(self):
        return f"{self.filename_prefix}-{timezone.localdate():%Y-%m-%d}"

    def get_rows_queryset(self):
        return QueryDailyHits.objects.all()

    def get_filterset_kwargs(self):
        kwargs = super().get_filterset_kwargs()
        kwargs["queryset"] = self.get_rows_queryset()
        return kwargs

    def get_queryset(self):
        return self.get_rows_queryset()

    def get_filtered_queryset(self):
        rows = self.filter_queryset(self.get_queryset())
        if self.query_field == "query_string":
            rows = rows.values("query_string")
        else:
            rows = rows.values(query_string=F(self.query_field))
        return rows.annotate(
            hits=Sum("hits"),
            days=Count("date", distinct=True),
            last_date=Max("date"),
            last_time=Max(self.time_field),
        ).order_by("-hits", "query_string")


def result_label(row):
    """无结果, or 结果较弱 when every search of it over the filtered days found something."""
    return gettext("无结果") if row["nothing"] else gettext("结果较弱")


def coverage_percent(row):
    """The lowest coverage of its best hit over the filtered days, in whole percent (none: found nothing)."""
    if row["nothing"] or row["coverage"] is None:
        return None
    return round(row["coverage"] * 100)


def coverage_label(row):
    percent = coverage_percent(row)
    return "" if percent is None else f"{percent}%"


def best_title(row):
    return "" if row["nothing"] else row["best_title"] or ""


class RowActionsColumn(Column):
    """加同义词 / 设推荐结果 for a row's query, for whoever may add them (not exported)."""

    cell_template_name = "search/admin/zero_result_actions_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        request = parent_context.get("request")
        user = getattr(request, "user", None)
        params = {"q": instance["query_string"], "next": report_url(request)}
        if user is not None and may_add_synonym(user):
            context["synonym_url"] = reverse("search_zero_results_add_synonym") + "?" + urlencode(params)
        if user is not None and may_add_promotion(user):
            context["promotion_url"] = reverse("search_zero_results_add_promotion") + "?" + urlencode(params)
        return context


def report_url(request):
    """The 无结果搜索 report with the filters of ``request`` (also when its results are refreshed alone)."""
    url = reverse("search_zero_results:index")
    params = request.GET.copy() if request is not None else {}
    for name in ("export", "p"):
        params.pop(name, None)
    return url + ("?" + params.urlencode() if params else "")


class ZeroResultReportView(SearchQueryReportView):
    """无结果搜索: queries that found nothing, or only results that cover less than half of their words
    (结果较弱, ``search.coverage``), most frequent first, to show trainers what to write; from a row a
    synonym or a promoted result is one step away (``search.admin_views``).

    A query counts as 无结果 if any of its searches over the filtered days found nothing, else as 结果较弱
    with the lowest coverage of those days and the title of that best hit.
    """

    page_title = _("无结果搜索")
    header_icon = "warning"
    index_url_name = "search_zero_results:index"
    index_results_url_name = "search_zero_results:index_results"
    filename_prefix = "search-zero-results"
    filterset_class = ZeroResultFilterSet
    query_field = "query_string"
    time_field = "last_searched_at"
    columns = SearchQueryReportView.columns + [
        Column("result", label=_("结果"), accessor=result_label),
        ExportColumn(
            "coverage",
            label=_("最佳结果覆盖率"),
            accessor=coverage_label,
            export_accessor=coverage_percent,
            export_label=_("最佳结果覆盖率（%）"),
        ),
        Column("best_title", label=_("最佳结果"), accessor=best_title),
        RowActionsColumn("actions", label=_("处理")),
    ]

    @property
    def export_columns(self):
        return [column for column in self.columns if not isinstance(column, RowActionsColumn)]

    @property
    def list_export(self):
        return [column.name for column in self.export_columns]

    def to_row_dict(self, item):
        return {column.name: self.export_cell(column, item) for column in self.export_columns}

    def get_rows_queryset(self):
        return ZeroResultQuery.objects.all()

    def get_filtered_queryset(self):
        days = self.filter_queryset(self.get_queryset())
        weakest = days.filter(query_string=OuterRef("query_string"), best_coverage__isnull=False)
        return (
            super()
            .get_filtered_queryset()
            .annotate(
                nothing=Count("pk", filter=Q(best_coverage__isnull=True)),
                coverage=Min("best_coverage"),
                best_title=Subquery(weakest.order_by("best_coverage", "-date").values("best_title")[:1]),
            )
        )
