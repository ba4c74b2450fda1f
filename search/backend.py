"""Whoosh search backend for Wagtail / modelsearch.

Configure it in ``WAGTAILSEARCH_BACKENDS``::

    "default": {
        "BACKEND": "search.backend",
        "PATH": VAR_DIR / "search-index",  # where the index directories live
        "LOCK_TIMEOUT": 30,                 # seconds a writer waits for the write lock before giving up
        "FSYNC": True,                      # fsync a rebuilt generation before swapping it in
        "LIMITMB": 128,                     # Whoosh writer memory during rebuilds
        "AUTO_UPDATE": True,
    }

Layout on disk (under ``PATH``): one index per root model (``wagtailcore.Page``, ``content.Phrasing``, ...),
named ``<app>_<model>__<analyzer version><schema version>``. Each index is a *generation* directory
``<name>.<timestamp>-<random>``; the text file ``<name>.current`` names the live generation. A rebuild writes a
new generation and replaces the pointer with ``os.replace`` (atomic), so searches keep using the old
generation until the swap and a crash mid-rebuild leaves the old index in place.

Documents: ``pk`` (stored), ``ct`` (the model label and its concrete ancestors' labels), catch-all text fields
per boost (``x_all``, ``x_b2``, ... like Elasticsearch's ``_all_text_boost_N``; they also hold adjacent-word
shingles so "these words together" is a term lookup), one text field per ``SearchField`` for ``fields=``
searches (``s_<path>``, RelatedFields paths joined with ``__``), edge-n-gram fields for ``AutocompleteField``
(``ac__all`` and ``ac_<path>``), one typed field per ``FilterField`` (``fb_``/``fn_``/``ff_``/``fd_``/``ft_``/
``fi_``/``fu_`` + attname) and ``nulls`` listing the filter fields whose value is ``None``.

Searching: the query is built from modelsearch query objects (never a query parser). Filters on the queryset
are translated into Whoosh queries where possible; then only the top ``stop`` hits are fetched from Whoosh
(fast path). When a filter cannot be translated, or results are ordered by a field, all hits are fetched and
the ORM filters/orders them. Either way the objects are re-fetched through the queryset, so stale index
entries never show.

Writes happen after the surrounding transaction commits (``transaction.on_commit``, re-reading the committed
rows); ``index.refresh()`` also applies writes still pending in the current transaction (so code inside a
transaction - and tests - can see its own writes). Writers wait up to ``LOCK_TIMEOUT`` for the Whoosh write
lock. While a rebuild runs, live writes are also journaled and replayed into the new generation before the
swap. Searchers are cached per thread and reopened when the pointer or the index generation changes.

Failed writes are retried, not dropped: when a deferred write fails (the lock stayed busy for ``LOCK_TIMEOUT``,
a full disk, ...) it is logged and saved as one small JSON file in ``<name>.retry/`` (model label and pk of
each addition, pk of each deletion - never documents), and the editor's save still succeeds. The next write
to that index replays the saved writes first, re-reading their rows (so it indexes the current state), and
deletes each file only after its commit. ``manage.py reconcile_index`` (safe from cron) replays them too, then
compares the index's pks with ``get_indexed_objects()`` and adds what is missing, deletes what is stale.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import decimal
import fcntl
import json
import logging
import os
import pickle
import re
import secrets
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path

from django.conf import settings
from django.db import connections, models, router, transaction
from django.db.models import Count, Manager
from django.db.models.functions.datetime import Extract as ExtractDate
from django.db.models.lookups import Lookup
from django.utils import timezone
from django.utils.encoding import force_str
from modelsearch.backends.base import (
    BaseIndex,
    BaseSearchBackend,
    BaseSearchQueryCompiler,
    BaseSearchResults,
    FilterFieldError,
    get_model_root,
)
from modelsearch.index import (
    AutocompleteField,
    FilterField,
    RelatedFields,
    SearchField,
    get_indexed_models,
)
from modelsearch.query import And, Boost, Fuzzy, MatchAll, Not, Or, Phrase, PlainText
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.index import LockError
from whoosh.matching import NullMatcherClass, WrappingMatcher
from whoosh.query.compound import DefaultOr

from search import fastscore
from zhtext import query_words
from search.analysis import (
    ANALYZER_VERSION,
    SHINGLE_JOINER,
    AutocompleteAnalyzer,
    ChineseAnalyzer,
    ShingleAnalyzer,
    shingle,
)

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "5"
INDEX_NAME = "MAIN"
DEFAULT_LOCK_TIMEOUT = 30.0
# Queries are cut to this many words, and each word to this many tokens (a 10,000-character query must not
# build a 10,000-clause Whoosh query).
MAX_QUERY_WORDS = 32
MAX_WORD_TOKENS = 16
# Beyond this many hits the ORM path filters primary keys in chunks.
PK_CHUNK = 5000
# fsync new generations before they go live (the FSYNC setting; tests switch it off for speed).
FSYNC = {"enabled": True}


class _Untranslatable(Exception):
    """A filter or ordering that cannot be expressed in Whoosh; the ORM handles it instead."""


# ---------------------------------------------------------------------------------------------------------
# Schema and documents
# ---------------------------------------------------------------------------------------------------------


def build_schema():
    schema = Schema(
        pk=ID(unique=True, stored=True, sortable=True),  # sortable: also a column, read by search.fastscore
        ct=KEYWORD(scorable=False),
        nulls=KEYWORD(scorable=False),
    )
    schema.add("s_*", TEXT(analyzer=ChineseAnalyzer(), phrase=True), glob=True)
    # No positions in the catch-all fields: adjacency is answered by the shingle terms, and without
    # positions their postings are a fraction of the size and much faster to read and score.
    schema.add("x_*", TEXT(analyzer=ShingleAnalyzer(), phrase=False), glob=True)
    schema.add("ac_*", TEXT(analyzer=AutocompleteAnalyzer(), phrase=True), glob=True)
    schema.add("fb_*", BOOLEAN(), glob=True)
    schema.add("fn_*", NUMERIC(numtype=int, bits=64, signed=True), glob=True)
    schema.add("ft_*", NUMERIC(numtype=int, bits=64, signed=True), glob=True)
    schema.add("ff_*", NUMERIC(numtype=float), glob=True)
    schema.add("fd_*", DATETIME(), glob=True)
    schema.add("fi_*", ID(), glob=True)
    schema.add("fu_*", ID(), glob=True)
    return schema


_INT_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
}


def _filter_kind(field, model):
    field_type = field.get_type(model)
    if field_type in ("BooleanField", "NullBooleanField"):
        return "fb"
    if field_type in _INT_TYPES:
        return "fn"
    if field_type in ("FloatField", "DecimalField"):
        return "ff"
    if field_type in ("DateField", "DateTimeField"):
        return "fd"
    if field_type == "TimeField":
        return "ft"
    if field_type == "UUIDField":
        return "fu"
    return "fi"


def _clean_filter_value(kind, value):
    """Convert a Python value to what the Whoosh field of ``kind`` stores. Raises _Untranslatable."""
    if isinstance(value, models.Model):
        value = value.pk
    if hasattr(value, "resolve_expression"):
        raise _Untranslatable
    try:
        if kind == "fb":
            if isinstance(value, str):
                raise _Untranslatable
            return bool(value)
        if kind == "fn":
            return int(value)
        if kind == "ff":
            return float(value)
        if kind == "fd":
            if isinstance(value, datetime.datetime):
                if timezone.is_aware(value):
                    value = timezone.make_naive(value, datetime.UTC)
                return value
            if isinstance(value, datetime.date):
                return datetime.datetime(value.year, value.month, value.day)
            raise _Untranslatable
        if kind == "ft":
            if isinstance(value, datetime.time):
                return (
                    value.hour * 3600_000_000
                    + value.minute * 60_000_000
                    + value.second * 1_000_000
                    + (value.microsecond)
                )
            raise _Untranslatable
        if kind == "fu":
            return (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).hex
    except (TypeError, ValueError, AttributeError, decimal.InvalidOperation) as exc:
        raise _Untranslatable from exc
    if isinstance(value, uuid.UUID):
        return value.hex
    return force_str(value)


ALL_TEXT = "x_all"
AUTOCOMPLETE_ALL = "ac__all"


def boost_bucket(boost):
    """The catch-all field for SearchFields with ``boost`` (``x_all`` or ``x_b2``, ``x_b1_5`` ...).

    Like Elasticsearch's ``_all_text`` / ``_all_text_boost_N``: a search without ``fields=`` queries one
    field per distinct boost instead of every field of every subclass.
    """
    boost = float(boost or 1)
    if boost == 1:
        return ALL_TEXT
    return "x_b" + (f"{boost:g}").replace(".", "_").replace("-", "m")


def _prepare_text(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "\n".join(_prepare_text(item) for item in value)
    if isinstance(value, dict):
        return "\n".join(_prepare_text(item) for item in value.values())
    return force_str(value)


def _related_objects(field, obj):
    sub = field.get_value(obj)
    if sub is None:
        return []
    if isinstance(sub, Manager):
        return list(sub.all())
    if callable(sub):
        sub = sub()
    if sub is None:
        return []
    return [sub]


def model_label(model):
    return f"{model._meta.app_label}.{model._meta.model_name}"


def _content_type_labels(model):
    labels = [model_label(model)]
    for parent in model._meta.get_parent_list():
        labels.append(model_label(parent))
    return labels


def build_document(obj):
    """The Whoosh document (a dict) for ``obj``."""
    model = type(obj)
    doc = {"pk": force_str(obj.pk), "ct": " ".join(_content_type_labels(model))}
    texts = {}
    nulls = []

    def walk(target, target_model, fields, prefix, top_level):
        for field in fields:
            if isinstance(field, RelatedFields):
                for sub_obj in _related_objects(field, target):
                    walk(sub_obj, type(sub_obj), field.fields, prefix + field.field_name + "__", False)
            elif isinstance(field, SearchField):
                text = _prepare_text(field.get_value(target))
                texts.setdefault("s_" + prefix + field.field_name, []).append(text)
                texts.setdefault(boost_bucket(field.boost), []).append(text)
            elif isinstance(field, AutocompleteField):
                text = _prepare_text(field.get_value(target))
                texts.setdefault("ac_" + prefix + field.field_name, []).append(text)
                texts.setdefault(AUTOCOMPLETE_ALL, []).append(text)
            elif isinstance(field, FilterField) and top_level:
                # Filters through RelatedFields are applied by the ORM (see _process_lookup).
                kind = _filter_kind(field, target_model)
                name = kind + "_" + field.get_attname(target_model)
                value = field.get_value(target)
                if value is None:
                    nulls.append(name)
                    continue
                try:
                    doc[name] = _clean_filter_value(kind, value)
                except _Untranslatable:
                    continue

    walk(obj, model, model.get_search_fields(), "", True)
    for name, parts in texts.items():
        text = "\n".join(part for part in parts if part)
        if text:
            doc[name] = text
    if nulls:
        doc["nulls"] = " ".join(nulls)
    return doc


# ---------------------------------------------------------------------------------------------------------
# Index storage: generations, pointer files, searchers and writers
# ---------------------------------------------------------------------------------------------------------


def _fsync_dir(path):
    if not FSYNC["enabled"]:
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_tree(path):
    if not FSYNC["enabled"]:
        return
    for name in os.listdir(path):
        file_path = os.path.join(path, name)
        if os.path.isfile(file_path):
            with open(file_path, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(path)


@contextlib.contextmanager
def _file_lock(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class IndexStore:
    """One physical Whoosh index (all of its generations) under ``base_path``."""

    def __init__(self, base_path, name, lock_timeout=DEFAULT_LOCK_TIMEOUT):
        self.base_path = Path(base_path)
        self.name = name
        self.lock_timeout = lock_timeout

    @property
    def pointer_path(self):
        return self.base_path / f"{self.name}.current"

    def current_generation(self):
        try:
            return self.pointer_path.read_text().strip() or None
        except FileNotFoundError:
            return None

    def generation_path(self, generation):
        return self.base_path / generation

    def new_generation(self):
        """Create an empty index in a fresh generation directory (not yet live) and return its name."""
        generation = f"{self.name}.{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}"
        path = self.generation_path(generation)
        path.mkdir(parents=True)
        whoosh_index.create_in(str(path), build_schema(), indexname=INDEX_NAME)
        return generation

    def swap(self, generation):
        """Make ``generation`` live atomically and remove generations older than the previous one."""
        _fsync_tree(self.generation_path(generation))
        previous = self.current_generation()
        tmp = self.pointer_path.with_name(self.pointer_path.name + f".tmp-{secrets.token_hex(4)}")
        with open(tmp, "w") as fh:
            fh.write(generation + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.pointer_path)
        _fsync_dir(self.base_path)
        self.cleanup(keep={generation, previous})

    def cleanup(self, keep):
        """Delete old generation directories; the previous one is kept for searchers still using it.

        Only generations (``<name>.<timestamp>-<random>``, see ``new_generation``): the retry and journal
        directories next to them hold writes still to be applied.
        """
        generation_name = re.compile(re.escape(self.name) + r"\.\d{14}-[0-9a-f]{8}")
        for entry in self.base_path.iterdir():
            if entry.is_dir() and generation_name.fullmatch(entry.name) and entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)

    def ensure(self):
        """Return the live generation, creating an empty index if there is none yet."""
        generation = self.current_generation()
        if generation and whoosh_index.exists_in(str(self.generation_path(generation)), INDEX_NAME):
            return generation
        with _file_lock(self.lock_path):
            generation = self.current_generation()
            if generation and whoosh_index.exists_in(str(self.generation_path(generation)), INDEX_NAME):
                return generation
            if generation:
                logger.warning(
                    "Search index %s: live generation %s is missing or unreadable; starting an empty one. "
                    "Run `manage.py update_index`.",
                    self.name,
                    generation,
                )
            generation = self.new_generation()
            self.swap(generation)
            return generation

    def open(self, generation):
        # open_dir reads the newest table of contents; a writer in another process committing at that
        # moment deletes the older one, so the read can find its file gone. The next try sees the new one.
        path = str(self.generation_path(generation))
        for attempt in range(50):
            try:
                return whoosh_index.open_dir(path, indexname=INDEX_NAME)
            except FileNotFoundError:
                if attempt == 49:
                    raise
                time.sleep(0.01)

    # -- searchers ----------------------------------------------------------------------------------------

    _local = threading.local()

    def searcher(self):
        """A cached, refreshed searcher for the live generation (one per thread)."""
        cache = getattr(self._local, "searchers", None)
        if cache is None:
            cache = self._local.searchers = {}
        key = (str(self.base_path), self.name)
        cached = cache.get(key)
        generation = self.current_generation()
        if cached is None or generation is None or cached[0] != generation:
            generation = self.ensure()
        if cached is not None and cached[0] == generation:
            ix, searcher = cached[1], cached[2]
            if ix.latest_generation() == searcher.reader().generation():
                return searcher
            # Not Searcher.refresh(): it reuses segment readers and misses deletion-only commits.
            with contextlib.suppress(Exception):
                searcher.close()
        else:
            if cached is not None:
                with contextlib.suppress(Exception):
                    cached[2].close()
            ix = self.open(generation)
        searcher = ix.searcher()
        cache[key] = (generation, ix, searcher)
        return searcher

    @classmethod
    def close_searchers(cls):
        """Close this thread's cached searchers (they are reopened on the next search)."""
        for _generation, _ix, searcher in getattr(cls._local, "searchers", {}).values():
            with contextlib.suppress(Exception):
                searcher.close()
        cls._local.searchers = {}

    # -- writers ------------------------------------------------------------------------------------------

    def open_writer(self, ix, **kwargs):
        """Open a writer, waiting up to ``lock_timeout`` seconds while another writer holds the lock."""
        deadline = time.monotonic() + self.lock_timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                return ix.writer(timeout=max(0.0, min(remaining, 1.0)), delay=0.05, compound=False, **kwargs)
            except LockError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def apply_to(self, generation, ops):
        """Apply ``[("add", doc) | ("delete", pk)]`` to one generation in one commit; returns the ops.

        ``ops`` may be a callable returning them: it is called once the write lock is held, so documents
        built from database rows cannot be overtaken by a newer write of the same rows while this writer
        waited for the lock (the last writer to get the lock read the rows last).
        """
        writer = self.open_writer(self.open(generation))
        try:
            if callable(ops):
                ops = ops()
            if not ops:
                writer.cancel()
                return ops
            for op, payload in ops:
                if op == "add":
                    writer.update_document(**payload)
                else:
                    writer.delete_by_term("pk", payload)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return ops

    def apply(self, ops):
        """Apply ops (or a callable returning them, see ``apply_to``) to the live index; during a rebuild
        also journal them for the new generation."""
        if not callable(ops) and not ops:
            return
        generation = self.ensure()
        ops = self.apply_to(generation, ops)
        if not ops:
            return
        # Under the store lock, so this cannot interleave with a rebuild's replay-and-swap: either the
        # rebuild replays our journal entry, or we see its new generation and write there as well.
        with _file_lock(self.lock_path):
            current = self.current_generation()
            if current != generation:
                self.apply_to(current, ops)
            elif self.journal_path.is_dir():
                self._journal(ops)

    # -- rebuild journal -----------------------------------------------------------------------------------

    @property
    def lock_path(self):
        return self.base_path / f"{self.name}.lock"

    @property
    def journal_path(self):
        return self.base_path / f"{self.name}.journal"

    def _journal(self, ops):
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
        tmp = self.journal_path / f".{name}.tmp"
        with open(tmp, "wb") as fh:
            pickle.dump(ops, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.journal_path / f"{name}.ops")

    def start_journal(self):
        """Called when a rebuild starts: live writes from now on are also recorded for the new generation."""
        with _file_lock(self.lock_path):
            shutil.rmtree(self.journal_path, ignore_errors=True)
            self.journal_path.mkdir(parents=True)

    def finish_rebuild(self, generation):
        """Replay writes made during the rebuild into ``generation``, then make it live."""
        with _file_lock(self.lock_path):
            ops = []
            if self.journal_path.is_dir():
                for entry in sorted(self.journal_path.glob("*.ops")):
                    with open(entry, "rb") as fh:
                        ops.extend(pickle.load(fh))
            if ops:
                self.apply_to(generation, ops)
            self.swap(generation)
            shutil.rmtree(self.journal_path, ignore_errors=True)

    # -- retries of failed writes --------------------------------------------------------------------------

    @property
    def retry_path(self):
        return self.base_path / f"{self.name}.retry"

    def save_retry(self, using, adds, deletes):
        """Record a failed write so that a later write (or ``reconcile_index``) retries it; returns the file.

        Only what to write is kept - ``[model label, pk]`` additions and pk deletions, not documents: the
        retry re-reads the rows, so it indexes the state committed by then. One small JSON file per failed
        write, written under a temporary name and renamed into place, so a crash never leaves half a file.
        """
        self.retry_path.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
        tmp = self.retry_path / f".{name}.tmp"
        data = {
            "using": using,
            "adds": [[label, force_str(pk)] for label, pk in adds],
            "deletes": [force_str(pk) for pk in deletes],
        }
        with open(tmp, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        path = self.retry_path / f"{name}.json"
        os.replace(tmp, path)
        _fsync_dir(self.retry_path)
        return path

    def pending_retries(self):
        """``[(path, data)]`` of the failed writes waiting for a retry, oldest first."""
        if not self.retry_path.is_dir():
            return []
        retries = []
        for path in sorted(self.retry_path.glob("*.json")):
            try:
                retries.append((path, json.loads(path.read_text())))
            except FileNotFoundError:
                continue  # another process has just retried it
            except ValueError:
                logger.error("Search index %s: unreadable retry file %s, renamed to .bad", self.name, path)
                with contextlib.suppress(OSError):
                    os.replace(path, path.with_suffix(".bad"))
        return retries

    def discard_retries(self, paths):
        """Delete retry files whose operations have been committed."""
        for path in paths:
            path.unlink(missing_ok=True)


def _indexing_queryset(model, using):
    queryset = model._default_manager.db_manager(using).all()
    for field in model.get_search_fields():
        if isinstance(field, RelatedFields):
            queryset = field.select_on_queryset(queryset)
    return queryset


class _DeferredWrite:
    """An on_commit callback applying index operations; ``refresh()`` may run it early.

    Additions are re-read from the database when the callback runs, so the index gets the committed state
    (including relations such as tags that are saved after the row itself); rows that no longer exist are
    skipped.

    A write that fails (the write lock stayed busy for ``LOCK_TIMEOUT``, a full disk, ...) is logged and
    saved in the store's retry directory instead of being dropped, and never raises into the request that
    saved the content. Every write first replays the saved failed writes (re-reading their rows too) in the
    same commit, and deletes their files only once that commit succeeded. ``reconcile_index`` does the
    same with an empty write.
    """

    def __init__(self, store, using, adds=(), deletes=()):
        self.__qualname__ = f"{type(self).__qualname__}({store.name})"  # Django logs it for robust callbacks
        self.store = store
        self.using = using
        self.adds = list(adds)  # [(model, pk)]
        self.deletes = list(deletes)  # [pk string]
        self.done = False
        self.failed = False
        self.retried = 0  # saved failed writes replayed by this one

    @staticmethod
    def _ops(using, adds, deletes):
        ops = [("delete", force_str(pk)) for pk in deletes]
        by_model = {}
        for model, pk in adds:
            by_model.setdefault(model, []).append(pk)
        for model, pks in by_model.items():
            for obj in _indexing_queryset(model, using).filter(pk__in=pks):
                ops.append(("add", build_document(obj)))
        return ops

    def _retry_ops(self, data):
        models_by_label = {model_label(model): model for model in get_indexed_models()}
        adds = []
        for label, pk in data["adds"]:
            if label in models_by_label:
                adds.append((models_by_label[label], pk))
            else:
                logger.warning(
                    "Search index %s: retry skips %s %s, no longer an indexed model",
                    self.store.name,
                    label,
                    pk,
                )
        return self._ops(data["using"], adds, data["deletes"])

    @staticmethod
    def _last_op_per_pk(ops):
        """Only the last op for each pk: Whoosh's ``update_document`` does not replace a document added
        earlier in the same writer, so a pk added twice in one commit (by two retries) would be doubled."""
        last = {}
        for op, payload in ops:
            pk = payload["pk"] if op == "add" else payload
            last.pop(pk, None)
            last[pk] = (op, payload)
        return list(last.values())

    def __call__(self):
        if self.done:
            return
        self.done = True
        pending = self.store.pending_retries()
        replayed = []

        def build_ops():
            # Called by the store once it holds the write lock: rows are read as late as possible.
            ops = []
            replayed.clear()
            for path, data in pending:
                try:
                    ops.extend(self._retry_ops(data))
                except Exception:
                    # Kept for the next write: one bad retry must not block every later write.
                    logger.warning(
                        "Search index %s: cannot replay %s yet", self.store.name, path.name, exc_info=True
                    )
                else:
                    replayed.append(path)
            ops.extend(self._ops(self.using, self.adds, self.deletes))
            return self._last_op_per_pk(ops)

        try:
            self.store.apply(build_ops)
        except Exception:
            self.failed = True
            if not (self.adds or self.deletes):
                logger.warning(
                    "Search index %s: retrying failed writes failed", self.store.name, exc_info=True
                )
                return
            labelled_adds = [(model_label(model), pk) for model, pk in self.adds]
            try:
                path = self.store.save_retry(self.using, labelled_adds, self.deletes)
            except Exception:
                logger.exception(
                    "Search index %s: write of %d additions and %d deletions failed and could not be saved "
                    "for a retry; run `manage.py reconcile_index`",
                    self.store.name,
                    len(self.adds),
                    len(self.deletes),
                )
            else:
                logger.warning(
                    "Search index %s: write of %d additions and %d deletions failed; saved as %s for a retry",
                    self.store.name,
                    len(self.adds),
                    len(self.deletes),
                    path.name,
                    exc_info=True,
                )
            return
        self.store.discard_retries(replayed)
        self.retried = len(replayed)
        if replayed:
            logger.info(
                "Search index %s: %d failed write(s) retried successfully", self.store.name, len(replayed)
            )


_batching = threading.local()


@contextlib.contextmanager
def batched_index_writes():
    """Merge the index additions of a bulk job (an import, ``load_demo``) into one write per index.

    Without it every save in a transaction costs its own index commit after the transaction (about
    0.2 s each with segment merging): ``load_demo`` took 108 s, with it 16 s. Only additions are merged:
    they are re-read from the database when the write runs, so an addition made in a savepoint that is
    later rolled back indexes the committed state, which is right. Deletions keep their own callbacks.
    """
    previous = getattr(_batching, "active", False)
    _batching.active = True
    try:
        yield
    finally:
        _batching.active = previous


def _pending_write(connection, store):
    """The latest not-yet-run write for ``store`` in this transaction, to batch further additions into."""
    for _sids, func, _robust in reversed(connection.run_on_commit):
        if isinstance(func, _DeferredWrite) and func.store.name == store.name:
            # Only the latest write for the store, so additions never jump ahead of a later deletion.
            return func if not func.done and not func.deletes else None
    return None


def flush_pending_writes():
    """Apply index writes still waiting for the current transaction(s) to commit."""
    for connection in connections.all(initialized_only=True):
        for _sids, func, _robust in list(connection.run_on_commit):
            if isinstance(func, _DeferredWrite):
                func()


# ---------------------------------------------------------------------------------------------------------
# Index
# ---------------------------------------------------------------------------------------------------------


class WhooshIndex(BaseIndex):
    def __init__(self, backend, root_model):
        super().__init__(backend)
        self.root_model = root_model
        self.name = (
            f"{root_model._meta.app_label}_{root_model._meta.model_name}__{ANALYZER_VERSION}s{SCHEMA_VERSION}"
        )
        self.store = IndexStore(backend.path, self.name, backend.lock_timeout)

    def __repr__(self):
        return f"<WhooshIndex {self.name}>"

    def get_key(self):
        return self.name

    def add_model(self, model):
        pass  # the schema uses glob fields, so every model fits without changes

    def refresh(self):
        flush_pending_writes()

    def reset(self):
        with _file_lock(self.store.lock_path):
            self.store.swap(self.store.new_generation())

    def _using(self, model):
        return router.db_for_write(model)

    def add_items(self, model, items):
        items = list(items)
        if not items:
            return
        using = self._using(model)
        if connections[using].in_atomic_block:
            adds = [(type(item), item.pk) for item in items]
            pending = (
                _pending_write(connections[using], self.store)
                if getattr(_batching, "active", False)
                else None
            )
            if pending is not None:
                pending.adds.extend(adds)
            else:
                transaction.on_commit(_DeferredWrite(self.store, using, adds=adds), using=using, robust=True)
        else:
            # Autocommit: the rows are committed already. Written now, through the same path as a
            # deferred write, so that a failure is saved for a retry rather than lost.
            _DeferredWrite(self.store, using, adds=[(type(item), item.pk) for item in items])()

    def delete_item(self, item):
        using = self._using(type(item))
        pk = force_str(item.pk)
        if connections[using].in_atomic_block:
            transaction.on_commit(_DeferredWrite(self.store, using, deletes=[pk]), using=using, robust=True)
        else:
            _DeferredWrite(self.store, using, deletes=[pk])()


class _RebuildIndex(WhooshIndex):
    """The index a rebuild writes into: a fresh generation with one writer, written immediately."""

    def __init__(self, live_index, generation, writer):
        super().__init__(live_index.backend, live_index.root_model)
        self.generation = generation
        self.writer = writer

    def add_items(self, model, items):
        for item in items:
            self.writer.add_document(**build_document(item))

    def delete_item(self, item):
        self.writer.delete_by_term("pk", force_str(item.pk))


class WhooshRebuilder:
    """Builds a new generation and swaps it in atomically when finished."""

    def __init__(self, index):
        self.index = index
        self.rebuild_index = None

    def start(self):
        store = self.index.store
        store.start_journal()
        generation = store.new_generation()
        ix = store.open(generation)
        writer = store.open_writer(ix, limitmb=self.index.backend.limitmb)
        self.rebuild_index = _RebuildIndex(self.index, generation, writer)
        return self.rebuild_index

    def finish(self):
        store = self.index.store
        self.rebuild_index.writer.commit(optimize=True)
        store.finish_rebuild(self.rebuild_index.generation)
        self.remove_other_versions()

    def remove_other_versions(self):
        """Delete this model's indexes built with another analyzer or schema version (now unused)."""
        root = self.index.root_model
        prefix = f"{root._meta.app_label}_{root._meta.model_name}__"
        for entry in self.index.store.base_path.iterdir():
            if entry.name.startswith(prefix) and not entry.name.startswith(self.index.name + "."):
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------------------
# Query compilation
# ---------------------------------------------------------------------------------------------------------


def _model_buckets(model, autocomplete):
    """{catch-all field name: boost} for the searchable fields of ``model`` (RelatedFields expanded)."""
    if autocomplete:
        return (
            {AUTOCOMPLETE_ALL: 1.0} if model.get_autocomplete_search_fields() or _has_related(model) else {}
        )
    out = {}

    def walk(fields):
        for field in fields:
            if isinstance(field, RelatedFields):
                walk(field.fields)
            elif isinstance(field, SearchField):
                out[boost_bucket(field.boost)] = float(field.boost or 1)

    walk(model.get_search_fields())
    return out


def _has_related(model):
    return any(isinstance(field, RelatedFields) for field in model.get_search_fields())


def _model_field_paths(model, autocomplete):
    """[(whoosh field name, boost)] for the searchable fields of ``model`` (RelatedFields expanded)."""
    out = {}

    def walk(fields, prefix, boost):
        for field in fields:
            if isinstance(field, RelatedFields):
                walk(field.fields, prefix + field.field_name + "__", boost)
            elif autocomplete and isinstance(field, AutocompleteField):
                out["ac_" + prefix + field.field_name] = boost
            elif not autocomplete and isinstance(field, SearchField):
                field_boost = boost * float(field.boost or 1)
                name = "s_" + prefix + field.field_name
                out[name] = max(out.get(name, 0.0), field_boost)

    walk(model.get_search_fields(), "", 1.0)
    return out


_SHINGLE_BYTES = SHINGLE_JOINER.encode()


class _WordsOnly:
    """Expands to indexed words only, never to the adjacent-word shingles of the catch-all fields.

    Shingles are most of a catch-all field's vocabulary (3,267 of the 3,273 terms starting with 退 in a
    10,000-article index): a prefix expanded over them reads thousands of posting lists for nothing.

    Scoring is defined here rather than left to ``MultiTerm.matcher``, whose scores depend on the index
    size (constant 1.0 per document below 5,000 documents, BM25 above): the words it expands to, each
    scored like a ``Term``, summed, times the query's boost (``search.fastscore`` does the same).
    """

    def _btexts(self, ixreader):
        for text in super()._btexts(ixreader):
            if (_SHINGLE_BYTES if isinstance(text, bytes) else SHINGLE_JOINER) not in text:
                yield text

    def expanded(self, ixreader):
        """The query this one stands for: a Term, an Or of Terms, or NullQuery."""
        # Listing the words means walking the term dictionary (thousands of shingles share a prefix):
        # remember them per reader, which is replaced whenever the index changes.
        cache = ixreader.__dict__.setdefault("_callbook_expansions", {})
        key = repr(self)
        if key not in cache:
            if len(cache) > 1024:
                cache.clear()
            cache[key] = [text for text in self._btexts(ixreader) if text]
        terms = [wq.Term(self.fieldname, text) for text in cache[key]]
        if not terms:
            return wq.NullQuery
        if len(terms) == 1:
            return wq.Term(self.fieldname, terms[0].text, boost=self.boost)
        return DefaultOr(terms, boost=self.boost)

    def matcher(self, searcher, context=None):
        return self.expanded(searcher.reader()).matcher(searcher, context)


class WordPrefix(_WordsOnly, wq.Prefix):
    pass


class WordFuzzyTerm(_WordsOnly, wq.FuzzyTerm):
    pass


def _is_latin(token):
    return token.isascii()


class WhooshSearchQueryCompiler(BaseSearchQueryCompiler):
    DEFAULT_OPERATOR = "and"
    HANDLES_ORDER_BY_EXPRESSIONS = True  # ordering by fields is done by the ORM
    autocomplete = False

    # -- fields -----------------------------------------------------------------------------------------

    def _search_fields(self):
        model = self.queryset.model
        if self.fields:
            wanted = set(self.fields)
            fields = _model_field_paths(model, self.autocomplete)
            prefix = "ac_" if self.autocomplete else "s_"
            return {
                name: boost for name, boost in fields.items() if name[len(prefix) :].split("__")[0] in wanted
            } or {prefix + name: 1.0 for name in wanted}
        # Without explicit fields, search the catch-all fields of the model and of all its indexed subclasses
        # (a search on Page must find an ArticlePage by its body).
        fields = {}
        for indexed_model in get_indexed_models():
            if issubclass(indexed_model, model):
                fields.update(_model_buckets(indexed_model, self.autocomplete))
        return fields

    # -- text query ---------------------------------------------------------------------------------------

    def _term(self, token, fields, boost=1.0, fuzzy=False):
        queries = []
        for name, field_boost in fields.items():
            if fuzzy and _is_latin(token) and len(token) >= 3:
                maxdist = 1 if len(token) < 6 else 2
                queries.append(
                    WordFuzzyTerm(name, token, boost=boost * field_boost, maxdist=maxdist, prefixlength=1)
                )
            else:
                queries.append(wq.Term(name, token, boost=boost * field_boost))
        return _or(queries)

    def _adjacent(self, tokens, fields, boost=1.0):
        """Tokens next to each other: shingle terms on the catch-all fields, positional phrases elsewhere."""
        queries = []
        for name, field_boost in fields.items():
            if name.startswith("x_"):
                pairs = [shingle(a, b) for a, b in zip(tokens, tokens[1:], strict=False)]
                queries.append(_and([wq.Term(name, pair, boost=boost * field_boost) for pair in pairs]))
            else:
                queries.append(wq.Phrase(name, tokens, boost=boost * field_boost))
        return _or(queries)

    def _word(self, word, fields, boost=1.0, fuzzy=False):
        tokens = query_words(word)[:MAX_WORD_TOKENS]
        if not tokens:
            return None
        if len(tokens) == 1:
            token = tokens[0]
            if len(token) == 1 and not token.isascii() and not self.autocomplete:
                # A lone Chinese character (退) is rarely a word of its own: match the words it starts
                # (退款, 退货, ...), with the exact single-character term ranked first.
                return _or(
                    [
                        self._term(token, fields, boost * 2),
                        _or([WordPrefix(name, token, boost=boost * b) for name, b in fields.items()]),
                    ]
                )
            return self._term(token, fields, boost, fuzzy)
        # A "word" the analyzer splits (客户投诉, iPhone-15): the phrase ranks first; for full-text search,
        # documents that contain all parts elsewhere still match (autocomplete keeps the typed order).
        alternatives = [self._adjacent(tokens, fields, boost * 2)]
        if not self.autocomplete:
            alternatives.append(_and([self._term(token, fields, boost, fuzzy) for token in tokens]))
        whole = "".join(tokens)
        if len(whole) <= 8 and not whole.isascii():
            # Out of context the segmenter may split a word (单号 → 单 / 号) that the text has as a word or
            # sub-word (快递单号 ⊃ 单号).
            alternatives.append(self._term(whole, fields, boost * 2))
        return _or(alternatives)

    def _words(self, text, operator, fields, boost=1.0, fuzzy=False):
        parts = [self._word(word, fields, boost, fuzzy) for word in str(text).split()[:MAX_QUERY_WORDS]]
        parts = [part for part in parts if part is not None]
        if not parts:
            return wq.NullQuery
        return _or(parts) if str(operator).lower() == "or" else _and(parts)

    def build_text_query(self, query=None, fields=None):
        if query is None:
            query = self.query
        if fields is None:
            fields = self._search_fields()
        if isinstance(query, MatchAll):
            return wq.Every()
        if not fields:
            return wq.NullQuery
        if isinstance(query, PlainText):
            return self._words(query.query_string, query.operator, fields, float(query.boost or 1))
        if isinstance(query, Phrase):
            tokens = query_words(query.query_string)[: MAX_QUERY_WORDS * MAX_WORD_TOKENS // 4]
            if not tokens:
                return wq.NullQuery
            if len(tokens) == 1:
                return self._term(tokens[0], fields)
            return self._adjacent(tokens, fields)
        if isinstance(query, Fuzzy):
            return self._words(query.query_string, query.operator, fields, fuzzy=True)
        if isinstance(query, Boost):
            inner = self.build_text_query(query.subquery, fields)
            if inner is wq.NullQuery:
                return inner
            inner = copy.copy(inner)
            inner.boost = getattr(inner, "boost", 1.0) * float(query.boost)
            return inner
        if isinstance(query, And):
            return _and([self.build_text_query(sub, fields) for sub in query.subqueries])
        if isinstance(query, Or):
            return _or([self.build_text_query(sub, fields) for sub in query.subqueries])
        if isinstance(query, Not):
            inner = self.build_text_query(query.subquery, fields)
            if inner is wq.NullQuery:
                return wq.Every()
            return wq.AndNot(wq.Every(), inner)
        raise NotImplementedError(f"{type(query).__name__} queries are not supported by the Whoosh backend.")

    # -- filters ------------------------------------------------------------------------------------------

    def _process_lookup(self, field_path, lookup, value):
        if len(field_path) != 1:
            raise _Untranslatable  # filters across relations: the ORM applies them
        field = field_path[0]
        model = self.queryset.model
        kind = _filter_kind(field, model)
        name = kind + "_" + field.get_attname(model)

        if lookup == "isnull":
            is_null = wq.Term("nulls", name)
            return is_null if value else wq.Not(is_null)
        if lookup == "exact":
            return self._exact(kind, name, value)
        if lookup == "in":
            if not isinstance(value, (list, tuple, set, frozenset)):
                raise _Untranslatable  # subqueries and other lazy iterables: ORM
            return _or([self._exact(kind, name, item) for item in value])
        if lookup in ("startswith", "prefix"):
            if kind != "fi":
                raise _Untranslatable
            return wq.Prefix(name, _clean_filter_value(kind, value))
        if lookup in ("gt", "gte", "lt", "lte"):
            lower = lookup.startswith("g")
            exclusive = lookup in ("gt", "lt")
            bound = _clean_filter_value(kind, value)
            if lower:
                return self._range(kind, name, bound, None, exclusive, False)
            return self._range(kind, name, None, bound, False, exclusive)
        if lookup == "range":
            low, high = value
            return self._range(
                kind, name, _clean_filter_value(kind, low), _clean_filter_value(kind, high), False, False
            )
        raise _Untranslatable

    def _exact(self, kind, name, value):
        if value is None:
            return wq.Term("nulls", name)
        cleaned = _clean_filter_value(kind, value)
        if kind in ("fb", "fi", "fu"):
            return wq.Term(name, cleaned)
        return self._range(kind, name, cleaned, cleaned, False, False)

    def _range(self, kind, name, start, end, startexcl, endexcl):
        if kind in ("fn", "ff", "ft"):
            return wq.NumericRange(name, start, end, startexcl=startexcl, endexcl=endexcl)
        if kind == "fd":
            return wq.DateRange(name, start, end, startexcl=startexcl, endexcl=endexcl)
        if kind in ("fi", "fu"):
            return wq.TermRange(name, start, end, startexcl=startexcl, endexcl=endexcl)
        raise _Untranslatable

    def _process_match_none(self):
        return wq.NullQuery

    def _connect_filters(self, filters, connector, negated):
        filters = [f for f in filters if f is not None]
        if not filters:
            return None
        combined = _and(filters) if connector == "AND" else _or(filters)
        if negated:
            return wq.AndNot(wq.Every(), combined)
        return combined

    def _get_filters_from_where_node(self, where_node, check_only=False):
        # The base class ignores multi-table-inheritance pointer columns (``page_ptr_id``), e.g. the
        # ``~Q(pk=page)`` of ``descendant_of(page)`` on a Page subclass. They are the primary key: translate
        # them to ``pk`` terms so the Whoosh count stays exact.
        if (
            not check_only
            and isinstance(where_node, Lookup)
            and not isinstance(where_node.lhs, ExtractDate)
            and getattr(getattr(where_node.lhs, "target", None), "attname", "").endswith("_ptr_id")
        ):
            return self._pk_lookup(where_node.lookup_name, where_node.rhs)
        return super()._get_filters_from_where_node(where_node, check_only=check_only)

    def _pk_lookup(self, lookup, value):
        if lookup == "exact" and not hasattr(value, "resolve_expression"):
            return wq.Term("pk", force_str(value.pk if isinstance(value, models.Model) else value))
        if lookup == "in" and isinstance(value, (list, tuple, set, frozenset)):
            return _or([self._pk_lookup("exact", item) for item in value])
        raise _Untranslatable

    def translated_filters(self):
        """The queryset's filters as a Whoosh query (None if there are none). Raises _Untranslatable."""
        return self._get_filters_from_queryset()

    # -- the whole query ----------------------------------------------------------------------------------

    def plan(self):
        """Return (whoosh query, filters_translated)."""
        model = self.queryset.model
        parts = [self.build_text_query()]
        if model is not get_model_root(model):
            parts.append(FilterQuery(wq.Term("ct", model_label(model))))
        translated = True
        try:
            filters = self.translated_filters()
        except _Untranslatable:
            filters = None
            translated = False
        if filters is not None:
            parts.append(FilterQuery(filters) if filters is not wq.NullQuery else filters)
        return _and(parts), translated


class _ZeroScoreMatcher(WrappingMatcher):
    """Matches what its child matches, scoring 0 (filters must not change relevance)."""

    def __init__(self, child, boost=0.0):
        super().__init__(child, boost=0.0)

    def _replacement(self, newchild):
        return _ZeroScoreMatcher(newchild)

    def copy(self):
        return _ZeroScoreMatcher(self.child.copy())

    def supports_block_quality(self):
        return False

    def skip_to_quality(self, minquality):
        return 0

    def max_quality(self):
        return 0.0

    def block_quality(self):
        return 0.0

    def weight(self):
        return 0.0

    def score(self):
        return 0.0


class FilterQuery(wq.WrappingQuery):
    """A filter inside the search query: matches like its child, adds nothing to the score.

    Unlike ``whoosh.query.ConstantScoreQuery`` it does not collect every matching document id up front
    (a ``live=True`` filter would otherwise cost a pass over the whole index per search).
    """

    def _rewrap(self, child):
        return FilterQuery(child)

    def matcher(self, searcher, context=None):
        matcher = self.child.matcher(searcher, context)
        if isinstance(matcher, NullMatcherClass):
            return matcher
        return _ZeroScoreMatcher(matcher)


class WhooshAutocompleteQueryCompiler(WhooshSearchQueryCompiler):
    autocomplete = True


def _and(queries):
    queries = [q for q in queries if q is not None]
    if any(q is wq.NullQuery for q in queries):
        return wq.NullQuery
    queries = [q for q in queries if not isinstance(q, wq.Every)] or list(queries[:1])
    if len(queries) == 1:
        return queries[0]
    return wq.And(queries)


def _or(queries):
    queries = [q for q in queries if q is not None and q is not wq.NullQuery]
    if not queries:
        return wq.NullQuery
    if len(queries) == 1:
        return queries[0]
    return wq.Or(queries)


# ---------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------


def _top_hits(searcher, query, limit, start=0):
    """[(pk, score)] of hits ``start:limit``, best first: numpy scoring where it can, Whoosh otherwise."""
    try:
        found = fastscore.top(searcher, query, limit)
    except Exception as exc:
        if not isinstance(exc, fastscore.Unsupported):
            logger.exception("fastscore failed on %r; Whoosh scores it instead", query)
        # Every hit scored, then cut: with a limit, Whoosh prunes sub-matchers by their maximum score
        # and can miss the best hits of a boosted compound query (see tests/search/test_fastscore.py).
        hits = searcher.search(query, limit=None)[start:limit]
        return [(hit["pk"], float(hit.score or 0.0)) for hit in hits]
    found = found[start:]
    pks = fastscore.stored_pks(searcher, [docnum for docnum, _ in found])
    return [(pk, score) for pk, (_docnum, score) in zip(pks, found, strict=True)]


def _count_hits(searcher, query):
    try:
        return fastscore.count(searcher, query)
    except Exception as exc:
        if not isinstance(exc, fastscore.Unsupported):
            logger.exception("fastscore failed on %r; Whoosh counts it instead", query)
        return len(searcher.search(query, limit=None, scored=False))


class WhooshSearchResults(BaseSearchResults):
    supports_facet = True

    def __init__(self, backend, query_compiler, prefetch_related=None):
        super().__init__(backend, query_compiler, prefetch_related=prefetch_related)
        self._shared = {}  # the plan and the full hit list, shared by slices of the same search

    def _clone(self):
        new = super()._clone()
        new._shared = self._shared
        return new

    @property
    def _index(self):
        return self.backend.get_index_for_model(self.query_compiler.queryset.model)

    def _plan(self):
        if "plan" not in self._shared:
            self._shared["plan"] = self.query_compiler.plan()
        return self._shared["plan"]

    def _searcher(self):
        return self._index.store.searcher()

    def _all_hits(self):
        """OrderedDict pk -> score of every hit, best first."""
        if "hits" not in self._shared:
            query, _translated = self._plan()
            hits = OrderedDict()
            if query is not wq.NullQuery:
                for pk, score in _top_hits(self._searcher(), query, None):
                    hits[pk] = score
            self._shared["hits"] = hits
        return self._shared["hits"]

    def _fast_path(self):
        _query, translated = self._plan()
        return translated and self.query_compiler.order_by_relevance

    def _filtered_pks(self, hits):
        """The hits the queryset actually contains, best first (ORM filtering, chunked)."""
        if "filtered" not in self._shared:
            queryset = self.query_compiler.queryset
            keys = list(hits)
            allowed = set()
            for i in range(0, len(keys), PK_CHUNK):
                chunk = keys[i : i + PK_CHUNK]
                allowed.update(
                    force_str(pk) for pk in queryset.filter(pk__in=chunk).values_list("pk", flat=True)
                )
            self._shared["filtered"] = [pk for pk in keys if pk in allowed]
        return self._shared["filtered"]

    def _fetch(self, pks, scores):
        queryset = self.query_compiler.queryset
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        objects = {force_str(obj.pk): obj for obj in queryset.filter(pk__in=pks)}
        results = []
        for pk in pks:
            obj = objects.get(pk)
            if obj is None:
                continue  # deleted or no longer matching the queryset: the index entry is stale
            if self._score_field:
                setattr(obj, self._score_field, scores.get(pk, 0.0))
            results.append(obj)
        return results

    def _do_search(self):
        query, _translated = self._plan()
        if query is wq.NullQuery or (self.stop is not None and self.stop <= self.start):
            return []
        if self._fast_path():
            if "hits" in self._shared:
                hits = self._shared["hits"]
                pks = list(hits)[self.start : self.stop]
                return self._fetch(pks, hits)
            page = _top_hits(self._searcher(), query, self.stop, self.start)
            return self._fetch([pk for pk, _ in page], dict(page))

        hits = self._all_hits()
        if not hits:
            return []
        if self.query_compiler.order_by_relevance:
            pks = self._filtered_pks(hits)[self.start : self.stop]
            return self._fetch(pks, hits)

        # Ordered by the queryset's ordering (or -pk): the ORM orders and slices.
        queryset = self.query_compiler.queryset
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        if not queryset.query.order_by:
            queryset = queryset.order_by("-pk")
        results = list(queryset.filter(pk__in=list(hits))[self.start : self.stop])
        if self._score_field:
            for obj in results:
                setattr(obj, self._score_field, hits.get(force_str(obj.pk), 0.0))
        return results

    def scored_pks(self):
        """[(pk as a string, score)] of this slice, best first, without loading the objects.

        For callers that only rank (``search.results``): they load the few objects they show themselves.
        The index may still hold an entry for an object deleted a moment ago, so filter the pks through
        the queryset before use.
        """
        query, _translated = self._plan()
        if query is wq.NullQuery or (self.stop is not None and self.stop <= self.start):
            return []
        if self._fast_path() and "hits" not in self._shared:
            return _top_hits(self._searcher(), query, self.stop, self.start)
        return [(force_str(obj.pk), obj._callbook_score) for obj in self.annotate_score("_callbook_score")]

    def _do_count(self):
        query, _translated = self._plan()
        if query is wq.NullQuery:
            return 0
        if self._fast_path():
            if "hits" in self._shared:
                total = len(self._shared["hits"])
            else:
                total = _count_hits(self._searcher(), query)
        else:
            hits = self._all_hits()
            if self.query_compiler.order_by_relevance:
                total = len(self._filtered_pks(hits))
            else:
                total = self.query_compiler.queryset.filter(pk__in=list(hits)).count() if hits else 0
        total -= self.start
        if self.stop is not None:
            total = min(total, self.stop - self.start)
        return max(total, 0)

    def facet(self, field_name):
        field = self.query_compiler._get_filterable_field(field_name)
        if field is None:
            raise FilterFieldError(
                f'Cannot facet search results with field "{field_name}". Please add '
                f'index.FilterField("{field_name}") to {self.query_compiler.queryset.model.__name__}.search_fields.',
                field_name=field_name,
            )
        hits = self._all_hits()
        counts = OrderedDict()
        if not hits:
            return counts
        keys = list(hits)
        totals = {}
        queryset = self.query_compiler.queryset.order_by()
        for i in range(0, len(keys), PK_CHUNK):
            rows = (
                queryset.filter(pk__in=keys[i : i + PK_CHUNK])
                .values(field_name)
                .annotate(count=Count("pk"))
                .order_by()
            )
            for row in rows:
                totals[row[field_name]] = totals.get(row[field_name], 0) + row["count"]
        for value, count in sorted(totals.items(), key=lambda item: -item[1]):
            counts[value] = count
        return counts


# ---------------------------------------------------------------------------------------------------------
# Backend
# ---------------------------------------------------------------------------------------------------------


class WhooshSearchBackend(BaseSearchBackend):
    query_compiler_class = WhooshSearchQueryCompiler
    autocomplete_query_compiler_class = WhooshAutocompleteQueryCompiler
    results_class = WhooshSearchResults
    rebuilder_class = WhooshRebuilder
    catch_indexing_errors = True

    def __init__(self, params):
        super().__init__(params)
        path = params.get("PATH") or (Path(settings.VAR_DIR) / "search-index")
        self.path = Path(path)
        self.lock_timeout = float(params.get("LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
        self.limitmb = int(params.get("LIMITMB", 128))
        FSYNC["enabled"] = bool(params.get("FSYNC", True))

    def get_index_for_model(self, model):
        return WhooshIndex(self, get_model_root(model))

    def all_indexes(self):
        seen = set()
        for model in get_indexed_models():
            index = self.get_index_for_model(model)
            if index.get_key() not in seen:
                seen.add(index.get_key())
                yield index


SearchBackend = WhooshSearchBackend


def _connect_signals():
    # SearchConfig.ready() connects the page-move handler at startup; connecting it here as well (the
    # dispatch_uid makes it idempotent) keeps it in place wherever this backend is loaded.
    from search.signals import connect_signals

    connect_signals()


_connect_signals()

__all__ = ["SearchBackend", "WhooshSearchBackend", "build_document", "flush_pending_writes"]
