"""A rebuild on two processes: a forked child writes the first documents into segments of its own.

A rebuild spends its time building documents (the database, ``build_document``: the parent's work, it
needs the ORM) and writing them (analysis, postings, the segment files: ``search.backend.bulk``). With
``SegmentWorker`` the parent sends the documents of the first part of the rebuild (``WORKER_SHARE``) to a
child forked from it, which writes them with its own ``BulkWriter`` while the parent builds the next
documents and then writes the rest itself. The child's segments are listed before the parent's in the
generation's table of contents, so every document keeps the number it has in a one-process build and
the index holds the same postings, lengths and stored fields (tested term by term); it only has one more
segment (as a rebuild past ``REBUILD_MB`` already has).

The child writes into the generation the parent holds the write lock of (no lock of its own), never
commits a table of contents, touches no database and ends with ``os._exit``. The parent sends batches
through a pipe, which a thread of the child drains into memory as they come, so the parent never waits
for the child's writing; it waits for the child's segments only when it commits. If the parent dies, the
pipe closes and the child ends without writing a table of contents.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import threading
import traceback
from multiprocessing import Pipe

from search.backend.bulk import BulkWriter
from search.backend.codec import CompactCodec

__all__ = ["BATCH", "WORKER_SHARE", "SegmentWorker"]

# The child's share of a rebuild's documents: the parent also builds every document (about a fifth of
# the work of one), so the child takes more than half of the writing.
WORKER_SHARE = 0.68
# Documents per message to the child.
BATCH = 100


class SegmentWorker:
    """A child process writing the documents it is sent into new segments of ``ix`` (see the module)."""

    def __init__(self, ix, flush_mb, limitmb):
        docs_in, docs_out = Pipe(duplex=False)  # (receiving end, sending end)
        result_in, result_out = Pipe(duplex=False)
        self.pid = os.fork()
        if self.pid == 0:  # the child
            status = 1
            try:
                docs_out.close()
                result_in.close()
                _child(ix, docs_in, result_out, flush_mb, limitmb)
                status = 0
            except BaseException:  # noqa: BLE001 (reported to the parent, which raises it)
                with contextlib.suppress(Exception):  # the parent is gone
                    result_out.send(("error", traceback.format_exc()))
            finally:
                os._exit(status)
        docs_in.close()
        result_out.close()
        self._docs = docs_out
        self._result = result_in
        self._batch = []
        self.sent = 0
        self.segments = None

    def add_document(self, doc):
        self._batch.append(doc)
        self.sent += 1
        if len(self._batch) >= BATCH:
            self._send()

    def _send(self):
        if self._batch:
            try:
                self._docs.send_bytes(pickle.dumps(self._batch, pickle.HIGHEST_PROTOCOL))
            except OSError as exc:  # the child is gone (killed, out of memory): its end of the pipe closed
                raise RuntimeError("search index rebuild: the writing child process ended") from exc
            self._batch = []

    def finish(self):
        """Wait for the child and return its segments (the first documents' numbers, in order)."""
        if self.segments is None:
            try:
                self._send()
                self._docs.send_bytes(b"")
                self._docs.close()
                kind, payload = self._result.recv()
            except (EOFError, OSError) as exc:
                raise RuntimeError("search index rebuild: the writing child process ended") from exc
            finally:
                self._reap()
            if kind != "ok":
                raise RuntimeError(f"search index rebuild: the writing child process failed:\n{payload}")
            self.segments = payload
        return self.segments

    def cancel(self):
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            self._reap()

    def _reap(self):
        if self.pid:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = 0


def _child(ix, docs_in, result_out, flush_mb, limitmb):
    messages = queue.SimpleQueue()

    def receive():
        # Drains the pipe as fast as the parent sends (the parent never blocks on the child's writing).
        try:
            while True:
                data = docs_in.recv_bytes()
                messages.put(data)
                if not data:
                    return
        except (EOFError, OSError):
            messages.put(None)  # the parent is gone

    threading.Thread(target=receive, daemon=True).start()

    def open_writer():
        return BulkWriter(
            ix, flush_mb=flush_mb, _lk=False, limitmb=limitmb, compound=False, codec=CompactCodec()
        )

    segments = []
    writer = open_writer()
    while True:
        data = messages.get()
        if data is None:
            os._exit(1)
        if not data:
            break
        for doc in pickle.loads(data):  # noqa: S301 (from the parent process, through our own pipe)
            writer.add_document(**doc)
            if writer.needs_flush():
                segments.append(writer.finish_segment())
                writer = open_writer()
    segment = writer.finish_segment()
    if segment is not None:
        segments.append(segment)
    result_out.send(("ok", segments))
