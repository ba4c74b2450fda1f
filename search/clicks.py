"""Which result an agent opened for a query, and what search learns from it.

- **Recording**: result links on the results page and in the JSON API go through ``/search/open/``
  (``open_hit``) with the query as typed, the hit's kind and id and its 1-based position across pages.
  The view checks that the hit exists and that the user may see it, records a ``SearchClick`` and
  redirects to the hit's URL computed here (``results.describe``), never to a URL from the request.
- **Came back**: a search by the same user within ``return_window()`` of a click marks that click
  ``returned_at`` (the hit did not answer) and takes back what it taught (``note_search``).
- **Learned links**: a click teaches ``LearnedLink`` (normalised query → hit) one unit of weight, which
  halves every ``half_life()``, computed at read time from ``last_clicked_at``. At search time
  (``apply_learned_links``, called by ``results.search_all`` after ranking) links whose query is the
  current one, or shares content words with it, add a bonus to their hit; a strongly linked hit the
  text search missed is added when the user may see it. A bonus is ``BONUS_PER_CLICK`` (0.2) per
  unit of weight, at most ``MAX_BONUS`` (1.0, five recent clicks): one click lifts a hit by less than
  an exact title match counts in ``results.rank`` (0.4), five can lift any hit above it. Links a trainer undid (``blocked``) are ignored and
  no longer taught.

The links live in a per-process table (``shared_links``), reloaded every minute (other processes'
clicks) and patched in place when a link is saved or deleted in this process (a save rolled back after
that counts until the next reload). A trainer's 撤销 / 恢复 is seen by every process on its next
request (``invalidate``: the table's generation in Django's shared cache, ``search.caches``); a click
is not announced: agents click all day, and a link learned a minute late elsewhere costs nothing.
"""

import datetime
import functools
import heapq
import logging
import threading
from collections import Counter, defaultdict

from django import forms
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from wagtail.models import Collection, Page
from wagtail.search.utils import normalise_query_string

from search import kinds, results, synonyms
from search.caches import SharedValue
from search.models import LearnedLink, SearchClick
from zhtext import content_words

logger = logging.getLogger(__name__)

DEFAULT_RETURN_SECONDS = 180
DEFAULT_HALF_LIFE_DAYS = 30
BONUS_PER_CLICK = 0.2
MAX_BONUS = 1.0
# A hit the text search did not find is added from this much (decayed, similarity-weighted) weight on:
# two recent clicks for the same query.
ADD_FROM_STRENGTH = 1.5
# A query sharing words with a link's query (not the same query) counts at most this share of a click.
SHARED_WORDS_FACTOR = 0.75
# Queries sharing less than this (weighted) share of their words with a link's query do not lean.
MIN_SIMILARITY = 0.25
# At most this many of the most similar queries lean a search (a common word is in thousands of them).
MAX_SIMILAR_QUERIES = 50
MAX_POSITION = 100_000
MAX_ID = 2**63 - 1


def return_window():
    """How soon a new search counts as coming back from a click (``CALLBOOK_SEARCH_RETURN_SECONDS``)."""
    return datetime.timedelta(
        seconds=getattr(settings, "CALLBOOK_SEARCH_RETURN_SECONDS", DEFAULT_RETURN_SECONDS)
    )


def half_life():
    """How long a learned link takes to lose half its weight (``CALLBOOK_SEARCH_LINK_HALF_LIFE_DAYS``)."""
    return datetime.timedelta(
        days=getattr(settings, "CALLBOOK_SEARCH_LINK_HALF_LIFE_DAYS", DEFAULT_HALF_LIFE_DAYS)
    )


def decay(elapsed):
    """The share of a weight left after ``elapsed`` (a ``timedelta``; none is lost before it starts)."""
    seconds = max(elapsed.total_seconds(), 0.0)
    return 0.5 ** (seconds / half_life().total_seconds())


def current_weight(link, now=None):
    """``link``'s weight now: what it stored at its last click, decayed since."""
    if not link.weight or link.last_clicked_at is None:
        return 0.0
    return link.weight * decay((now or timezone.now()) - link.last_clicked_at)


# --- which hits a user may open ------------------------------------------------------------------


def visible_hits(request, wanted, sections=None, blocked=None):
    """{(kind name, str(pk)): Hit} for the ``wanted`` (kind name, pk) pairs that exist, are of that kind
    and that ``request`` may see (the checks ``search_all`` makes: live pages outside view restrictions
    the request fails, snippets in their kind's queryset, documents outside restricted collections)."""
    by_kind = defaultdict(set)
    for kind_name, pk in wanted:
        kind = kinds.get_kind(kind_name)
        if kind is not None:
            by_kind[kind].add(pk)
    if not by_kind:
        return {}
    sections = sections if sections is not None else results.shared_sections.get()
    found = {}
    for kind, pks in by_kind.items():
        if kind.is_page:
            if blocked is None:
                blocked = results.blocked_page_paths(request)
            hits = _page_hits(kind, pks, sections, blocked)
        elif kind.is_document:
            hits = _document_hits(kind, pks, request)
        else:
            hits = _snippet_hits(kind, pks, sections)
        found.update({(hit.kind, str(hit.pk)): hit for hit in hits})
    return found


def _page_hits(kind, pks, sections, blocked):
    for row in Page.objects.live().filter(pk__in=pks).values(*results.PAGE_FIELDS):
        model = ContentType.objects.get_for_id(row["content_type_id"]).model_class()
        page_kind = kinds.page_kind_for_model(model) if model is not None else None
        if page_kind is None or page_kind.name != kind.name or (blocked and row["path"].startswith(blocked)):
            continue
        section = sections.for_path(row["path"])
        yield results.Hit(kind.name, None, row["title"], section=section, pk=row["id"], model=model)


def _document_hits(kind, pks, request):
    blocked = results.blocked_collection_paths(request)
    paths = dict(Collection.objects.values_list("id", "path")) if blocked else {}
    for row in kind.get_queryset().filter(pk__in=pks).values(*results.DOCUMENT_FIELDS):
        if blocked and paths.get(row["collection_id"], "").startswith(blocked):
            continue
        yield results.Hit(kind.name, None, row["title"], pk=row["id"], model=kind.model)


def _snippet_hits(kind, pks, sections):
    for row in kind.get_queryset().filter(pk__in=pks).values(*kind.row_fields):
        section = sections.by_id.get(row[kind.section_field]) if kind.section_field else None
        yield results.Hit(
            kind.name, None, row[kind.title_field], section=section, pk=row["id"], model=kind.model
        )


def parse_pk(kind, value):
    """``value`` as a primary key of ``kind``'s model, or ``None`` when it cannot name a row."""
    try:
        pk = kind.model._meta.pk.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return None
    if isinstance(pk, int) and not 0 < pk <= MAX_ID:
        return None
    return pk


# --- recording ---------------------------------------------------------------------------------


def open_url(query, hit, position):
    """The ``/search/open/`` link of ``hit`` shown at ``position`` (1-based) for ``query``; ``""`` for a
    hit that cannot be opened through it (a promoted external link, a hit deleted meanwhile)."""
    if not query or hit.pk is None or not hit.url or kinds.get_kind(hit.kind) is None:
        return ""
    params = {"q": query, "kind": hit.kind, "id": hit.pk, "pos": position}
    return reverse("search:open") + "?" + urlencode(params)


def attach_open_urls(hits, query, first_position):
    """Give each shown hit its ``open_url``; ``first_position`` is the 1-based position of the first."""
    for offset, hit in enumerate(hits):
        hit.open_url = open_url(query, hit, first_position + offset)
    return hits


class ClickForm(forms.Form):
    """The parameters of a result link: the query as typed, the hit's kind and id, its position."""

    q = forms.CharField(max_length=1000, strip=False)
    kind = forms.CharField(max_length=40)
    id = forms.CharField(max_length=64)
    pos = forms.IntegerField(min_value=1, max_value=MAX_POSITION)

    def __init__(self, data=None, **kwargs):
        if data is not None:
            data = data.copy()
            data["q"] = synonyms.clean_query(data.get("q", ""))
        super().__init__(data, **kwargs)

    def clean_q(self):
        query = self.cleaned_data["q"].strip()
        if not normalise_query_string(query):
            raise ValidationError(_("缺少搜索词。"))
        return query


def refuse(request, message, status):
    return render(request, "refused.html", {"message": message}, status=status)


@require_GET
def open_hit(request):
    """GET /search/open/?q=&kind=&id=&pos= → record the click, then 302 to the hit (see the module docstring).

    Incomplete or malformed parameters answer 400, a hit that does not exist or that the user may not
    see 404; neither records anything.
    """
    form = ClickForm(request.GET)
    if not form.is_valid():
        return refuse(request, _("这个搜索结果链接不完整或格式不对。请回到搜索结果重新打开。"), 400)
    query, position = form.cleaned_data["q"], form.cleaned_data["pos"]
    kind = kinds.get_kind(form.cleaned_data["kind"])
    pk = parse_pk(kind, form.cleaned_data["id"]) if kind is not None else None
    hit = visible_hits(request, [(kind.name, pk)]).get((kind.name, str(pk))) if pk is not None else None
    if hit is not None:
        results.load_objects([hit])
        results.describe(hit, request, link_terms(request, kind, query))
    if hit is None or hit.obj is None or not hit.url:
        message = _("没有找到这个搜索结果：它可能已被删除或下线，或者你没有查看它的权限。请重新搜索。")
        return refuse(request, message, 404)
    try:
        record_click(request.user, query, hit, position)
    except Exception:
        # The agent is on a call: the statistics may miss a click, the page must open.
        logger.exception("Could not record a search click for %r", query)
    return HttpResponseRedirect(hit.url)


def link_terms(request, kind, query):
    """The terms a hit's URL depends on: a kind that links to an anchor (a procedure's best step) picks
    it from the searched terms, as the results page did (so the search is run again, for those kinds
    only: its reading of pinyin and its synonyms decide the terms); other kinds' URLs need none."""
    if kind.anchor is None:
        return ()
    return results.search_all(request, query).terms


def record_click(user, query, hit, position, now=None):
    """Record that ``user`` opened ``hit`` at ``position`` for ``query``, and teach its learned link.

    The same user opening the same hit for the same query again before coming back teaches it once.
    """
    now = now or timezone.now()
    query_string = normalise_query_string(query)
    target = {"kind": hit.kind, "object_id": str(hit.pk)}
    title = str(hit.title)[:255]
    with transaction.atomic():
        repeated = SearchClick.objects.filter(
            user=user,
            query_string=query_string,
            clicked_at__gte=now - return_window(),
            returned_at__isnull=True,
            **target,
        ).exists()
        click = SearchClick.objects.create(
            user=user, query_string=query_string, title=title, position=position, clicked_at=now, **target
        )
        if not repeated:
            teach(query_string, hit.kind, hit.pk, title, now)
    return click


def teach(query_string, kind, pk, title, now):
    """One more unit of weight on the link (query → hit), unless a trainer undid it."""
    with transaction.atomic():
        link, _created = LearnedLink.objects.select_for_update().get_or_create(
            query_string=query_string, kind=kind, object_id=str(pk), defaults={"title": title}
        )
        if link.blocked:
            return link
        link.weight = current_weight(link, now) + 1.0
        link.clicks += 1
        link.last_clicked_at = now
        link.title = title or link.title
        link.save()
    return link


def take_back(query_string, kind, object_id, clicked_at):
    """Undo what the click made at ``clicked_at`` taught; the link goes when no click is left in it."""
    with transaction.atomic():
        link = (
            LearnedLink.objects.select_for_update()
            .filter(query_string=query_string, kind=kind, object_id=object_id)
            .first()
        )
        if link is None or link.blocked or link.last_clicked_at is None:
            return
        # The click's unit, in the units the row stores (its weight as of ``last_clicked_at``).
        link.weight = max(0.0, link.weight - decay(link.last_clicked_at - clicked_at))
        link.clicks = max(0, link.clicks - 1)
        if link.clicks == 0:
            link.delete()
        else:
            link.save()


def note_search(request, now=None):
    """A search by ``request.user``: the clicks they made within ``return_window()`` did not answer.

    Their ``returned_at`` is set and what they taught is taken back (once per query and hit). A search
    that a hit itself links to (a snippet without a page of its own: the results page filtered to its
    title and kind) is not a return.
    """
    user = request.user
    if not user.is_authenticated:
        return
    now = now or timezone.now()
    since = now - return_window()
    # Most searches follow no recent click: one small statement written out says so.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {SearchClick._meta.db_table}"
            " WHERE user_id = %s AND clicked_at >= %s AND returned_at IS NULL LIMIT 1",
            [user.pk, connection.ops.adapt_datetimefield_value(since)],
        )
        if cursor.fetchone() is None:
            return
    clicks = SearchClick.objects.filter(user=user, clicked_at__gte=since, returned_at__isnull=True)
    kind, query = request.GET.get("type"), synonyms.clean_query(request.GET.get("q", "")).strip()
    if kind and query:
        clicks = clicks.exclude(kind=kind, title=query)
    clicks = list(clicks.only("pk", "query_string", "kind", "object_id", "clicked_at"))
    if not clicks:
        return
    with transaction.atomic():
        SearchClick.objects.filter(pk__in=[click.pk for click in clicks]).update(returned_at=now)
        first = {}
        for click in clicks:
            key = (click.query_string, click.kind, click.object_id)
            first[key] = min(first.get(key, click.clicked_at), click.clicked_at)
        for (query_string, kind_name, object_id), clicked_at in first.items():
            take_back(query_string, kind_name, object_id, clicked_at)


# --- learned links as a ranking signal ---------------------------------------------------------


def _word_weight(word):
    return 2 if len(word) > 1 else 1  # a single character (到, 丢) says less than a word


@functools.lru_cache(maxsize=65536)
def query_words_of(query_string):
    """The content words of a link's query, segmented once per process (the table is rebuilt every
    minute), with their total weight."""
    words = frozenset(content_words(query_string))
    return words, sum(map(_word_weight, words))


class LinkTable:
    """Every active learned link: ``{query string: {(kind, object id): (weight, last click timestamp)}}``,
    with an inverted index from each content word to the query strings that have it.

    Loaded from the database, then kept up to date in place by this process's saves and deletes (a
    click changes one link: reloading every link per click would cost more at ten thousand links).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.links = {}
        self.totals = {}  # query string → total weight of its words
        self.by_word = defaultdict(set)
        rows = LearnedLink.objects.filter(blocked=False, weight__gt=0, last_clicked_at__isnull=False)
        for row in rows.values_list("query_string", "kind", "object_id", "weight", "last_clicked_at"):
            self._put(*row)

    def __bool__(self):
        return bool(self.links)

    def _put(self, query_string, kind, object_id, weight, last_clicked_at):
        targets = self.links.get(query_string)
        if targets is None:
            targets = self.links[query_string] = {}
            words, self.totals[query_string] = query_words_of(query_string)
            for word in words:
                self.by_word[word].add(query_string)
        targets[(kind, object_id)] = (weight, last_clicked_at.timestamp())

    def _remove(self, query_string, kind, object_id):
        targets = self.links.get(query_string)
        if targets is None:
            return
        targets.pop((kind, object_id), None)
        if not targets:
            del self.links[query_string]
            del self.totals[query_string]
            for word in query_words_of(query_string)[0]:
                self.by_word[word].discard(query_string)

    def update(self, link, deleted=False):
        """Reflect a saved or deleted ``LearnedLink`` row."""
        with self._lock:
            self._remove(link.query_string, link.kind, link.object_id)
            active = not link.blocked and link.weight > 0 and link.last_clicked_at is not None
            if active and not deleted:
                self._put(link.query_string, link.kind, link.object_id, link.weight, link.last_clicked_at)

    def strengths(self, query_string, now):
        """{(kind, object id): strength} for a normalised query string (see ``link_strengths``)."""
        words, total = query_words_of(query_string)
        now = now.timestamp()
        seconds = half_life().total_seconds()
        found = defaultdict(float)
        with self._lock:
            shared = Counter()
            for word in words:
                postings = self.by_word.get(word, ())
                for _ in range(_word_weight(word)):
                    shared.update(postings)  # counted in C: a common word is in thousands of queries
            totals = self.totals
            similar = []
            for other, common in shared.items():
                if other != query_string:
                    similarity = common / (total + totals[other] - common)
                    if similarity >= MIN_SIMILARITY:
                        similar.append((SHARED_WORDS_FACTOR * similarity, other))
            shares = [(1.0, query_string)] if query_string in self.links else []
            shares += heapq.nlargest(MAX_SIMILAR_QUERIES, similar)
            for share, other in shares:
                for key, (weight, last) in self.links[other].items():
                    found[key] += share * weight * 0.5 ** (max(now - last, 0.0) / seconds)
        return found


class SharedLinks(SharedValue):
    """The process's ``LinkTable``: reloaded every minute (other processes' clicks) and after a bulk
    change here or in another process (``invalidate``); a row saved or deleted here is patched in
    (``on_save``, ``on_delete``)."""

    def peek(self):
        """The table if loaded (never loads it: a save needs no table nobody searched with)."""
        with self._lock:
            return self._value

    def on_save(self, sender, instance, **kwargs):
        table = self.peek()
        if table is not None:
            table.update(instance)

    def on_delete(self, sender, instance, **kwargs):
        table = self.peek()
        if table is not None:
            table.update(instance, deleted=True)


shared_links = SharedLinks(LinkTable, ttl=60.0, name="learned_links")


def link_strengths(text, now=None):
    """{(kind, object id): strength} for ``text``: the current weight of each link of the same query,
    plus ``SHARED_WORDS_FACTOR`` × similarity × weight of links whose query shares words with it (a
    similarity below ``MIN_SIMILARITY`` counts for nothing)."""
    table = shared_links.get()
    if not table:
        return {}
    return table.strengths(normalise_query_string(text), now or timezone.now())


def bonus(strength):
    return min(MAX_BONUS, BONUS_PER_CLICK * strength)


def apply_learned_links(hits, text, request, sections, blocked, typed=None, now=None):
    """``hits`` (ranked by ``results.rank``) with learned links' bonuses added to their scores, plus the
    strongly linked hits the text search missed that the request may see; ranked again.

    ``text`` is what was searched; ``typed`` what the agent typed when search read it otherwise (tousu
    read as 投诉): clicks are recorded under the typed query, so links of either count (the stronger).
    """
    try:
        strengths = link_strengths(text, now)
        if typed and typed != text:
            for key, strength in link_strengths(typed, now).items():
                strengths[key] = max(strengths.get(key, 0.0), strength)
    except Exception:
        logger.exception("Learned links failed for %r", text)
        return hits
    if not strengths:
        return hits
    found = set()
    for hit in hits:
        key = (hit.kind, str(hit.pk))
        if key in strengths:
            hit.score += bonus(strengths[key])
            found.add(key)
    missing = [
        key for key, strength in strengths.items() if strength >= ADD_FROM_STRENGTH and key not in found
    ]
    if missing:
        for key, hit in visible_hits(request, missing, sections, blocked).items():
            hit.score = bonus(strengths[key])
            hits.append(hit)
    hits.sort(key=lambda h: (-h.score, h.title))
    return hits


def connect_signals():
    """Keep the link table up to date with the links saved or deleted in this process."""
    post_save.connect(shared_links.on_save, sender=LearnedLink, dispatch_uid="callbook-links-save")
    post_delete.connect(shared_links.on_delete, sender=LearnedLink, dispatch_uid="callbook-links-delete")
