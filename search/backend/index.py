"""Indexes and rebuilds: one ``WhooshIndex`` per root model, and the rebuilder behind ``update_index``.

An index is named ``<app>_<model>__<analyzer version>s<schema version>``, so a change of analysis or schema
gives a new, empty index to rebuild. A rebuild writes a fresh generation with a ``BulkWriter``
(``search.backend.bulk``) while live writes keep going to the old one (and into the rebuild journal); ``finish`` replays the journal into the new
generation, swaps it in atomically and removes the indexes of other analyzer or schema versions.
"""

from __future__ import annotations

import shutil

from django.db import router
from django.utils.encoding import force_str
from modelsearch.backends.base import BaseIndex

from search.analysis import ANALYZER_VERSION
from search.backend.bulk import BulkWriter
from search.backend.documents import SCHEMA_VERSION, build_document
from search.backend.parallel import WORKER_SHARE, SegmentWorker
from search.backend.storage import IndexStore, file_lock
from search.backend.writing import flush_pending_writes, write_after_commit

__all__ = ["WhooshIndex", "WhooshRebuilder"]


class WhooshIndex(BaseIndex):
    """The index of one root model (all its indexed subclasses share it), in its own ``IndexStore``."""

    def __init__(self, backend, root_model):
        super().__init__(backend)
        self.root_model = root_model
        self.name = (
            f"{root_model._meta.app_label}_{root_model._meta.model_name}__{ANALYZER_VERSION}s{SCHEMA_VERSION}"
        )
        self.store = IndexStore(backend.path, self.name, backend.lock_timeout, fsync=backend.fsync)

    def __repr__(self):
        return f"<WhooshIndex {self.name}>"

    def get_key(self):
        return self.name

    def add_model(self, model):
        pass  # the schema uses glob fields, so every model fits without changes

    def refresh(self):
        flush_pending_writes()

    def reset(self):
        with file_lock(self.store.lock_path):
            self.store.swap(self.store.new_generation())

    def _using(self, model):
        return router.db_for_write(model)

    def add_items(self, model, items):
        items = list(items)
        if items:
            using = self._using(model)
            write_after_commit(self.store, using, adds=[(type(item), item.pk) for item in items])

    def delete_item(self, item):
        write_after_commit(self.store, self._using(type(item)), deletes=[force_str(item.pk)])


class _RebuildIndex(WhooshIndex):
    """The index a rebuild writes into: a fresh generation, written immediately by a ``BulkWriter``.

    When the writer's postings outgrow its memory budget (``BulkWriter.needs_flush``) it is committed
    and a new one opened: the generation then has several segments, which are not merged (Whoosh's
    merge would cost more than the whole bulk write).

    With ``REBUILD_PROCESSES`` 2 and at least ``REBUILD_SPLIT_MIN`` objects to index, the first
    ``WORKER_SHARE`` of the documents are written by a forked child (``search.backend.parallel``) while
    this process builds the next ones: the same index, one more segment."""

    def __init__(self, live_index, generation):
        super().__init__(live_index.backend, live_index.root_model)
        self.generation = generation
        self.ix = self.store.open(generation)
        self.writer = self._open_writer()
        self.models = []
        self.worker = None
        self.worker_docs = None  # documents for the worker; None until the first items are added

    def _open_writer(self):
        return self.store.open_writer(
            self.ix, writer_class=BulkWriter, flush_mb=self.backend.rebuild_mb, limitmb=self.backend.limitmb
        )

    def add_model(self, model):
        self.models.append(model)

    def _start_worker(self):
        self.worker_docs = 0
        if self.backend.rebuild_processes < 2:
            return
        total = sum(model.get_indexed_objects().count() for model in self.models)
        if total < max(2, self.backend.rebuild_split_min):
            return
        self.worker_docs = int(total * WORKER_SHARE)
        self.worker = SegmentWorker(self.ix, self.backend.rebuild_mb, self.backend.limitmb)

    def add_items(self, model, items):
        if self.worker_docs is None:
            self._start_worker()
        worker = self.worker
        for item in items:
            doc = build_document(item)
            if worker is not None and worker.sent < self.worker_docs:
                worker.add_document(doc)
                continue
            self.writer.add_document(**doc)
            if self.writer.needs_flush():
                self.commit()
                self.writer = self._open_writer()

    def commit(self):
        """Commit the writer, after the worker's segments (the first documents) if there is a worker."""
        before = ()
        if self.worker is not None and self.worker.segments is None:
            try:
                before = self.worker.finish()
            except BaseException:
                self.writer.cancel()
                raise
        if before:
            self.writer.commit(merge=False, before=before)
        else:
            self.writer.commit(merge=False)

    def cancel(self):
        if self.worker is not None:
            self.worker.cancel()
        self.writer.cancel()

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
        self.rebuild_index = _RebuildIndex(self.index, store.new_generation())
        return self.rebuild_index

    def finish(self):
        store = self.index.store
        self.rebuild_index.commit()
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
