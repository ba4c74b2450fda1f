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
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from wagtail.models import Page

from search import clicks, coverage, kinds, results, spelling, synonyms
from search.models import QueryDailyLastSearch, ZeroResultQuery
from zhtext import normalize, query_words

logger = logging.getLogger(__name__)

RESULTS_PER_PAGE = 20
API_PER_PAGE = 20
SUGGEST_LIMIT = 8
SUGGEST_PAGE_FIELDS = ("id", "title", "path", "url_path", "content_type_id", "locale_id")


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


def _run_search(request, per_page=RESULTS_PER_PAGE):
    """Search, describe the hits of the page asked for, record statistics: shared by the page and the API."""
    form = SearchForm(request.GET)
    query, kind, section, page_number = form.params()
    if query:
        _note_search(request)
    outcome = results.search_all(request, query, kind=kind, section=section)
    paginator = Paginator(outcome.hits, per_page)
    page = paginator.get_page(page_number)
    results.describe_all(page.object_list, request, outcome.terms)
    clicks.attach_open_urls(page.object_list, query, page.start_index())
    if query and page_number == 1 and not kind and not section:
        _record(query, outcome)
    # Only 了, 的, 请问… typed: no correction can help; the page says to type what is searched for.
    wanted = query and outcome.unfiltered_total == 0 and not outcome.function_words_only
    corrections = _corrections(request, query) if wanted else []
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
            "reading": outcome.reading.as_json() if outcome.reading else None,
            "results": [{**hit.as_json(), "open_url": hit.open_url} for hit in page.object_list],
        },
        json_dumps_params={"ensure_ascii": False},
    )


def _autocomplete(queryset, text, limit):
    try:
        return list(queryset.autocomplete(text)[:limit])
    except NotImplementedError:
        return list(queryset.search(text)[:limit])


def suggestions_for(request, text, limit=SUGGEST_LIMIT):
    """Titles for the header box as the agent types: pages first, then snippets; pinyin keys match."""
    # Only words: quotes, operators and field syntax mean nothing in a title box.
    text = " ".join(re.sub(r"[^\w\s]", " ", synonyms.clean_query(text)[:40]).split())
    if not query_words(text):
        return []
    folded = normalize(text)
    items = []
    page_kinds = kinds.page_kinds()
    if page_kinds:
        kind_by_type = kinds.page_kinds_by_content_type()
        blocked = results.blocked_page_paths(request)
        # Other page types are filtered out in the index (a content-type filter), so ``limit`` hits are
        # enough; only the few columns a suggestion shows are loaded.
        pages = Page.objects.live().filter(content_type_id__in=list(kind_by_type)).only(*SUGGEST_PAGE_FIELDS)
        for page in _autocomplete(pages, text, limit + (limit if blocked else 0)):
            if blocked and page.path.startswith(blocked):
                continue
            kind = kind_by_type[page.content_type_id]
            items.append({"title": page.title, "url": page.get_url(request) or "", "type": kind.name})
    sections = None
    for kind in kinds.all_kinds():
        if kind.is_page or kind.is_document:
            continue
        for obj in _autocomplete(kind.get_queryset().only(*kind.row_fields), text, limit):
            section = None
            if kind.section_field:
                if sections is None:
                    sections = results.shared_sections.get()
                section = sections.by_id.get(getattr(obj, kind.section_field))
            url = results.snippet_url(kind, obj, section)
            items.append({"title": kind.title_of(obj), "url": url, "type": kind.name})
    # Titles that start with what was typed first; the backend's order otherwise.
    items.sort(key=lambda item: not normalize(item["title"]).startswith(folded))
    for item in items:
        item["type_label"] = str(kinds.kind_label(item["type"]))
    return items[:limit]


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
