"""Search pages: the results page, its JSON twin and the header box's suggestions.

All three answer every query string with 200 (an empty result at worst): what an agent types on a
call must never break the page. The JSON endpoints answer 401 JSON to anonymous users instead of
the login redirect the rest of the site uses.
"""

import logging
import re
from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django_filters import DateFromToRangeFilter
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, NumberColumn
from wagtail.admin.views.reports import ReportView
from wagtail.contrib.search_promotions.models import Query, QueryDailyHits
from wagtail.models import Page
from wagtail.permission_policies import ModelPermissionPolicy

from kb_site.content.models import ArticlePage, HomePage, Phrasing, SectionPage
from search import results, spelling, synonyms
from search.analysis import normalize, query_words
from search.models import ZeroResultQuery

logger = logging.getLogger(__name__)

RESULTS_PER_PAGE = 20
API_PER_PAGE = 20
SUGGEST_LIMIT = 8
SUGGEST_PAGE_FIELDS = ("id", "title", "path", "url_path", "content_type_id", "locale_id")


class SearchForm(forms.Form):
    """The query parameters. Invalid filters are ignored rather than reported: this is a search box."""

    q = forms.CharField(required=False, strip=False)
    type = forms.ChoiceField(required=False, choices=[("", "全部")] + [(k, k) for k in results.FILTER_KINDS])
    section = forms.IntegerField(required=False, min_value=1)
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, data=None, **kwargs):
        if data is not None:
            # Control characters (NUL included, which CharField would reject) become spaces first.
            data = data.copy()
            data["q"] = synonyms.clean_query(data.get("q", ""))
        super().__init__(data, **kwargs)

    def params(self):
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return (
            data.get("q") or "",
            data.get("type") or None,
            data.get("section"),
            data.get("page") or 1,
        )


def _record(query, outcome):
    """Query hits for search_promotions' statistics, and the day's zero-result count."""
    try:
        Query.get(query).add_hit()
        if outcome.unfiltered_total == 0:
            ZeroResultQuery.record(query)
    except Exception:
        logger.exception("Could not record search statistics for %r", query)


def _corrections(request, query):
    try:
        return spelling.suggest_corrections(
            query, has_results=lambda candidate: results.search_all(request, candidate).unfiltered_total > 0
        )
    except Exception:
        logger.exception("Spelling suggestions failed for %r", query)
        return []


def _run_search(request):
    form = SearchForm(request.GET)
    query, kind, section, page_number = form.params()
    outcome = results.search_all(request, query, kind=kind, section=section)
    paginator = Paginator(outcome.hits, RESULTS_PER_PAGE)
    page = paginator.get_page(page_number)
    results.describe_all(page.object_list, request, outcome.terms)
    if query and page_number == 1 and not kind and not section:
        _record(query, outcome)
    corrections = _corrections(request, query) if query and outcome.unfiltered_total == 0 else []
    return query, kind, section, outcome, page, corrections


def search(request):
    """The results page for the header search box: every kind of content, facets, highlighting."""
    query, kind, section, outcome, page, corrections = _run_search(request)

    def url_with(**changes):
        params = {"q": query, "type": kind or "", "section": section or ""}
        params.update(changes)
        return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})

    kind_facets = [
        {"kind": "", "label": "全部", "count": sum(outcome.kind_counts.values()), "url": url_with(type="")}
    ] + [
        {"kind": k, "label": results.KIND_LABELS[k], "count": n, "url": url_with(type=k)}
        for k, n in outcome.kind_counts.items()
    ]
    section_facets = [
        {"section": s, "count": n, "url": url_with(section=s.id), "active": s.id == section}
        for s, n in outcome.section_counts
    ]
    return render(
        request,
        "search/search.html",
        {
            "search_query": query,
            "active_kind": kind or "",
            "active_section": section,
            "outcome": outcome,
            "page_obj": page,
            "kind_facets": kind_facets,
            "section_facets": section_facets,
            "clear_section_url": url_with(section=""),
            "corrections": [{"text": c, "url": "?" + urlencode({"q": c})} for c in corrections],
            "page_url_prefix": url_with(page="") + "&page=" if query else "?page=",
        },
    )


def json_login_required(view):
    """Like the site's login requirement, but anonymous API callers get 401 JSON, not a redirect."""

    @login_not_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"error": "login_required", "message": "请先登录"}, status=401)
        return view(request, *args, **kwargs)

    return wrapper


@json_login_required
def search_api(request):
    """GET /search/api/?q=&type=&section=&page= → ranked, highlighted results as JSON."""
    form = SearchForm(request.GET)
    query, kind, section, page_number = form.params()
    outcome = results.search_all(request, query, kind=kind, section=section)
    page = Paginator(outcome.hits, API_PER_PAGE).get_page(page_number)
    results.describe_all(page.object_list, request, outcome.terms)
    if query and page_number == 1 and not kind and not section:
        _record(query, outcome)
    corrections = _corrections(request, query) if query and outcome.unfiltered_total == 0 else []
    return JsonResponse(
        {
            "query": query,
            "total": outcome.total,
            "truncated": outcome.truncated,
            "took_ms": round(outcome.took_ms, 2),
            "page": page.number,
            "num_pages": page.paginator.num_pages,
            "facets": {
                "type": outcome.kind_counts,
                "section": [{"id": s.id, "title": s.title, "count": n} for s, n in outcome.section_counts],
            },
            "suggestions": corrections,
            "results": [hit.as_json() for hit in page.object_list],
        },
        json_dumps_params={"ensure_ascii": False},
    )


def _autocomplete(queryset, text, limit):
    try:
        return list(queryset.autocomplete(text)[:limit])
    except NotImplementedError:
        return list(queryset.search(text)[:limit])


def suggestions_for(request, text, limit=SUGGEST_LIMIT):
    """Titles for the header box as the agent types: pages first, then phrasings; pinyin keys match."""
    # Only words: quotes, operators and field syntax mean nothing in a title box.
    text = " ".join(re.sub(r"[^\w\s]", " ", synonyms.clean_query(text)[:40]).split())
    if not query_words(text):
        return []
    excluded = [ct.id for ct in ContentType.objects.get_for_models(Page, HomePage, SectionPage).values()]
    article_ct = ContentType.objects.get_for_model(ArticlePage).id
    blocked = results.blocked_page_paths(request)
    folded = normalize(text)
    items = []
    # Home and section pages are filtered out in the index (a content-type filter), so ``limit`` hits
    # are enough; only the few columns a suggestion shows are loaded.
    pages = Page.objects.live().exclude(content_type_id__in=excluded).only(*SUGGEST_PAGE_FIELDS)
    for page in _autocomplete(pages, text, limit + (limit if blocked else 0)):
        if blocked and page.path.startswith(blocked):
            continue
        kind = "article" if page.content_type_id == article_ct else "procedure"
        items.append({"title": page.title, "url": page.get_url(request) or "", "type": kind})
    sections = None
    phrasings = Phrasing.objects.filter(live=True).only("id", "title", "section_id")
    for phrasing in _autocomplete(phrasings, text, limit):
        if sections is None:
            sections = results.shared_sections.get()
        section = sections.by_id.get(phrasing.section_id)
        items.append(
            {"title": phrasing.title, "url": results.phrasing_url(phrasing, section), "type": "phrasing"}
        )
    # Titles that start with what was typed first; the backend's order otherwise.
    items.sort(key=lambda item: not normalize(item["title"]).startswith(folded))
    for item in items:
        item["type_label"] = results.KIND_LABELS[item["type"]]
    return items[:limit]


@json_login_required
def suggest(request):
    """GET /search/suggest/?q= → [{"title", "url", "type"}] for the header search box."""
    try:
        items = suggestions_for(request, request.GET.get("q", ""))
    except Exception:
        logger.exception("Suggestions failed for %r", request.GET.get("q", ""))
        items = []
    return JsonResponse(items, safe=False, json_dumps_params={"ensure_ascii": False})


# --- admin reports ------------------------------------------------------------------------------


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


class SearchQueryReportView(ReportView):
    """热门搜索: what agents search for most, over a date range; CSV/XLSX export.

    Rows are aggregated per query over the filtered days. Subclasses point ``filterset_class`` and
    ``get_rows_queryset`` at another daily-count table (see ``ZeroResultReportView``).
    """

    page_title = _("热门搜索")
    header_icon = "search"
    index_url_name = "search_top_queries"
    index_results_url_name = "search_top_queries_results"
    filterset_class = TopQueriesFilterSet
    permission_policy = ModelPermissionPolicy(ZeroResultQuery)
    permission_required = "view"
    query_field = "query__query_string"
    columns = [
        Column("query_string", label=_("搜索词")),
        NumberColumn("hits", label=_("次数")),
        Column("days", label=_("出现天数")),
        DateColumn("last_date", label=_("最近一次")),
    ]
    list_export = ["query_string", "hits", "days", "last_date"]
    export_headings = {"query_string": "搜索词", "hits": "次数", "days": "出现天数", "last_date": "最近一次"}

    def get_filename(self):
        return f"{self.index_url_name.replace('_', '-')}-{timezone.localdate():%Y-%m-%d}"

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
            hits=Sum("hits"), days=Count("date", distinct=True), last_date=Max("date")
        ).order_by("-hits", "query_string")


class ZeroResultReportView(SearchQueryReportView):
    """无结果搜索: queries that found nothing, most frequent first, to show trainers what to write."""

    page_title = _("无结果搜索")
    header_icon = "warning"
    index_url_name = "search_zero_results"
    index_results_url_name = "search_zero_results_results"
    filterset_class = ZeroResultFilterSet
    query_field = "query_string"

    def get_rows_queryset(self):
        return ZeroResultQuery.objects.all()
