"""Per-process caches shared by the threads of a web process (used by ``search.backend.fastscore``,
``search.results``, ``search.suggest``, ``search.spelling`` and ``search.clicks``), and the generations
that make the named ones agree across processes.

Each process keeps its own copy of what searches read all day (sections, promoted query strings,
snippet texts, the suggestion index, the spelling vocabulary, learned links): unpickling them from a
shared cache on every search would cost more than the search. A named cache validates its copy against
a *generation*, a token in Django's cache (``CACHES["default"]``) that ``invalidate`` replaces after the
change commits. With a shared backend (the database cache, ``CALLBOOK_CACHE=database``) every app server
and worker sees a new token on its next request and reloads; with the default ``LocMemCache`` each
process only sees its own, and the caches' ``ttl`` is how soon it catches up with others.

The tokens are read once per request (``Generations``: one ``get_many`` of a few keys, at the first
named cache a request touches) and, outside requests (the task worker, commands), at most every
``CHECK_SECONDS``; with ``LocMemCache`` they are kept in the process and cost nothing to read. Once per request rather than once per second: a trainer who saves a section and
opens a search on another server must see it on that very request, and the read is one primary-key
lookup of a handful of rows, against the dozen queries a search makes anyway.
"""

import threading
import time
import uuid
from collections import OrderedDict

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import transaction

CACHE_ALIAS = "default"
KEY_PREFIX = "callbook:generation:"
CHECK_SECONDS = 1.0  # outside requests: how long a read of the generations is trusted


class Generations:
    """Tokens in Django's cache, one per cache name, read by this process once per request.

    ``current(name)`` is the token the caller should remember with what it loads (read *before*
    loading, so that a change committed while loading is caught by the next check); ``bump(name)``
    replaces it. A missing token (the cache was cleared, or culled it) is replaced by a new one, so
    every copy loaded under the old one is reloaded.
    """

    def __init__(self, cache=None, alias=CACHE_ALIAS):
        self._cache = cache
        self.alias = alias
        self.names = set()
        self._local = threading.local()
        self._process_tokens = {}

    @property
    def cache(self):
        return self._cache if self._cache is not None else caches[self.alias]

    def register(self, name):
        self.names.add(name)

    def _key(self, name):
        return KEY_PREFIX + name

    def request_started(self, **kwargs):
        self._local.snapshot = None
        self._local.in_request = True

    def request_finished(self, **kwargs):
        self._local.in_request = False

    def _snapshot(self):
        if isinstance(self.cache, LocMemCache):
            # A memory cache is this process's alone: nobody else could bump a token kept in it.
            if len(self._process_tokens) < len(self.names):
                for name in self.names - self._process_tokens.keys():
                    self._process_tokens.setdefault(name, uuid.uuid4().hex)
            return self._process_tokens
        local = self._local
        snapshot = getattr(local, "snapshot", None)
        if snapshot is not None:
            tokens, taken = snapshot
            if getattr(local, "in_request", False) or time.monotonic() - taken < CHECK_SECONDS:
                return tokens
        keys = {self._key(name): name for name in self.names}
        found = self.cache.get_many(list(keys))
        tokens = {}
        for key, name in keys.items():
            token = found.get(key)
            if token is None:
                self.cache.add(key, uuid.uuid4().hex, timeout=None)
                token = self.cache.get(key)  # another process may have added its own first
            tokens[name] = token
        local.snapshot = (tokens, time.monotonic())
        return tokens

    def current(self, name):
        return self._snapshot().get(name)

    def bump(self, name):
        token = uuid.uuid4().hex
        if isinstance(self.cache, LocMemCache):
            self._process_tokens[name] = token
            return
        self.cache.set(self._key(name), token, timeout=None)
        snapshot = getattr(self._local, "snapshot", None)
        if snapshot is not None:
            snapshot[0][name] = token

    def forget_snapshot(self):
        """Read the tokens again on the next check (tests)."""
        self._local.snapshot = None


generations = Generations()
request_started.connect(generations.request_started, dispatch_uid="callbook-generations-start")
request_finished.connect(generations.request_finished, dispatch_uid="callbook-generations-finish")


def create_cache_tables(using="default", **kwargs):
    """``post_migrate`` receiver: create the tables of the database caches configured (none by default),
    so that ``migrate`` (``make setup``, a deployment) is all a new database needs."""
    call_command("createcachetable", database=using, verbosity=0)


def forget_now_and_after_commit(forget, bump=None):
    """Call ``forget`` now and again after the current transaction commits (in between, another thread
    could fill the cache again from the rows committed before); after the commit, ``bump`` tells the
    other processes."""
    forget()

    def after_commit():
        forget()
        if bump is not None:
            bump()

    transaction.on_commit(after_commit)


class GenerationalCache:
    """What the caches below share: a name, and its generation in ``generations``."""

    def _setup_generation(self, name, generations_):
        self.name = name
        self.generations = generations_ if generations_ is not None else generations
        self._generation = None
        if name is not None:
            self.generations.register(name)

    def _stale_generation(self):
        """The current token if it differs from the one this copy was loaded under, else ``None``."""
        if self.name is None:
            return None
        token = self.generations.current(self.name)
        return token if token != self._generation else None

    def bump(self):
        if self.name is not None:
            self.generations.bump(self.name)


_MISSING = object()


class LRUCache(GenerationalCache):
    """A thread-safe mapping that keeps the ``max_entries`` most recently used entries; with a ``name``,
    emptied when another process invalidates it. With ``weigh(key, value)`` and ``max_weight``, it also
    keeps no more than ``max_weight`` in all (the least recently used go first), and keeps nothing heavier
    than that alone: a cache of decoded texts bounded by their length, not only by their number."""

    def __init__(self, max_entries, name=None, generations=None, max_weight=None, weigh=None):
        self.max_entries = max_entries
        self.max_weight = max_weight
        self.weigh = weigh
        self._entries = OrderedDict()
        self._weights = {}
        self._weight = 0
        self._lock = threading.Lock()
        self._setup_generation(name, generations)

    def get(self, key, default=None):
        """The value kept for ``key``, else ``default`` (emptied first if another process invalidated it)."""
        token = self._stale_generation()
        with self._lock:
            if token is not None:
                self._clear()
                self._generation = token
                return default
            if key not in self._entries:
                return default
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key, value):
        """Keep ``value`` for ``key``, forgetting the least recently used entries past ``max_entries`` (and
        ``max_weight``)."""
        weight = self.weigh(key, value) if self.weigh is not None else 0
        with self._lock:
            self._forget(key)
            if self.max_weight is not None and weight > self.max_weight:
                return
            self._entries[key] = value
            self._weights[key] = weight
            self._weight += weight
            while len(self._entries) > self.max_entries or (
                self.max_weight is not None and self._weight > self.max_weight
            ):
                self._forget(next(iter(self._entries)))

    def get_or_compute(self, key, compute):
        """The value for ``key``, computed by ``compute()`` (outside the lock) when missing."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            self.put(key, value)
        return value

    @property
    def weight(self):
        with self._lock:
            return self._weight

    def clear(self):
        with self._lock:
            self._clear()

    def _clear(self):
        self._entries.clear()
        self._weights.clear()
        self._weight = 0

    def _forget(self, key):
        if key in self._entries:
            del self._entries[key]
            self._weight -= self._weights.pop(key)

    def invalidate(self, **kwargs):
        """Signal receiver: empty the cache, here and (after the commit) in every process."""
        forget_now_and_after_commit(self.clear, self.bump)

    def __iter__(self):
        with self._lock:
            return iter(list(self._entries))

    def __contains__(self, key):
        """Whether ``key`` is kept (as of the last check of the generation)."""
        with self._lock:
            return key in self._entries


class SharedValue(GenerationalCache):
    """One value for the whole process, loaded on first use and again after ``invalidate`` (connect it
    to the signals of this process), after another process's ``invalidate`` (with a ``name``), or
    ``ttl`` seconds later (changes nobody announced, and other processes' without a shared cache)."""

    def __init__(self, load, ttl, name=None, generations=None):
        self.load = load
        self.ttl = ttl
        self._value = None
        self._loaded = 0.0
        self._lock = threading.Lock()
        self._setup_generation(name, generations)

    def get(self):
        token = self._stale_generation()
        with self._lock:
            if token is not None or self._value is None or time.monotonic() - self._loaded > self.ttl:
                if token is None and self.name is not None:
                    token = self.generations.current(self.name)
                self._value = self.load()
                self._loaded = time.monotonic()
                self._generation = token
            return self._value

    def invalidate(self, **kwargs):
        """Signal receiver: forget the value, here and (after the commit) in every process."""
        forget_now_and_after_commit(self.forget, self.bump)

    def forget(self):
        with self._lock:
            self._value = None
