"""Admin reports on what agents search for: 热门搜索 and 无结果搜索 (registered in ``wagtail_hooks``)."""

from django.db.models import Count, F, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import DateFromToRangeFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, NumberColumn
from wagtail.contrib.search_promotions.models import QueryDailyHits
from wagtail.permission_policies import ModelPermissionPolicy

from kb_site.reports import ColumnsReportView, LocalTimeColumn
from search.models import ZeroResultQuery


class SearchReportFilterSet(WagtailFilterSet):
    date = DateFromToRangeFilter(label=_("日期"), widget=DateRangePickerWidget)

    class Meta:
        fields = []


class TopQueriesFilterSet(SearchReportFilterSet):
    class Meta(SearchReportFilterSet.Meta):
        model = QueryDailyHits


class ZeroResultFilterSet(SearchReportFilterSet):
    class Meta(SearchReportFilterSet.Meta):
        model = ZeroResultQuery


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


class ZeroResultReportView(SearchQueryReportView):
    """无结果搜索: queries that found nothing, most frequent first, to show trainers what to write."""

    page_title = _("无结果搜索")
    header_icon = "warning"
    index_url_name = "search_zero_results:index"
    index_results_url_name = "search_zero_results:index_results"
    filename_prefix = "search-zero-results"
    filterset_class = ZeroResultFilterSet
    query_field = "query_string"
    time_field = "last_searched_at"

    def get_rows_queryset(self):
        return ZeroResultQuery.objects.all()
