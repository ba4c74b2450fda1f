"""Search pages: the results page, its JSON twin and the header box's suggestions (``search.suggest``).

All three answer every query string with 200 (an empty result at worst): what an agent types on a
call must never break the page. The JSON endpoints answer 401 JSON to anonymous users instead of
the login redirect the rest of the site uses.
"""

import datetime
import logging
from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from wagtail.contrib.search_promotions.models import QueryDailyHits

from search import clicks, coverage, kinds, results, spelling, synonyms
from search.models import QueryDailyLastSearch, ZeroResultQuery
from search.suggest import suggestions_for
from zhtext import content_words

logger = logging.getLogger(__name__)

RESULTS_PER_PAGE = 20
API_PER_PAGE = 20
POPULAR_DAYS = 30


class SearchForm(forms.Form):
    """The query parameters. Invalid filters are ignored rather than reported: this is a search box."""

    q = forms.CharField(required=False, strip=False)
    type = forms.ChoiceField(required=False)
    section = forms.IntegerField(required=False, min_value=1)
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, data=None, **kwargs):
        if data is not None:
            # Control characters (NUL included, which CharField would reject) become spaces first.
            data = data.copy()
            data["q"] = synonyms.clean_query(data.get("q", ""))
        super().__init__(data, **kwargs)
        self.fields["type"].choices = [("", _("全部"))] + [
            (kind.name, kind.label) for kind in kinds.all_kinds()
        ]

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
    """Query hits for search_promotions' statistics, and the day's count of searches that found nothing
    or only a weak best hit (``search.coverage``): on the local day, with the time of the search (the
    reports' 最近一次)."""
    now = timezone.now()
    try:
        QueryDailyLastSearch.count_search(query, now)
        if outcome.unfiltered_total == 0:
            ZeroResultQuery.record(query, now=now)
        elif coverage.is_weak(outcome.best_coverage):
            ZeroResultQuery.record(query, now=now, coverage=outcome.best_coverage, title=outcome.best_title)
    except Exception:
        logger.exception("Could not record search statistics for %r", query)


def _note_search(request):
    """A search soon after opening a result: that result did not answer (``search.clicks``)."""
    try:
        clicks.note_search(request)
    except Exception:
        logger.exception("Could not note a return to search")


def _corrections(request, query):
    try:
        return spelling.suggest_corrections(
            query, has_results=lambda candidate: results.search_all(request, candidate).unfiltered_total > 0
        )
    except Exception:
        logger.exception("Spelling suggestions failed for %r", query)
        return []


def _popular_corrections(request, limit=3):
    """What agents searched most over the last 30 days and found something for: offered under 您是不是要找
    when only 了, 的, 请问… was typed (no spelling correction can help there)."""
    since = timezone.localdate() - datetime.timedelta(days=POPULAR_DAYS)
    rows = (
        QueryDailyHits.objects.filter(date__gte=since)
        .values("query__query_string")
        .annotate(n=Sum("hits"))
        .order_by("-n", "query__query_string")[: limit * 4]
    )
    found = []
    try:
        for text in (row["query__query_string"] for row in rows):
            if content_words(text) and results.search_all(request, text).unfiltered_total:
                found.append(text)
            if len(found) >= limit:
                break
    except Exception:
        logger.exception("Popular searches could not be offered")
    return found


def _run_search(request, per_page=RESULTS_PER_PAGE):
    """Search, describe the hits of the page asked for, record statistics: shared by the page and the API."""
    form = SearchForm(request.GET)
    query, kind, section, page_number = form.params()
    if query:
        _note_search(request)
    outcome = results.search_all(request, query, kind=kind, section=section)
    paginator = Paginator(outcome.hits, per_page)
    page = paginator.get_page(page_number)
    results.describe_all(page.object_list, request, outcome.terms, outcome.dependencies)
    clicks.attach_open_urls(page.object_list, query, page.start_index())
    if query and page_number == 1 and not kind and not section:
        _record(query, outcome)
    corrections = []
    if query and outcome.unfiltered_total == 0:
        # Only 了, 的, 请问… typed: no correction can help; the page says to type what is searched for
        # and offers what colleagues searched most.
        if outcome.function_words_only:
            corrections = _popular_corrections(request)
        else:
            corrections = _corrections(request, query)
    return query, kind, section, outcome, page, corrections


def search(request):
    """The results page for the header search box: every kind of content, facets, highlighting."""
    query, kind, section, outcome, page, corrections = _run_search(request)

    def url_with(**changes):
        params = {"q": query, "type": kind or "", "section": section or ""}
        params.update(changes)
        return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})

    kind_facets = [
        {"kind": "", "label": _("全部"), "count": sum(outcome.kind_counts.values()), "url": url_with(type="")}
    ] + [
        {"kind": k, "label": kinds.kind_label(k), "count": n, "url": url_with(type=k)}
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
            return JsonResponse({"error": "login_required", "message": _("请先登录")}, status=401)
        return view(request, *args, **kwargs)

    return wrapper


@json_login_required
def search_api(request):
    """GET /search/api/?q=&type=&section=&page= → ranked, highlighted results as JSON."""
    query, _kind, _section, outcome, page, corrections = _run_search(request, per_page=API_PER_PAGE)
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
            "function_words_only": outcome.function_words_only,
            "widened_terms": list(outcome.widened_terms),
            "reading": outcome.reading.as_json() if outcome.reading else None,
            "results": [{**hit.as_json(), "open_url": hit.open_url} for hit in page.object_list],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@json_login_required
def suggest(request):
    """GET /search/suggest/?q= → the header box's suggestions.

    htmx asks for the listbox fragment (``search/includes/suggestions.html``); any other caller gets
    JSON: ``[{"title", "url", "type", "type_label"}]``.
    """
    try:
        items = suggestions_for(request, request.GET.get("q", ""))
    except Exception:
        logger.exception("Suggestions failed for %r", request.GET.get("q", ""))
        items = []
    if request.htmx:
        response = render(request, "search/includes/suggestions.html", {"items": items})
    else:
        response = JsonResponse(items, safe=False, json_dumps_params={"ensure_ascii": False})
    patch_vary_headers(response, ["HX-Request"])  # one URL, two representations
    return response
