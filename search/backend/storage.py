"""Index storage: generations, the pointer file, searchers, writers, the rebuild journal and retry files.

Layout on disk (under the backend's ``PATH``): one index per root model (``wagtailcore.Page``,
``content.Phrasing``, ...), named ``<app>_<model>__<analyzer version>s<schema version>``. Each index is a
*generation* directory ``<name>.<timestamp>-<random>``; the text file ``<name>.current`` names the live
generation. A rebuild writes a new generation and replaces the pointer with ``os.replace`` (atomic), so
searches keep using the old generation until the swap and a crash mid-rebuild leaves the old index in
place. Next to them: ``<name>.lock`` (taken for swaps and journal replays), ``<name>.journal/`` (live
writes made during a rebuild, replayed into the new generation before the swap) and ``<name>.retry/``
(failed writes waiting for a retry, see ``search.backend.writing``).

Writers wait up to ``lock_timeout`` for the Whoosh write lock. Searchers are cached per thread and
reopened when the pointer or the index generation changes.
"""

from __future__ import annotations

import contextlib
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
from pathlib import Path

from django.utils.encoding import force_str
from whoosh import index as whoosh_index
from whoosh.index import LockError
from whoosh.writing import SegmentWriter

from search.backend.codec import CompactCodec
from search.backend.documents import build_schema

__all__ = ["DEFAULT_LOCK_TIMEOUT", "INDEX_NAME", "IndexStore", "file_lock", "fsync_dir", "fsync_tree"]

logger = logging.getLogger(__name__)

INDEX_NAME = "MAIN"  # the Whoosh index name inside each generation directory
DEFAULT_LOCK_TIMEOUT = 30.0


def fsync_dir(path):
    """Make a directory's entries (renames, new files) durable."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_tree(path):
    """Make every file directly in ``path``, and the directory itself, durable."""
    for name in os.listdir(path):
        file_path = os.path.join(path, name)
        if os.path.isfile(file_path):
            with open(file_path, "rb") as fh:
                os.fsync(fh.fileno())
    fsync_dir(path)


@contextlib.contextmanager
def file_lock(path):
    """An exclusive ``flock`` on ``path`` (created if missing), between processes and threads alike."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class IndexStore:
    """One physical Whoosh index (all of its generations) under ``base_path``.

    ``lock_timeout``: seconds a writer waits for the Whoosh write lock. ``fsync``: make a new generation
    and a saved retry durable before they count (the backend's ``FSYNC`` param; tests switch it off).
    """

    def __init__(self, base_path, name, lock_timeout=DEFAULT_LOCK_TIMEOUT, fsync=True):
        self.base_path = Path(base_path)
        self.name = name
        self.lock_timeout = lock_timeout
        self.fsync = fsync

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
        if self.fsync:
            fsync_tree(self.generation_path(generation))
        previous = self.current_generation()
        tmp = self.pointer_path.with_name(self.pointer_path.name + f".tmp-{secrets.token_hex(4)}")
        with open(tmp, "w") as fh:
            fh.write(generation + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.pointer_path)
        if self.fsync:
            fsync_dir(self.base_path)
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
        with file_lock(self.lock_path):
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

    def open_writer(self, ix, writer_class=None, **kwargs):
        """Open a writer, waiting up to ``lock_timeout`` seconds while another writer holds the lock.

        New segments are written with ``CompactCodec`` (see ``search.backend.codec``); ``writer_class``:
        a ``SegmentWriter`` subclass (a rebuild's ``search.backend.bulk.BulkWriter``)."""
        deadline = time.monotonic() + self.lock_timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                return (writer_class or SegmentWriter)(
                    ix,
                    timeout=max(0.0, min(remaining, 1.0)),
                    delay=0.05,
                    compound=False,
                    codec=CompactCodec(),
                    **kwargs,
                )
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
        with file_lock(self.lock_path):
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
        with file_lock(self.lock_path):
            shutil.rmtree(self.journal_path, ignore_errors=True)
            self.journal_path.mkdir(parents=True)

    def finish_rebuild(self, generation):
        """Replay writes made during the rebuild into ``generation``, then make it live."""
        with file_lock(self.lock_path):
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
        if self.fsync:
            fsync_dir(self.retry_path)
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
