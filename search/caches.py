"""Small per-process caches shared by the threads of a web process (used by
``search.backend.fastscore`` and ``search.results``)."""

import threading
import time
from collections import OrderedDict

from django.db import transaction


def forget_now_and_after_commit(forget):
    """Call ``forget`` now and again after the current transaction commits: in between, another thread
    could fill the cache again from the rows committed before."""
    forget()
    transaction.on_commit(forget)


class LRUCache:
    """A thread-safe mapping that keeps the ``max_entries`` most recently used entries."""

    def __init__(self, max_entries):
        self.max_entries = max_entries
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key, compute):
        """The value for ``key``, computed by ``compute()`` (outside the lock) when missing."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = compute()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self):
        with self._lock:
            self._entries.clear()

    def invalidate(self, **kwargs):
        """Signal receiver: empty the cache (see ``forget_now_and_after_commit``)."""
        forget_now_and_after_commit(self.clear)

    def __iter__(self):
        with self._lock:
            return iter(list(self._entries))


class SharedValue:
    """One value for the whole process, loaded on first use and again ``ttl`` seconds later (changes
    made by other processes), or after ``invalidate`` (connect it to the signals of this process)."""

    def __init__(self, load, ttl):
        self.load = load
        self.ttl = ttl
        self._value = None
        self._loaded = 0.0
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            if self._value is None or time.monotonic() - self._loaded > self.ttl:
                self._value = self.load()
                self._loaded = time.monotonic()
            return self._value

    def invalidate(self, **kwargs):
        """Signal receiver: forget the value (see ``forget_now_and_after_commit``)."""
        forget_now_and_after_commit(self.forget)

    def forget(self):
        with self._lock:
            self._value = None
