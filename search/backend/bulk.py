"""The writer of a rebuild: Whoosh's ``SegmentWriter`` with its posting pool and text analysis replaced.

Whoosh's writer pickles every posting into a temporary run file, merges the runs with a heap, reads
each posting's field length back from the just-written length column, and writes each term through
several layers of Python calls: most of a rebuild's time (146 s at 10,000 articles). ``BulkWriter``
writes the same segment (same documents, postings, weights, lengths, stored fields and columns) a
faster way:

* text fields analysed by ``search.analysis.ChineseTokenizer`` go through ``index_terms`` (the same
  terms and positions, without a Whoosh token object per token), and are counted and encoded here;
  other fields (ids, keywords, numbers, dates) still go through ``field.index``;
* postings are kept in memory, per field and term: document numbers and weights in arrays, values in
  a list (the values of a frequency field are shared bytes objects);
* the segment is written term by term, with the field lengths kept in memory, short posting lists
  straight into the term table (``CompactFieldWriter.add_inlined``).

Memory grows with the postings (about 0.3 GB at 10,000 articles); past ``flush_mb`` the caller commits
and opens a new writer, giving another segment (``needs_flush``).
"""

from __future__ import annotations

import gc
import struct
from array import array
from pickle import dumps

from whoosh.formats import Frequency, Positions
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from search.analysis import ChineseTokenizer, index_counts, index_positions
from search.backend.codec import CompactFieldWriter

__all__ = ["BulkWriter"]

_UINT = struct.Struct("!I")
_FREQ_VALUES = [_UINT.pack(n) for n in range(256)]


def _freq_value(freq):
    return _FREQ_VALUES[freq] if freq < 256 else _UINT.pack(freq)


_SINGLE_POSITIONS = [_UINT.pack(1) + dumps([pos], 2) for pos in range(4096)]


def _encode_positions(poslist):
    """``whoosh.formats.Positions.encode``."""
    if len(poslist) == 1 and poslist[0] < 4096:  # most terms occur once in a field
        return _SINGLE_POSITIONS[poslist[0]]
    deltas = []
    base = 0
    for pos in poslist:
        deltas.append(pos - base)
        base = pos
    return _UINT.pack(len(deltas)) + dumps(deltas, 2)


class _Pool:
    """In-memory postings: ``{fieldname: {btext: [docnums, weights, values]}}``."""

    def __init__(self):
        self.fields = {}
        self.postings = 0
        self.terms = 0

    def add(self, item):
        # Whoosh's pool interface (used when a writer merges another segment in).
        fieldname, btext, docnum, weight, value = item
        self.add_posting(fieldname, btext, docnum, weight, value)

    def add_posting(self, fieldname, btext, docnum, weight, value):
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
        entry = terms.get(btext)
        if entry is None:
            entry = terms[btext] = (array("I"), array("f"), [])
            self.terms += 1
        entry[0].append(docnum)
        entry[1].append(weight)
        if value:
            entry[2].append(value)
        self.postings += 1

    def estimated_bytes(self):
        return self.terms * 400 + self.postings * 40

    def cleanup(self):
        self.fields = {}


class BulkWriter(SegmentWriter):
    """A ``SegmentWriter`` for rebuilds (see the module docstring). Documents only: no merging."""

    def __init__(self, ix, flush_mb=1024, **kwargs):
        super().__init__(ix, **kwargs)
        if not isinstance(self.fieldwriter, CompactFieldWriter):
            raise TypeError("BulkWriter needs search.backend.codec.CompactCodec")
        self.pool.cleanup()
        self.pool = _Pool()
        self.flush_bytes = flush_mb * 1024 * 1024
        self._fields = {}  # fieldname -> (field, kind)
        self._lengths = {}  # fieldname -> array of decoded lengths, by document number
        self._indexed = {}  # (fieldname, value) -> field.index(value), for other fields than text

    def needs_flush(self):
        return self.pool.estimated_bytes() > self.flush_bytes

    def _field(self, fieldname):
        found = self._fields.get(fieldname)
        if found is None:
            field = self.schema[fieldname]
            kind = None
            analyzer = getattr(field, "analyzer", None)
            if (
                isinstance(analyzer, ChineseTokenizer)
                and type(field.format) in (Frequency, Positions)
                and field.format.field_boost == 1.0
                and not (type(field.format) is Positions and getattr(analyzer, "shingles", False))
            ):
                kind = "positions" if type(field.format) is Positions else "frequency"
            found = self._fields[fieldname] = (field, kind)
        return found

    def add_document(self, **fields):
        self._check_state()
        if any(name.startswith("_") for name in fields):
            return super().add_document(**fields)  # boosts and custom stored values: Whoosh's way
        perdocwriter = self.perdocwriter
        docnum = self.docnum
        pool = self.pool
        add_posting = pool.add_posting
        fieldterms = pool.fields
        fieldnames = sorted(fields)
        self._check_fields(self.schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields[fieldname]
                if value is None:
                    continue
                field, kind = self._field(fieldname)
                length = 0
                if kind is not None:
                    analyzer = field.analyzer
                    terms = fieldterms.get(fieldname)
                    if terms is None:
                        terms = fieldterms[fieldname] = {}
                    before = len(terms)
                    if kind == "frequency":
                        counts, length = index_counts(
                            value, analyzer.edge_ngrams, getattr(analyzer, "shingles", False)
                        )
                        for key, freq in counts.items():
                            entry = terms.get(key)
                            if entry is None:
                                entry = terms[key] = (array("I"), array("f"), [])
                            entry[0].append(docnum)
                            entry[1].append(freq)
                            entry[2].append(_FREQ_VALUES[freq] if freq < 256 else _UINT.pack(freq))
                        pool.postings += len(counts)
                    else:
                        poses, length = index_positions(value, analyzer.edge_ngrams)
                        for key, found in poses.items():
                            entry = terms.get(key)
                            if entry is None:
                                entry = terms[key] = (array("I"), array("f"), [])
                            entry[0].append(docnum)
                            entry[1].append(len(found))
                            entry[2].append(
                                _SINGLE_POSITIONS[found[0]]
                                if len(found) == 1 and found[0] < 4096
                                else _encode_positions(found)
                            )
                        pool.postings += len(poses)
                    pool.terms += len(terms) - before
                    if not field.scorable:
                        length = 0
                elif field.indexed:
                    scorable = field.scorable
                    # Filter fields repeat their values (a page type, a depth, a locale): their terms
                    # (several per number, one per precision step) are made once per value.
                    key = (fieldname, value)
                    indexed = self._indexed.get(key)
                    if indexed is None:
                        indexed = tuple(field.index(value))
                        if len(self._indexed) < 100_000:
                            self._indexed[key] = indexed
                    for btext, freq, weight, vbytes in indexed:
                        if scorable:
                            length += freq
                        add_posting(fieldname, btext, docnum, weight, vbytes)
                if field.separate_spelling() or field.vector:
                    raise NotImplementedError(f"BulkWriter: field {fieldname} has spelling or vectors")
                perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
                if field.scorable:
                    lengths = self._lengths.get(fieldname)
                    if lengths is None:
                        lengths = self._lengths[fieldname] = array("I")
                    missing = docnum - self.docbase - len(lengths)
                    if missing > 0:
                        lengths.extend([0] * missing)
                    lengths.append(byte_to_length(length_to_byte(length)))
                column = field.column_type
                if column:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1
        # The postings are millions of long-lived objects: without this, every full collection of the
        # cyclic garbage collector walks them all again (40% of the time spent here). Frozen objects
        # are still freed by reference counting; only cycles alive now wait until the commit.
        gc.freeze()

    def commit(self, *args, before=(), **kwargs):
        """Whoosh's commit; ``before``: segments written meanwhile by another process into this index
        (``search.backend.parallel``), listed before this writer's own."""
        try:
            if before:
                self.segments = [*self.segments, *before]
            return super().commit(*args, **kwargs)
        finally:
            gc.unfreeze()

    def finish_segment(self):
        """Write this writer's segment and return it (None without documents), without committing a
        table of contents or releasing a lock: for a writer in a child process, whose parent commits
        (``search.backend.parallel``)."""
        self._check_state()
        try:
            if self._added:
                return self._finalize_segment()
            self._close_segment()
            return None
        finally:
            self.is_closed = True
            gc.unfreeze()

    def cancel(self):
        try:
            return super().cancel()
        finally:
            gc.unfreeze()

    def add_reader(self, reader):
        raise NotImplementedError("BulkWriter writes new documents only")

    def _flush_segment(self):
        # Writing makes no reference cycles: without the collector's passes over the objects it makes.
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._write_segment()
        finally:
            if enabled:
                gc.enable()

    def _write_segment(self):
        self.perdocwriter.close()
        fieldwriter = self.fieldwriter
        schema = self.schema
        docbase = self.docbase
        for fieldname in sorted(self.pool.fields):
            terms = self.pool.fields.pop(fieldname)
            field = schema[fieldname]
            lengths = self._lengths.get(fieldname)
            fieldwriter.start_field(fieldname, field)
            # The keys alone are sorted (bytes: no tuple per term for the garbage collector to walk).
            # A document with a posting in a scored field has its length (add_document).
            fieldwriter.add_terms(terms, sorted(terms), lengths, docbase)
            terms.clear()
            fieldwriter.finish_field()
        fieldwriter.close()
