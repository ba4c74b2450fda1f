"""Header-box suggestions: titles an agent may open, matched anywhere in a title or its tags as they type.

``suggestions_for(request, text)`` answers 少发 with the phrasings tagged 少发货, 快递压 with the pages
tagged 快递压坏了, 包裹丢 with 包裹丢失…, ``tousu`` / ``ts`` with 投诉…, best first:

1. the title starts with what was typed;
2. a word of the title, or a tag, starts with it (words as the search analyzer segments them);
3. it occurs inside the title or a tag;
4. every content word typed occurs somewhere in the title or tags (包裹丢了 → 包裹 + 丢);
5. typed Latin letters start the pinyin of the title (full or initials: ``tousuchu``, ``tscl``);
6. they start the pinyin of a word of the title (``chuli`` in 投诉处理流程).

Within a rank, shorter titles come first (closer to what was typed), then the kinds in facet order.
Traditional and full-width input is folded as the index folds text (``zhtext.normalize``); a query
of only function words (了, 的, 请问…) suggests nothing.

Candidates come from an in-process index (``SuggestIndex``) of every registered kind's titles, tags and
pinyin keys: a few strings searched with ``str.find``, about a millisecond at 10,000 articles. It is
rebuilt after a publish, unpublish, save or delete in this process (``connect_signals``), on the next
request after one in another process (its generation in Django's shared cache, ``search.caches``), and
at least every ``INDEX_TTL`` seconds; a rebuild reuses what it
computed for rows whose title and tags did not change. The index only proposes: what is shown is
read again from the database for each request (live pages of a registered kind, the kind's own
queryset for snippets and documents) and checked against the user's page and collection view
restrictions, so a page unpublished, moved or restricted elsewhere is never suggested.
"""

import functools
import re
import threading
import time
from array import array
from bisect import bisect_right

from django.db.models.signals import post_delete, post_save
from taggit.managers import TaggableManager
from wagtail.models import Collection, Page
from wagtail.signals import page_published, page_unpublished, post_page_move

from search import kinds, results, synonyms
from search.caches import GenerationalCache, forget_now_and_after_commit
from zhtext import content_words, full_pinyin, has_cjk, initials, looks_like_pinyin, normalize, tokenize

SUGGEST_LIMIT = 8
MAX_TYPED = 40  # characters of the query looked at: a title box, not a search
INDEX_TTL = 60.0  # seconds: without a shared cache, changes made by other processes show up within this
PAGE_FIELDS = ("id", "title", "path", "url_path", "content_type_id", "locale_id")
DOCUMENT_FIELDS = ("id", "title", "file", "collection_id")

_SPACE_RE = re.compile(r"\s+")
_NOT_WORD_RE = re.compile(r"[^\w\s]")
_LATIN_RE = re.compile(r"[^a-z0-9]+")
# Separators inside the index strings; typed text never contains them (whitespace is removed).
_ENTRY, _FIELD = "\n", "\t"


@functools.lru_cache(maxsize=8192)
def _word_pinyin(word):
    """(full, initials) of one segmented word; Latin words and digits as they are."""
    if not has_cjk(word):
        key = _LATIN_RE.sub("", word.lower())
        return key, key
    return full_pinyin(word), initials(word)


def _marked(text):
    """``text`` folded, without whitespace, and a bytes mask of the offsets where a word starts."""
    folded = normalize(text).replace(_ENTRY, " ").replace(_FIELD, " ")
    compact, offsets = [], []
    for char in folded:
        offsets.append(len(compact))
        if not char.isspace():
            compact.append(char)
    offsets.append(len(compact))
    compact = "".join(compact)
    marks = bytearray(len(compact))
    if compact:
        marks[0] = 1
    words = []
    # Offsets refer to normalize(folded), the same string for all practical input (normalize is idempotent).
    for tok in tokenize(folded):
        start = offsets[min(tok.start, len(folded))]
        if start < len(marks):
            marks[start] = 1
        if not tok.sub:
            words.append(tok.text)
    for index in range(1, len(folded)):  # a word after a space or punctuation starts there too
        if not folded[index - 1].isalnum() and offsets[index] < len(marks):
            marks[offsets[index]] = 1
    return compact, bytes(marks), words


def _entry_parts(title, tags):
    """What one title and its tags add to the index strings (see ``SuggestIndex``)."""
    compact, marks, words = _marked(title)
    text, mask = [_ENTRY, compact], [b"\0", marks]
    for tag in tags:
        tag_text, tag_marks, _words = _marked(tag)
        if tag_text:
            text += [_FIELD, tag_text]
            mask += [b"\0", tag_marks]
    keys = [_word_pinyin(word) for word in words]
    whole = (
        "".join(full for full, _ in keys),
        "".join(first for _, first in keys),
    )
    head = "".join(" " + key for key in whole if key)
    rest = "".join(" " + key for pair in keys for key in dict.fromkeys(pair) if key)
    return "".join(text), b"".join(mask), _ENTRY + head, rest, len(compact)


class SuggestIndex:
    """Titles and tags of everything suggestible, as three strings searched with ``str.find``.

    ``text`` holds each entry as ``\\n<title>\\t<tag>\\t<tag>…`` (folded, whitespace removed), ``marks``
    a byte per character of ``text`` (1 where a word starts) and ``pinyin`` each entry as
    ``\\n <title full> <title initials> <word keys…>``. Entries are sorted by title length, then kind
    order: the order in which equally ranked matches are suggested. Per entry: its kind, primary key,
    page path (to leave restricted pages out before reading them again) and where its parts start.
    """

    def __init__(self, rows, previous=None):
        self.kinds = kinds.all_kinds()
        order = {kind.name: position for position, kind in enumerate(self.kinds)}
        reuse = previous.parts_by_key() if previous is not None else {}
        entries = []
        for kind_name, pk, title, path, tags in rows:
            signature = hash((title, tags))
            parts = reuse.get((kind_name, pk))
            if parts is None or parts[0] != signature:
                parts = (signature, *_entry_parts(title, tags))
            entries.append((parts[5], order[kind_name], title, kind_name, pk, path, parts))
        entries.sort(key=lambda entry: entry[:3])
        self.kind_of = bytes(order[entry[3]] for entry in entries)
        self.pks = [entry[4] for entry in entries]
        self.paths = [entry[5] for entry in entries]
        self.signatures = array("q", (entry[6][0] for entry in entries))
        # A title read again for a request that differs from the one indexed was changed since (by
        # another process, or a primary key reused): it is not shown, and the index is rebuilt.
        self.title_hashes = array("q", (hash(entry[2]) for entry in entries))
        self.text = "".join(entry[6][1] for entry in entries) + _ENTRY
        self.marks = b"".join(entry[6][2] for entry in entries) + b"\0"
        self.starts = array("l", _offsets(entry[6][1] for entry in entries))
        self.title_lengths = array("l", (entry[0] for entry in entries))
        self.pinyin = "".join(entry[6][3] + entry[6][4] for entry in entries) + _ENTRY
        self.pinyin_starts = array("l", _offsets(entry[6][3] + entry[6][4] for entry in entries))
        self.pinyin_head_ends = array(
            "l", (start + len(entry[6][3]) for start, entry in zip(self.pinyin_starts, entries, strict=True))
        )

    def __len__(self):
        return len(self.pks)

    def parts_by_key(self):
        """{(kind name, pk): (signature, *parts)} of every entry, for a rebuild to reuse."""
        found = {}
        text_ends = list(self.starts[1:]) + [len(self.text) - 1]
        pinyin_ends = list(self.pinyin_starts[1:]) + [len(self.pinyin) - 1]
        for entry, pk in enumerate(self.pks):
            start, end = self.starts[entry], text_ends[entry]
            p_start, p_head, p_end = (
                self.pinyin_starts[entry],
                self.pinyin_head_ends[entry],
                pinyin_ends[entry],
            )
            found[(self.kinds[self.kind_of[entry]].name, pk)] = (
                self.signatures[entry],
                self.text[start:end],
                self.marks[start:end],
                self.pinyin[p_start:p_head],
                self.pinyin[p_head:p_end],
                self.title_lengths[entry],
            )
        return found

    def matched_tag(self, entry, needle):
        """The tag of ``entry`` that contains ``needle`` when its title does not (shown beside the title:
        少发 suggests 少货致歉 for its tag 少发货), else ``""``."""
        start = self.starts[entry] + 1
        end = self.starts[entry + 1] if entry + 1 < len(self.starts) else len(self.text) - 1
        title, *tags = self.text[start:end].split(_FIELD)
        if not needle or needle in title:
            return ""
        return next((tag for tag in tags if needle in tag), "")

    def ranked(self, needle, words, letters, want):
        """The ``want`` best entries for what was typed, best first (see the module docstring for the
        ranks): exactly the first ``want`` of the whole ranking, so a larger ``want`` only adds to the end.

        Entries are stored in the order ties are broken in, so each rank's entries are found in order
        by one pass over a string, which stops as soon as nothing found later could make the cut: an
        agent's first keystroke (t, 客) matches thousands of titles.
        """
        chosen = []
        if needle:
            chosen += self._title_starts(needle, want)
            if len(chosen) < want:
                chosen += self._words_and_insides(needle, want - len(chosen), set(chosen))
        if len(chosen) < want and (len(words) > 1 or (words and words[0] != needle)):
            chosen += self._all_words(words, set(chosen))[: want - len(chosen)]
        if len(chosen) < want and letters:
            chosen += self._pinyin(letters, want - len(chosen), set(chosen))
        return chosen[:want]

    def _title_starts(self, needle, want):
        text, starts, found = self.text, self.starts, []
        position = text.find(_ENTRY + needle)
        while position >= 0 and len(found) < want:
            found.append(bisect_right(starts, position) - 1)
            position = text.find(_ENTRY + needle, position + 1)
        return found

    def _words_and_insides(self, needle, want, taken):
        """Entries where ``needle`` starts a word or tag (first), or occurs inside one."""
        text, marks, starts = self.text, self.marks, self.starts
        words, insides = [], []
        last = len(starts) - 1
        position = text.find(needle)
        while position >= 0 and len(words) < want:
            entry = bisect_right(starts, position) - 1
            after = starts[entry + 1] if entry < last else len(text)
            if entry in taken:
                position = text.find(needle, after)
                continue
            # The entry's best occurrence: a word start, else any (the first) one.
            while position >= 0 and position < after and not marks[position]:
                position = text.find(needle, position + 1)
            if 0 <= position < after:
                words.append(entry)
            elif len(insides) < want:
                insides.append(entry)
            position = text.find(needle, after) if position >= 0 else -1
        return (words + insides)[:want]

    def _all_words(self, words, taken):
        """Entries whose title or tags contain every word (in any order), in entry order."""
        common = None
        for word in dict.fromkeys(words):
            having = self._containing(word)
            common = having if common is None else common & having
            if not common:
                return []
        return sorted(common - taken)

    def _containing(self, needle):
        text, starts, found = self.text, self.starts, set()
        last = len(starts) - 1
        position = text.find(needle)
        while position >= 0:
            entry = bisect_right(starts, position) - 1
            found.add(entry)
            position = text.find(needle, starts[entry + 1]) if entry < last else -1
        return found

    def _pinyin(self, letters, want, taken):
        """Entries with a pinyin key that starts with ``letters``: the title's keys first, then a word's."""
        pinyin, starts, heads = self.pinyin, self.pinyin_starts, self.pinyin_head_ends
        needle = " " + letters
        heads_found, words_found = [], []
        last = len(starts) - 1
        position = pinyin.find(needle)
        while position >= 0 and len(heads_found) < want:
            entry = bisect_right(starts, position) - 1
            if entry not in taken:
                if position < heads[entry]:
                    heads_found.append(entry)
                elif len(words_found) < want:
                    words_found.append(entry)
            position = pinyin.find(needle, starts[entry + 1]) if entry < last else -1
        return (heads_found + words_found)[:want]


def _offsets(parts):
    offsets, position = [], 0
    for part in parts:
        offsets.append(position)
        position += len(part)
    return offsets


def _tag_field(model):
    """The name of ``model``'s tags (a taggit manager), or ``None``."""
    for field in model._meta.get_fields():
        if isinstance(field, TaggableManager):
            return field.name
    return None


def _tags(queryset):
    """{pk: (tag names…)} of the rows of ``queryset`` (none when its model has no tags)."""
    field = _tag_field(queryset.model)
    if field is None:
        return {}
    tags = {}
    rows = queryset.filter(**{f"{field}__isnull": False}).values_list("pk", f"{field}__name")
    for pk, name in rows.order_by("pk", f"{field}__name"):
        tags.setdefault(pk, []).append(name)
    return {pk: tuple(names) for pk, names in tags.items()}


def index_rows():
    """(kind name, pk, title, page path or None, tags) of every live page of a registered page kind and
    every row of the other kinds."""
    rows = []
    kind_by_type = kinds.page_kinds_by_content_type()
    if kind_by_type:
        pages = Page.objects.live().filter(content_type_id__in=list(kind_by_type))
        tags = {}
        for kind in kinds.page_kinds():
            tags.update(_tags(kind.model.objects.live()))
        for pk, title, path, content_type in pages.values_list("id", "title", "path", "content_type_id"):
            rows.append((kind_by_type[content_type].name, pk, title, path, tags.get(pk, ())))
    for kind in kinds.all_kinds():
        if kind.is_page:
            continue
        queryset = kind.get_queryset()
        tags = _tags(queryset)
        for pk, title in queryset.values_list("pk", kind.title_field):
            if title:
                rows.append((kind.name, pk, title, None, tags.get(pk, ())))
    return rows


class SharedIndex(GenerationalCache):
    """The process's ``SuggestIndex``, rebuilt after ``invalidate`` here or in another process (its
    generation, ``search.caches``) and every ``ttl`` seconds."""

    def __init__(self, ttl=INDEX_TTL, name="suggest_index", generations=None):
        self.ttl = ttl
        self._index = None
        self._stale = True
        self._built = 0.0
        self._lock = threading.Lock()
        self._setup_generation(name, generations)

    def get(self):
        token = self._stale_generation()
        with self._lock:
            if token is not None or self._stale or time.monotonic() - self._built > self.ttl:
                if token is None and self.name is not None:
                    token = self.generations.current(self.name)
                self._stale = False
                self._built = time.monotonic()
                try:
                    self._index = SuggestIndex(index_rows(), previous=self._index)
                except Exception:
                    self._stale = True
                    raise
                self._generation = token
            return self._index

    def invalidate(self, **kwargs):
        """Signal receiver: rebuild on next use, here and (after the commit) in every process."""
        forget_now_and_after_commit(self.forget, self.bump)

    def forget(self):
        self._stale = True  # the index itself is kept: the rebuild reuses its unchanged entries

    def clear(self):
        with self._lock:
            self._index, self._stale = None, True


shared_index = SharedIndex()


def typed_text(text):
    """What was typed, as suggestions read it: words only (quotes, operators and field syntax mean
    nothing in a title box), single spaces, at most ``MAX_TYPED`` characters."""
    return " ".join(_NOT_WORD_RE.sub(" ", synonyms.clean_query(text)[:MAX_TYPED]).split())


class _Visibility:
    """What this request may see, read once and only when a candidate of that sort comes up."""

    def __init__(self, request):
        self.request = request
        self._pages = None
        self._collections = None

    @property
    def blocked_pages(self):
        if self._pages is None:
            self._pages = results.blocked_page_paths(self.request)
        return self._pages

    @property
    def blocked_collections(self):
        if self._collections is None:
            self._collections = results.blocked_collection_paths(self.request)
        return self._collections


def _confirm(index, entries, request, visibility, sections):
    """Suggestions for ``entries`` that still exist and may be seen, read from the database, in order."""
    by_kind = {}
    for entry in entries:
        by_kind.setdefault(index.kind_of[entry], []).append(index.pks[entry])
    shown = {}
    kind_by_type = None
    for position, pks in by_kind.items():
        kind = index.kinds[position]
        if kind.is_page:
            if kind_by_type is None:
                kind_by_type = kinds.page_kinds_by_content_type()
            blocked = visibility.blocked_pages
            pages = Page.objects.live().filter(id__in=pks, content_type_id__in=list(kind_by_type))
            for page in pages.only(*PAGE_FIELDS):
                if blocked and page.path.startswith(blocked):
                    continue
                page_kind = kind_by_type[page.content_type_id]
                shown[(position, page.pk)] = (page.title, page.get_url(request) or "", page_kind.name)
        elif kind.is_document:
            documents = list(kind.get_queryset().filter(pk__in=pks).only(*DOCUMENT_FIELDS))
            blocked = visibility.blocked_collections if documents else ()
            paths = dict(Collection.objects.values_list("id", "path")) if blocked else {}
            for document in documents:
                if blocked and paths.get(document.collection_id, "").startswith(blocked):
                    continue
                shown[(position, document.pk)] = (document.title, document.url, kind.name)
        else:
            for obj in kind.get_queryset().filter(pk__in=pks).only(*kind.row_fields):
                section = None
                if kind.section_field:
                    if sections is None:
                        sections = results.shared_sections.get()
                    section = sections.by_id.get(getattr(obj, kind.section_field))
                url = results.snippet_url(kind, obj, section)
                shown[(position, obj.pk)] = (kind.title_of(obj), url, kind.name)
    items = []
    for entry in entries:
        found = shown.get((index.kind_of[entry], index.pks[entry]))
        if found is None:
            continue
        title, url, kind_name = found
        if hash(title) != index.title_hashes[entry]:
            shared_index.forget()
            continue
        items.append({"title": title, "url": url, "type": kind_name, "entry": entry})
    return items, sections


def reading(text):
    """(needle, content words, pinyin letters) of what was typed, as ``SuggestIndex.ranked`` takes them;
    ``None`` when nothing is to be suggested (nothing typed, or only 了, 的, 请问…)."""
    text = typed_text(text)
    words = [_SPACE_RE.sub("", word) for word in content_words(text)]
    if not words:
        return None
    folded = normalize(text)
    needle = _SPACE_RE.sub("", folded)
    return needle, words, needle if looks_like_pinyin(folded) else ""


def suggestions_for(request, text, limit=SUGGEST_LIMIT):
    """Up to ``limit`` suggestions ``{"title", "url", "type", "type_label"}`` for ``text``, best first,
    with ``"tag"`` when it was a tag that matched (see ``SuggestIndex.matched_tag``)."""
    typed = reading(text)
    if typed is None:
        return []
    needle, words, letters = typed
    index = shared_index.get()
    visibility = _Visibility(request)
    sections = None
    items, checked, want = [], 0, limit + 4
    while True:
        ranked = index.ranked(needle, words, letters, want)
        batch = []
        for entry in ranked[checked:]:
            path = index.paths[entry]
            blocked = visibility.blocked_pages if path is not None else ()
            if not (blocked and path.startswith(blocked)):
                batch.append(entry)
        checked = len(ranked)
        found, sections = _confirm(index, batch, request, visibility, sections)
        items += found
        # Fewer than asked for: there are no more. Else some were hidden or gone: look further.
        if len(items) >= limit or len(ranked) < want:
            break
        want *= 4
    items = items[:limit]
    for item in items:
        item["type_label"] = str(kinds.kind_label(item["type"]))
        tag = index.matched_tag(item.pop("entry"), needle)
        if tag:
            item["tag"] = tag
    return items


def connect_signals():
    """Rebuild the index after anything that changes what could be suggested, in this process."""
    page_published.connect(shared_index.invalidate, dispatch_uid="search_suggest_published")
    page_unpublished.connect(shared_index.invalidate, dispatch_uid="search_suggest_unpublished")
    post_page_move.connect(shared_index.invalidate, dispatch_uid="search_suggest_moved")
    # The registered kinds are only known once every app's hooks are loaded, after start-up: the
    # receiver listens to every model and checks the sender when a row changes.
    post_save.connect(_on_row_change, dispatch_uid="search_suggest_save")
    post_delete.connect(_on_row_change, dispatch_uid="search_suggest_delete")


@functools.cache
def _watched_models():
    """Every registered kind's model, and the models that hold their tags."""
    watched = set()
    for kind in kinds.all_kinds():
        watched.add(kind.model)
        field = _tag_field(kind.model)
        if field is not None:
            manager_field = kind.model._meta.get_field(field)
            watched.update((manager_field.through, manager_field.related_model))
    return frozenset(watched)


@functools.cache
def _watches(sender):
    return any(issubclass(sender, model) for model in _watched_models())


def _on_row_change(sender, **kwargs):
    if _watches(sender):
        shared_index.invalidate()
