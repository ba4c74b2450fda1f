"""Writing to the index: writes deferred until the transaction commits, batching, retries of failed writes.

Writes happen after the surrounding transaction commits (``transaction.on_commit``, re-reading the
committed rows); ``flush_pending_writes()`` (``index.refresh()``) also applies writes still pending in the
current transaction, so code inside a transaction - and tests - can see its own writes. While a rebuild
runs, live writes are also journaled and replayed into the new generation before the swap (see
``IndexStore.apply``).

Failed writes are retried, not dropped: when a write fails (the lock stayed busy for ``LOCK_TIMEOUT``, a
full disk, ...) it is logged and saved as one small JSON file in ``<name>.retry/`` (model label and pk of
each addition, pk of each deletion - never documents), and the editor's save still succeeds. The next
write to that index replays the saved writes first, re-reading their rows (so it indexes the current
state), and deletes each file only after its commit. ``manage.py reconcile_index`` (safe from cron)
replays them too, then compares the index's pks with ``get_indexed_objects()`` and adds what is missing,
deletes what is stale.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import weakref

from django.db import connections, transaction
from django.utils.encoding import force_str
from modelsearch.index import RelatedFields, get_indexed_models

from search.backend.documents import build_document, model_label

__all__ = ["IndexWrite", "batched_index_writes", "flush_pending_writes", "write_after_commit"]

logger = logging.getLogger(__name__)


def indexing_queryset(model, using):
    """The rows of ``model`` as the index reads them (RelatedFields joined in)."""
    queryset = model._default_manager.db_manager(using).all()
    for field in model.get_search_fields():
        if isinstance(field, RelatedFields):
            queryset = field.select_on_queryset(queryset)
    return queryset


class IndexWrite:
    """One write to an index: additions ``[(model, pk)]`` and deletions ``[pk]``. Call it to run it.

    This is the unit every index change goes through (``write_after_commit`` defers one until the
    transaction commits; ``manage.py reconcile_index`` runs them directly), and the public way to write
    to an index store from outside the backend:

    * Additions are re-read from the database when the write runs, so the index gets the committed state
      (including relations such as tags that are saved after the row itself); rows that no longer exist
      are skipped.
    * Every write first replays the store's saved failed writes (re-reading their rows too) in the same
      commit, and deletes their files only once that commit succeeded. A write with nothing to add or
      delete only does that: ``IndexWrite(store, using)()`` retries the failed writes.
    * It never raises: a write that fails (the write lock stayed busy for ``LOCK_TIMEOUT``, a full disk,
      ...) is logged and saved in the store's retry directory instead of being dropped, so the request
      that saved the content still succeeds.
    * It runs at most once. Afterwards ``failed`` says whether it failed (and was saved for a retry) and
      ``retried`` how many saved failed writes it replayed.
    """

    def __init__(self, store, using, adds=(), deletes=()):
        self.__qualname__ = f"{type(self).__qualname__}({store.name})"  # Django logs it for robust callbacks
        self.store = store
        self.using = using
        self.adds = list(adds)  # [(model, pk)]
        self.deletes = list(deletes)  # [pk string]
        self.later = []  # [(adds, deletes)] of later writes combined into this one (``combined``)
        self.done = False
        self.failed = False
        self.retried = 0  # saved failed writes replayed by this one

    @classmethod
    def combined(cls, writes):
        """One write doing what ``writes`` (to one store, oldest first) would do one after the other, in one
        commit; they are marked done. Their ops keep their order, and the last op for a pk wins."""
        first = writes[0]
        write = cls(first.store, first.using, first.adds, first.deletes)
        write.later = [(later.adds, later.deletes) for later in writes[1:]]
        for each in writes:
            each.done = True
        return write

    def _all(self):
        """(additions, deletions) of this write and those combined into it."""
        adds, deletes = list(self.adds), list(self.deletes)
        for later_adds, later_deletes in self.later:
            adds.extend(later_adds)
            deletes.extend(later_deletes)
        return adds, deletes

    @staticmethod
    def _ops(using, adds, deletes):
        ops = [("delete", force_str(pk)) for pk in deletes]
        by_model = {}
        for model, pk in adds:
            by_model.setdefault(model, []).append(pk)
        for model, pks in by_model.items():
            for obj in indexing_queryset(model, using).filter(pk__in=pks):
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
            for adds, deletes in self.later:
                ops.extend(self._ops(self.using, adds, deletes))
            return self._last_op_per_pk(ops)

        try:
            self.store.apply(build_ops)
        except Exception:
            self.failed = True
            all_adds, all_deletes = self._all()
            if not (all_adds or all_deletes):
                logger.warning(
                    "Search index %s: retrying failed writes failed", self.store.name, exc_info=True
                )
                return
            labelled_adds = [(model_label(model), pk) for model, pk in all_adds]
            try:
                path = self.store.save_retry(self.using, labelled_adds, all_deletes)
            except Exception:
                logger.exception(
                    "Search index %s: write of %d additions and %d deletions failed and could not be saved "
                    "for a retry; run `manage.py reconcile_index`",
                    self.store.name,
                    len(all_adds),
                    len(all_deletes),
                )
            else:
                logger.warning(
                    "Search index %s: write of %d additions and %d deletions failed; saved as %s for a retry",
                    self.store.name,
                    len(all_adds),
                    len(all_deletes),
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


class _PendingWrites(threading.local):
    """The writes this thread registered with ``transaction.on_commit`` that Django may still run.

    Django keeps an on_commit callback until its transaction commits (and then runs it), and drops it
    when the transaction, or the savepoint it was registered in, is rolled back. Holding the writes only
    weakly, this registry sees exactly the ones Django still holds: a rolled-back write disappears with
    Django's reference to it, without reading the connection's private ``run_on_commit`` list. (CPython
    frees it at once; were it kept alive elsewhere, a flush could still run it: harmless for additions,
    which are re-read, and a deletion would be put right by ``reconcile_index``.)
    """

    def __init__(self):
        self.writes = weakref.WeakValueDictionary()  # registration number -> IndexWrite, oldest first
        self.numbers = itertools.count()

    def add(self, write):
        self.writes[next(self.numbers)] = write

    def all(self):
        return list(self.writes.values())


_pending = _PendingWrites()


def _batch_for(store, using):
    """The latest not-yet-run write for ``store`` in this transaction, to batch further additions into."""
    for write in reversed(_pending.all()):
        if write.using == using and write.store.name == store.name:
            # Only the latest write for the store, so additions never jump ahead of a later deletion.
            return write if not write.done and not write.deletes else None
    return None


def write_after_commit(store, using, adds=(), deletes=()):
    """Write to ``store`` once the transaction on database ``using`` commits (now in autocommit mode).

    Inside ``batched_index_writes()`` additions join the transaction's pending write for the store.
    """
    if not connections[using].in_atomic_block:
        # Autocommit: the rows are committed already. Written now, through the same path as a deferred
        # write, so that a failure is saved for a retry rather than lost.
        IndexWrite(store, using, adds=adds, deletes=deletes)()
        return
    if adds and not deletes and getattr(_batching, "active", False):
        batch = _batch_for(store, using)
        if batch is not None:
            batch.adds.extend(adds)
            return
    write = IndexWrite(store, using, adds=adds, deletes=deletes)
    transaction.on_commit(write, using=using, robust=True)
    _pending.add(write)


def flush_pending_writes():
    """Apply the index writes of this thread still waiting for their transaction to commit.

    ``index.refresh()`` calls it, so code inside a transaction (and tests) can see its own writes. Each
    write runs once: when the transaction commits, it is not applied again. The writes waiting for one
    store are applied together, in one commit (``IndexWrite.combined``): a test or a job that saved ten
    pages pays for one segment, not ten.
    """
    by_store = {}
    for write in _pending.all():
        if not write.done:
            by_store.setdefault((write.store.name, write.using), []).append(write)
    for writes in by_store.values():
        (writes[0] if len(writes) == 1 else IndexWrite.combined(writes))()
