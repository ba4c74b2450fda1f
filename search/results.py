"""Search across every kind of content for one user: the logic behind the results page and the API.

``search_all(request, text, kind=None, section=None)`` runs the query through Wagtail's search API
(so it works on whichever backend is the default), keeps only what the user may see, ranks hits of
all kinds in one list, puts promoted results (``wagtail.contrib.search_promotions``) first and counts
facets. ``describe(hit, request, terms)`` adds the URL and highlighted title and snippet, and is only
called for the hits actually shown.

Which kinds there are (流程, 文章, 话术, 文档 in the demo), how their hits are grouped into sections,
linked and described, is what the apps registered in ``search.kinds``: nothing here names a model.
"""

import functools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils.http import urlencode
from wagtail.contrib.search_promotions.models import SearchPromotion
from wagtail.fields import StreamField
from wagtail.models import Collection, CollectionViewRestriction, Page, PageViewRestriction, Site
from wagtail.search import index
from wagtail.search.utils import normalise_query_string
from wagtail.signals import page_published, page_unpublished, post_page_move

from search import clicks, coverage, highlight, kinds, reading, synonyms
from search.backend.documents import flatten_text
from search.caches import LRUCache, SharedValue
from zhtext import content_words, normalize, query_words

logger = logging.getLogger(__name__)

MAX_HITS_PER_KIND = 100
MAX_WIDENED_SHOWN = 6
# Only what ranking, facets and visibility need; shown hits are loaded in full (``load_objects``).
PAGE_FIELDS = ("id", "title", "path", "content_type_id")
DOCUMENT_FIELDS = ("id", "title", "collection_id")
# What a published row's description follows (``kept_descriptions``): its publication, and a page's URL.
VERSION_FIELDS = ("last_published_at", "live_revision_id")
PAGE_ROW_FIELDS = PAGE_FIELDS + ("url_path",) + VERSION_FIELDS
SNIPPET_LENGTH = 120
# Kept descriptions are keyed by this time slot too: a change no signal announced to this process (another
# process's, with the default per-process cache) shows within this many seconds.
KEEP_SECONDS = 60


@dataclass
class Hit:
    """One result. Ranking needs only ``pk``, ``title`` and ``section``; ``obj`` (the page, snippet or
    document) is loaded by ``describe_all`` for the hits actually shown."""

    kind: str
    obj: Any
    title: str
    raw_score: float = 0.0
    score: float = 0.0
    section: Any = None
    promoted: bool = False
    description: str = ""
    url: str = ""
    title_html: str = ""
    snippet_html: str = ""
    pk: Any = None
    model: Any = None  # the hit's specific class, so ``load_objects`` fetches it in one query per class
    # What its description follows besides its id (a page's URL path and publication, a snippet's
    # publication), from the row it was ranked from; ``None``: never kept (documents, promoted results).
    version: Any = None
    # Set by ``describe_all`` when the description was kept or may be: the key the results page keeps
    # the hit's rendered part under (``{% fragment %}``); ``None``: rendered every time.
    kept_key: Any = None

    def __post_init__(self):
        if self.pk is None and self.obj is not None:
            self.pk = self.obj.pk

    @property
    def kind_label(self):
        return kinds.kind_label(self.kind)

    @property
    def key(self):
        return (self.kind, self.pk if self.pk is not None else self.url)

    def as_json(self):
        return {
            "title": str(self.title_html),
            "url": self.url,
            "type": self.kind,
            "type_label": str(self.kind_label),
            "section": self.section.title if self.section else "",
            "snippet": str(self.snippet_html),
            "score": round(self.score, 4),
            "promoted": self.promoted,
        }


@dataclass
class Outcome:
    query: str
    hits: list = field(default_factory=list)  # after the kind/section filters, ranked
    kind_counts: dict = field(default_factory=dict)
    section_counts: list = field(default_factory=list)  # [(section, count)]
    terms: tuple = ()
    relaxed: bool = False  # no hit had every word; showing hits for any word
    widened: bool = False  # too few hits for the words typed: their dictionary synonyms searched too
    widened_terms: tuple = ()  # the words that widening added (shown: 结果较少，已同时搜索近义词)
    truncated: bool = False  # some kind had more than MAX_HITS_PER_KIND hits; counts are lower bounds
    unfiltered_total: int = 0
    took_ms: float = 0.0
    failed: bool = False
    function_words_only: bool = False  # only 了, 的, 请问… typed: nothing is searched (see ``synonyms``)
    # Of the best hit before the kind/section filters (``search.coverage``): the share of the query's
    # content words it covers (None: nothing found) and its title. Measured for unfiltered searches.
    best_coverage: float | None = None
    best_title: str = ""
    reading: Any = None  # ``search.reading.Reading``: the query read as pinyin or a homophone typo
    dependencies: Any = None  # ``text_dependencies_version()`` when the search started

    @property
    def total(self):
        return len(self.hits)


class SectionIndex:
    """Sections by id and by path, to find the section a page lives in without a query per page."""

    def __init__(self):
        self.by_path = {}
        self.by_id = {}
        model = kinds.section_model()
        if model is None:
            return
        for section in model.objects.only("id", "title", "path", "url_path", "depth"):
            self.by_path[section.path] = section
            self.by_id[section.id] = section

    def for_path(self, path):
        for length in range(Page.steplen, len(path), Page.steplen):
            section = self.by_path.get(path[:length])
            if section is not None:
                return section
        return None


# One SectionIndex per process, rebuilt when a section is saved, moved or deleted here or in another
# process (``search.caches``: its generation), and at least every minute. Sections change a few times a
# year; searches happen all day.
shared_sections = SharedValue(SectionIndex, ttl=60.0, name="sections")
# The query strings that have promoted results, so that most searches skip the promotions query.
promoted_query_strings = SharedValue(
    lambda: frozenset(SearchPromotion.objects.values_list("query__query_string", flat=True)),
    ttl=30.0,
    name="promoted_queries",
)
# Snippet text of published pages, by publication: extracting it from a StreamField costs more than
# the rest of describing a hit, and a published page's text only changes when it is published again, or
# when a row inside it (a phrasing) changes.
page_texts = LRUCache(2048, name="page_texts")


# A shown hit's description (URL, highlighted title and snippet, and a snippet's object, which the page
# shows), per publication, query terms, site and text dependencies (``describe_all``): a hit shown again
# for the same words is neither loaded nor described again. Forgotten on any change of a page, a
# registered kind's row, a text dependency or a site (here at once, elsewhere through the generation);
# the key holds the publication, so a publish never waits for that.
kept_descriptions = LRUCache(2048, name="described_hits")


@functools.cache
def _caches_for(sender):
    """The shared values a saved or deleted row of ``sender`` makes stale (remembered per model)."""
    if sender is SearchPromotion:
        return (promoted_query_strings,)
    stale = ()
    section_model = kinds.section_model()
    if section_model is not None and issubclass(sender, section_model):
        stale += (shared_sections,)
    if sender in kinds.text_dependencies():
        stale += (page_texts,)
    if (
        issubclass(sender, (Page, Site))
        or sender in kinds.text_dependencies()
        or any(issubclass(sender, kind.model) for kind in kinds.all_kinds() if kind.model is not None)
    ):
        stale += (kept_descriptions,)
    return stale


def _on_row_change(sender, **kwargs):
    for cache in _caches_for(sender):
        cache.invalidate()


def connect_signals():
    """Forget the shared sections when a section is saved, moved or deleted, the promoted query strings
    when a promotion is, and the snippet texts when a model inside pages' text is.

    The registered section model and text dependencies are only known once every app's hooks are
    loaded, after start-up: the receiver listens to every model and checks the sender on each change.
    """
    post_save.connect(_on_row_change, dispatch_uid="callbook-search-caches-save")
    post_delete.connect(_on_row_change, dispatch_uid="callbook-search-caches-delete")
    post_page_move.connect(shared_sections.invalidate, dispatch_uid="callbook-sections-move")
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(
            kept_descriptions.invalidate,
            dispatch_uid=f"callbook-described-hits-{signal.__class__.__name__}-{id(signal)}",
        )


def blocked_page_paths(request):
    """Paths of pages whose view restriction this request does not pass (they and their subtrees)."""
    restrictions = PageViewRestriction.objects.select_related("page").prefetch_related("groups")
    return tuple(r.page.path for r in restrictions if not r.accept_request(request))


def blocked_collection_paths(request):
    restrictions = CollectionViewRestriction.objects.select_related("collection").prefetch_related("groups")
    return tuple(r.collection.path for r in restrictions if not r.accept_request(request))


def _run(results, limit=None):
    """Evaluate a lazy search with scores, tolerating backends without ``annotate_score``.

    At most ``limit`` (``MAX_HITS_PER_KIND``) hits per kind are ranked and counted: beyond that
    agents refine the query.
    """
    limit = limit or MAX_HITS_PER_KIND
    try:
        items = list(results.annotate_score("_search_score")[:limit])
    except (NotImplementedError, AttributeError):
        items = list(results[:limit])
    scored = []
    for rank, item in enumerate(items):
        score = getattr(item, "_search_score", None)
        scored.append((item, float(score) if score is not None else 1.0 / (rank + 1)))
    return scored


def _scored_rows(queryset, query, fields, limit=None, load_rows=None):
    """[(row, score)] for the best hits of ``query`` in ``queryset``, best first; rows are dicts of ``fields``.

    Ranking and facets need a few columns, not model instances (building 200 pages and phrasings per
    search cost more than the search itself). The Whoosh backend hands over scored primary keys
    (``scored_pks``); with another backend the objects are loaded and their columns read.
    ``load_rows(pks)``: ``{str(pk): row}`` of the rows of ``queryset`` among ``pks``, instead of the ORM.
    """
    results = queryset.search(query)[: limit or MAX_HITS_PER_KIND]
    scored_pks = getattr(results, "scored_pks", None)
    if scored_pks is None:
        return [({name: getattr(obj, name) for name in fields}, score) for obj, score in _run(results, limit)]
    scored = scored_pks()
    if load_rows is not None:
        rows = load_rows([pk for pk, _ in scored])
    else:
        rows = {
            str(row["id"]): row for row in queryset.filter(pk__in=[pk for pk, _ in scored]).values(*fields)
        }
    return [(rows[str(pk)], score) for pk, score in scored if str(pk) in rows]


@functools.cache
def _live_page_rows_sql():
    quote = connection.ops.quote_name
    columns = {f.attname: f.column for f in Page._meta.concrete_fields}
    selected = ", ".join(quote(columns[name]) for name in PAGE_ROW_FIELDS)
    return f"SELECT {selected} FROM {quote(Page._meta.db_table)} WHERE {quote(columns['live'])} AND {quote(columns['id'])} IN "


def live_page_rows(pks):
    """``{str(id): row}`` of the live pages among ``pks``, rows of ``PAGE_ROW_FIELDS``: the statement of
    ``Page.objects.live().filter(pk__in=pks).values(*PAGE_ROW_FIELDS)`` written out (building it through the
    ORM cost more than running it). ``last_published_at`` is as the database gives it (only compared)."""
    ids = []
    for pk in pks:
        try:
            ids.append(int(pk))
        except (TypeError, ValueError):
            continue
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_live_page_rows_sql() + "(" + ", ".join(["%s"] * len(ids)) + ")", ids)
        rows = [dict(zip(PAGE_ROW_FIELDS, row, strict=True)) for row in cursor.fetchall()]
    return {str(row["id"]): row for row in rows}


def _page_hits(query, blocked, sections):
    """Hits of every registered page kind, in one search of live pages."""
    if not kinds.page_kinds():
        return []
    hits = []
    for row, score in _scored_rows(Page.objects.live(), query, PAGE_ROW_FIELDS, load_rows=live_page_rows):
        model = ContentType.objects.get_for_id(row["content_type_id"]).model_class()
        kind = kinds.page_kind_for_model(model) if model is not None else None
        if kind is None or (blocked and row["path"].startswith(blocked)):
            continue
        section = sections.for_path(row["path"])
        version = (row["url_path"], row["last_published_at"], row["live_revision_id"])
        hits.append(
            Hit(
                kind.name,
                None,
                row["title"],
                score,
                section=section,
                pk=row["id"],
                model=model,
                version=version,
            )
        )
    return hits


@functools.cache
def _version_fields(model):
    """``VERSION_FIELDS`` if ``model`` has them (a snippet with drafts and revisions), else ``()``."""
    names = {f.attname for f in model._meta.concrete_fields}
    return VERSION_FIELDS if set(VERSION_FIELDS) <= names else ()


def _snippet_hits(kind, query, sections):
    versioned = _version_fields(kind.model)
    return [
        Hit(
            kind.name,
            None,
            row[kind.title_field],
            score,
            section=sections.by_id.get(row[kind.section_field]) if kind.section_field else None,
            pk=row["id"],
            model=kind.model,
            version=tuple(row[name] for name in versioned) if versioned else None,
        )
        for row, score in _scored_rows(kind.get_queryset(), query, kind.row_fields + versioned)
    ]


def _document_hits(kind, query, request):
    queryset = kind.get_queryset()
    if not queryset.exists():
        return []  # a search of an empty index still costs a few milliseconds
    blocked = blocked_collection_paths(request)
    paths = dict(Collection.objects.values_list("id", "path")) if blocked else {}
    hits = []
    for row, score in _scored_rows(queryset, query, DOCUMENT_FIELDS):
        if blocked and paths.get(row["collection_id"], "").startswith(blocked):
            continue
        hits.append(Hit(kind.name, None, row["title"], score, pk=row["id"], model=kind.model))
    return hits


def _collectors(query, request, sections, blocked):
    yield lambda: _page_hits(query, blocked, sections)
    for kind in kinds.all_kinds():
        if kind.is_document:
            yield lambda kind=kind: _document_hits(kind, query, request)
        elif not kind.is_page:
            yield lambda kind=kind: _snippet_hits(kind, query, sections)


def _collect(query, request, sections, outcome, blocked):
    """Hits of every kind; a kind whose search fails is logged and left out, the others still show."""
    hits = []
    for collect in _collectors(query, request, sections, blocked):
        try:
            hits += collect()
        except Exception:
            # A query the backend cannot handle must never break the page an agent is on.
            logger.exception("Search failed for %r", outcome.query)
            outcome.failed = True
    unique = {}
    for hit in hits:
        unique.setdefault(hit.key, hit)
    return list(unique.values())


def _title_ratio(title, alternatives):
    """Share of the query's words (each given with its synonyms, normalised) found in ``title``."""
    if not alternatives:
        return 0.0
    folded = highlight.fold(title)
    return sum(1 for alts in alternatives if any(alt in folded for alt in alts)) / len(alternatives)


def rank(hits, text, mapping):
    """One ranked list: each kind's backend scores scaled to 0–1, plus a bonus for words in the title.

    Backend scores of different models are not comparable (different indexes, different fields), so
    they are normalised per kind; a title that contains what the agent typed is what agents expect first
    (its content words: a 了 in a title says nothing).
    """
    alternatives = [
        [normalize(alt) for alt in synonyms.alternatives(word, mapping)] for word in content_words(text)
    ]
    best = {}
    for hit in hits:
        best[hit.kind] = max(best.get(hit.kind, 0.0), hit.raw_score)
    for hit in hits:
        top = best.get(hit.kind) or 1.0
        scaled = hit.raw_score / top if top > 0 else 0.0
        hit.score = 0.6 * scaled + 0.4 * _title_ratio(hit.title, alternatives)
    hits.sort(key=lambda h: (-h.score, h.title))
    return hits


def promoted_hits(text, blocked, sections):
    """Trainer-promoted results (推荐结果) for this query, in their editorial order, visible ones only."""
    normalised = normalise_query_string(text)
    if not normalised or normalised not in promoted_query_strings.get():
        return []
    hits = []
    promotions = SearchPromotion.objects.filter(query__query_string=normalised).select_related("page")
    for promotion in promotions.order_by("sort_order", "pk"):
        page = promotion.page
        if page is not None:
            if not page.live or (blocked and page.path.startswith(blocked)):
                continue
            kind = kinds.page_kind_for_model(page.specific_class or Page)
            if kind is not None:
                hit = Hit(kind.name, page, page.title, section=sections.for_path(page.path))
            else:  # a page of a kind nobody registered (a section, say): shown as a plain link
                hit = Hit(kinds.PROMOTED_LINK, page, page.title, section=sections.for_path(page.path))
        elif promotion.external_link_url:
            hit = Hit(kinds.PROMOTED_LINK, None, promotion.external_link_text or promotion.external_link_url)
            hit.url = promotion.external_link_url
        else:
            continue
        hit.promoted = True
        hit.description = promotion.description
        hits.append(hit)
    return hits


def search_all(request, text, kind=None, section=None):
    """Every hit for ``text`` this request may see, filtered by ``kind`` and section id, ranked."""
    started = time.perf_counter()
    text = synonyms.clean_query(text)
    read_as = reading.read(text)  # tousu → 投诉, 投诉处里 → 投诉处理 (``search.reading``)
    if read_as is not None and read_as.applied:
        text = read_as.searched
    outcome = Outcome(query=text, reading=read_as)
    outcome.function_words_only = bool(query_words(text)) and not content_words(text)
    mapping = synonyms.load_synonyms()
    # Long queries on a share of their words, missing words through their parts (``search.synonyms``).
    plan = synonyms.plan_query(text, mapping, synonyms.backend_frequencies())
    query = plan.query()
    outcome.terms = highlight.query_terms(*plan.terms())
    sections = shared_sections.get()
    restricted, outcome.dependencies = search_state()
    blocked = blocked_page_paths(request) if restricted else ()
    hits = []
    if query is not None:
        hits = _collect(query, request, sections, outcome, blocked)
        widened = plan.widened_query() if len(hits) < synonyms.FEW_HITS else None
        if widened is not None:  # too little: with the general dictionary's synonyms, weighted below
            more = _collect(widened, request, sections, outcome, blocked)
            if len(more) > len(hits):
                hits, outcome.widened = more, True
                typed_terms = set(plan.terms())
                added = [term for term in plan.terms(widen=True) if term not in typed_terms]
                outcome.widened_terms = tuple(dict.fromkeys(added))[:MAX_WIDENED_SHOWN]
                outcome.terms = highlight.query_terms(*plan.terms(widen=True))
        if not hits:
            relaxed = plan.relaxed_query()
            if relaxed is not None:
                hits = _collect(relaxed, request, sections, outcome, blocked)
                outcome.relaxed = bool(hits)
    per_kind = {}
    for hit in hits:
        per_kind[hit.kind] = per_kind.get(hit.kind, 0) + 1
    outcome.truncated = any(n >= MAX_HITS_PER_KIND for n in per_kind.values())
    hits = rank(hits, text, mapping)
    if text and query is not None:
        typed = read_as.typed if read_as is not None else None
        hits = clicks.apply_learned_links(hits, text, request, sections, blocked, typed=typed)
    promoted = promoted_hits(text, blocked, sections) if text else []
    if promoted:
        keys = {hit.key for hit in promoted}
        hits = promoted + [hit for hit in hits if hit.key not in keys]
    outcome.unfiltered_total = len(hits)
    if kind is None and section is None:
        coverage.measure(outcome, hits, text, mapping)

    def in_section(hit):
        return section is None or (hit.section is not None and hit.section.id == section)

    def of_kind(hit):
        return not kind or hit.kind == kind

    outcome.kind_counts = dict.fromkeys(kinds.kind_names(), 0)
    counts = {}
    for hit in hits:
        if in_section(hit) and hit.kind in outcome.kind_counts:
            outcome.kind_counts[hit.kind] += 1
        if of_kind(hit) and hit.section is not None:
            counts[hit.section.id] = counts.get(hit.section.id, 0) + 1
    outcome.section_counts = sorted(
        ((sections.by_id[sid], n) for sid, n in counts.items()), key=lambda item: (-item[1], item[0].path)
    )
    outcome.hits = [hit for hit in hits if of_kind(hit) and in_section(hit)]
    outcome.took_ms = (time.perf_counter() - started) * 1000
    return outcome


# --- describing the hits that are shown ------------------------------------------------------------


def searchable_text(obj):
    """The text of ``obj``'s search fields other than its title, as plain text (for snippets)."""
    parts = []
    for search_field in obj.get_search_fields():
        if not isinstance(search_field, index.SearchField) or search_field.field_name == "title":
            continue
        try:
            model_field = obj._meta.get_field(search_field.field_name)
        except Exception:
            model_field = None
        value = getattr(obj, search_field.field_name, None)
        if isinstance(model_field, StreamField) and value is not None:
            parts.append(flatten_text(model_field.get_searchable_content(value), sep=" "))
        else:
            try:
                parts.append(flatten_text(search_field.get_value(obj), sep=" "))
            except Exception:
                continue
    return " ".join(p for p in parts if p)


def text_dependencies_version():
    """Changes whenever a row of a registered text dependency is added, deleted, revised or published.

    Pages show the current text of the rows they reference (phrasing blocks, procedure steps), so a
    page's text depends on them as well as on its own publication.
    """
    return search_state()[1]


@functools.cache
def _dependency_columns(model):
    """The row count and newest revision / publication of ``model``'s table, as SQL expressions."""
    names = {f.name for f in model._meta.get_fields()}
    columns = ["COUNT(*)"]
    if "latest_revision" in names:
        columns.append(f"MAX({model._meta.get_field('latest_revision').column})")
    if "last_published_at" in names:
        columns.append(f"MAX({model._meta.get_field('last_published_at').column})")
    return tuple(columns)


def search_state():
    """``(restricted, dependencies)`` in one statement at the start of a search: whether any page has a
    view restriction (without any, nobody's view is narrowed: no need to read them), and
    ``text_dependencies_version()``."""
    models = kinds.text_dependencies()
    parts = [f"EXISTS (SELECT 1 FROM {PageViewRestriction._meta.db_table})"]
    for model in models:
        parts += [f"(SELECT {column} FROM {model._meta.db_table})" for column in _dependency_columns(model)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    restricted, values, dependencies = bool(row[0]), list(row[1:]), []
    for model in models:
        width = len(_dependency_columns(model))
        dependencies.append(tuple(values[:width]))
        values = values[width:]
    return restricted, tuple(dependencies)


def page_text(page, dependencies=None):
    """``searchable_text(page)``, remembered per publication (``last_published_at`` and live revision)
    and per ``text_dependencies_version()`` (``dependencies``; computed here if not given)."""
    if getattr(page, "last_published_at", None) is None:
        return searchable_text(page)
    if dependencies is None:
        dependencies = text_dependencies_version()
    key = (type(page).__name__, page.pk, page.last_published_at, page.live_revision_id, dependencies)
    return page_texts.get_or_compute(key, lambda: searchable_text(page))


def page_anchor_texts(kind, page, dependencies=None):
    """``kind.anchor_texts(page)``, remembered like ``page_text`` (a procedure's steps are decoded and
    folded once per publication, not for every search that shows it)."""
    if getattr(page, "last_published_at", None) is None:
        return kind.anchor_texts(page)
    if dependencies is None:
        dependencies = text_dependencies_version()
    key = (
        "anchors",
        type(page).__name__,
        page.pk,
        page.last_published_at,
        page.live_revision_id,
        dependencies,
    )
    return page_texts.get_or_compute(key, lambda: tuple(kind.anchor_texts(page)))


def best_anchor(anchor_texts, terms):
    """The anchor of ``(anchor, folded text)`` pairs whose text holds the most of the query: the total
    length of the distinct ``terms`` found in it (物流单称重 beats 物流), the first on a tie; ``""`` when
    none holds any."""
    best, best_score = "", 0
    for anchor, text in anchor_texts:
        score = sum(len(term) for term in terms if term in text)
        if score > best_score:
            best, best_score = anchor, score
    return best


def load_objects(hits, kept_texts=None):
    """Load the object of each hit that has none yet (pages as their specific class): one query per class.

    ``kept_texts`` (``dependencies`` of ``text_dependencies_version``, from ``describe_all``): a page whose
    snippet text (and anchors) are kept in ``page_texts`` is loaded without the fields of its own class
    (its body is not needed to describe it); the others in full.
    """
    by_model = {}
    for hit in hits:
        unloaded = hit.obj is None or type(hit.obj) is Page
        if unloaded and hit.pk is not None and hit.kind != kinds.PROMOTED_LINK:
            by_model.setdefault(hit.model or Page, set()).add(hit.pk)
    loaded = {}
    for model, pks in by_model.items():
        queryset = model._default_manager.filter(pk__in=pks)
        if model is Page:
            queryset = queryset.specific()
        elif kept_texts is not None and issubclass(model, Page):
            own = [f.attname for f in model._meta.local_concrete_fields if not f.primary_key]
            queryset = queryset.defer(*own)
        for obj in queryset:
            loaded[model, obj.pk] = obj
    if kept_texts is not None:
        _load_untold(loaded, kept_texts)
    for hit in hits:
        hit.obj = loaded.get((hit.model or Page, hit.pk), hit.obj)
    return hits


def _load_untold(loaded, dependencies):
    """Pages loaded without their own fields whose snippet text or anchors are not kept (published since,
    or never shown in this process): loaded again in full, one query per class."""
    with_anchors = {kind.model for kind in kinds.all_kinds() if kind.anchor_texts is not None}
    untold = {}
    for (model, pk), obj in loaded.items():
        if not obj.get_deferred_fields():
            continue
        key = (type(obj).__name__, obj.pk, obj.last_published_at, obj.live_revision_id, dependencies)
        kept = obj.last_published_at is not None and key in page_texts
        if kept and model in with_anchors:
            kept = ("anchors", *key) in page_texts
        if not kept:
            untold.setdefault(model, set()).add(pk)
    for model, pks in untold.items():
        for obj in model._default_manager.filter(pk__in=pks):
            loaded[model, obj.pk] = obj


def _site_key(request):
    """What a page's URL depends on besides its own URL path: the request's site."""
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        return None
    return (site.pk, site.hostname, site.port, site.root_page_id, site.is_default_site)


def description_key(hit, terms, dependencies, site):
    """The key ``hit``'s description is kept under, or ``None`` if it is described every time: a
    promoted result (its trainer's description, its page loaded already), a kind without publications
    (documents), a hit ranked without its version (a learned link's)."""
    if hit.promoted or hit.version is None or hit.pk is None:
        return None
    kind = kinds.get_kind(hit.kind)
    if kind is None:
        return None
    section = hit.section
    return (
        hit.kind,
        hit.pk,
        hit.version,
        hit.title,
        (section.pk, section.url_path, section.title) if section is not None else None,
        terms,
        dependencies if kind.is_page else None,
        site,
        int(time.time() // KEEP_SECONDS),
    )


def describe_all(hits, request, terms, dependencies=None):
    """``describe`` every hit of a results page, loading their objects in bulk first.

    A hit described before for the same terms, publication, site and text dependencies takes what was
    kept (``kept_descriptions``) and is not loaded. Visibility is decided before: only the hits this
    request may see are ever described, and what is kept does not depend on the reader.
    ``dependencies``: ``text_dependencies_version()`` if read already (``Outcome.dependencies``).
    """
    hits = list(hits)
    shown = {kinds.get_kind(hit.kind) for hit in hits}
    if dependencies is None and any(k is not None and k.is_page for k in shown):
        dependencies = text_dependencies_version()
    site = _site_key(request)
    missing = []
    for hit in hits:
        hit.kept_key = description_key(hit, terms, dependencies, site)
        kept = kept_descriptions.get(hit.kept_key) if hit.kept_key is not None else None
        if kept is None:
            missing.append(hit)
            continue
        obj, hit.url, hit.title_html, hit.snippet_html = kept
        if hit.obj is None:
            hit.obj = obj
    load_objects(missing, kept_texts=dependencies)
    for hit in missing:
        describe(hit, request, terms, dependencies)
        if hit.kept_key is not None and hit.obj is not None:
            # A page is not kept with its description (nothing shows it); a snippet is (the page
            # shows its fields: a phrasing's card).
            obj = None if kinds.get_kind(hit.kind).is_page else hit.obj
            kept_descriptions.put(hit.kept_key, (obj, hit.url, hit.title_html, hit.snippet_html))
    return hits


def snippet_url(kind, obj, section):
    """Where a snippet hit links: where its app shows it, else the results page filtered to it."""
    url = kind.url(obj, section) if kind.url else ""
    return url or reverse("search:search") + "?" + urlencode({"q": kind.title_of(obj), "type": kind.name})


def describe(hit, request, terms, dependencies=None):
    """Fill ``url``, ``title_html`` and ``snippet_html`` of a hit that is about to be shown."""
    hit.title_html = highlight.highlight(hit.title, terms)
    kind = kinds.get_kind(hit.kind)
    if kind is None:  # a promoted link: to a page of a kind nobody registered, or elsewhere
        if isinstance(hit.obj, Page):
            hit.url = hit.obj.get_url(request) or ""
        hit.snippet_html = highlight.snippet(hit.description, terms, SNIPPET_LENGTH)
        return hit
    if hit.obj is None:
        return hit  # deleted between the search and now: shown without a link rather than failing
    if kind.is_page:
        page = hit.obj if type(hit.obj) is not Page else hit.obj.specific
        hit.obj = page
        hit.url = page.get_url(request) or ""
        text = page_text(page, dependencies)
        if kind.anchor_texts is not None:
            hit.url += best_anchor(page_anchor_texts(kind, page, dependencies), terms)
        elif kind.anchor is not None:
            hit.url += kind.anchor(page, terms)
    elif kind.is_document:
        hit.url = hit.obj.url
        text = kind.text(hit.obj) if kind.text else ""
    else:
        hit.url = snippet_url(kind, hit.obj, hit.section)
        text = kind.text(hit.obj) if kind.text else searchable_text(hit.obj)
    if hit.description:
        text = f"{hit.description} {text}"
    hit.snippet_html = highlight.snippet(text or "", terms, SNIPPET_LENGTH)
    return hit
