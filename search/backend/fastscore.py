"""Top-N search over whole posting lists with numpy: Whoosh's own BM25F scores, without a Python call
per matching document.

Whoosh scores a query by walking a tree of matchers one document at a time. A common word (客户, 处理)
matches most of a 10,000-article index, and walking 7,000 documents through five or six matchers in
Python is what made a broad search cost 50–100 ms. Here the same query tree is evaluated a posting list
at a time instead: every ``Term`` reads its postings block by block into arrays (document numbers and
term weights), scores them with the same BM25F formula and the same global statistics as Whoosh
(``Searcher.idf``, ``Searcher.avg_field_length``, the byte-encoded field lengths), and ``Or`` / ``And`` /
``AndNot`` combine the arrays exactly as Whoosh's union, intersection and and-not matchers combine
scores. Filters (``search.backend.query.FilterQuery``) become cached document masks. The result is the same
hits with the same scores in the same order (score, then document number) as ``Searcher.search``; the
tests compare the two on real indexes.

Only the query shapes the backend builds for everyday searches are evaluated here: ``Term``, ``And``,
``Or``, ``AndNot``, ``NullQuery``, ``search.backend.query.AtLeast`` (a long query's minimum-should-match:
matched subqueries counted per document) and filters. Anything else (phrases, prefixes, fuzzy terms, ``Not``,
``Every`` outside a filter, another weighting model) raises ``Unsupported`` and the caller lets Whoosh
run the query as before.

Per process caches: the field lengths of each segment (segments are immutable, so they never go stale)
and, per searcher, the document masks of filters (a new searcher is opened whenever the index changes).
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching import FilterMatcher, ListMatcher
from whoosh.query.compound import DefaultOr
from whoosh.scoring import BM25F
from whoosh.util.numeric import byte_to_length

from search.backend.query import AtLeast, FilterQuery
from search.caches import LRUCache

__all__ = ["Unsupported", "count", "stored_pks", "top", "warm"]


class Unsupported(Exception):
    """The query has a part this module does not evaluate; let Whoosh run it."""


# Whoosh stores field lengths as one byte; this table decodes them all at once. A document with a
# posting in a field always has a length there, so the 0 entry is never used for scoring.
_LENGTH_TABLE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_LENGTH_TABLE[0] = 1.0

# Decoded postings of recently searched terms, least recently used dropped first. Agents search the
# same everyday words again and again; decoding a common word's postings costs milliseconds, a cache
# hit microseconds. Segments never change, so an entry never goes stale.
POSTINGS_CACHE_BYTES = 32 * 1024 * 1024
_postings_cache = OrderedDict()
_postings_bytes = 0
_postings_lock = threading.Lock()

# Per (segment, field) and per segment; segments never change, so entries never go stale.
_lengths_cache = LRUCache(256)
_pk_columns = LRUCache(256)


def _segment_key(reader):
    segment = reader._segment
    return (str(getattr(reader._storage, "folder", id(reader._storage))), segment.segment_id())


def _field_lengths(reader, fieldname):
    """Decoded lengths of ``fieldname`` for every document of one segment."""
    return _lengths_cache.get_or_compute(
        (*_segment_key(reader), fieldname), lambda: _read_field_lengths(reader, fieldname)
    )


def _read_field_lengths(reader, fieldname):
    column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    doccount = reader.doc_count_all()
    if column is None:
        return np.ones(doccount, dtype=np.float64)
    if getattr(column, "_fixedlen", None) != 1:
        raw = np.fromiter((column[i] for i in range(doccount)), dtype=np.uint8, count=doccount)
        return _LENGTH_TABLE[raw]
    # One byte per document (documents past the column's end have the default, 0): read it whole.
    count = min(column._count, doccount)
    raw = np.zeros(doccount, dtype=np.uint8)
    raw[:count] = np.frombuffer(column._dbfile.get(column._basepos, count), dtype=np.uint8)
    return _LENGTH_TABLE[raw]


def _postings(reader, fieldname, btext):
    """(document numbers, weights) of one term in one segment, deleted documents included (cached)."""
    key = (*_segment_key(reader), fieldname, btext)
    with _postings_lock:
        cached = _postings_cache.get(key)
        if cached is not None:
            _postings_cache.move_to_end(key)
            return cached
    matcher = reader.postings(fieldname, btext)
    while isinstance(matcher, FilterMatcher):  # the segment's deletions; applied separately as a mask
        matcher = matcher.child
    if isinstance(matcher, ListMatcher) and matcher._term is not None:
        # A short posting list kept in the term table (search.backend.codec): ids and weights as tuples.
        found = (
            np.array(matcher._ids, dtype=np.int32),
            np.array(matcher._weights, dtype=np.float32)
            if matcher._weights
            else np.ones(len(matcher._ids), dtype=np.float32),
        )
        return _cache_postings(key, found)
    if not isinstance(matcher, W3LeafMatcher) or matcher._byteids:
        raise Unsupported(f"postings of type {type(matcher).__name__}")
    ids, weights = [], []
    # W3LeafMatcher's block format: a pickled (delta-encoded ids, weights, values) tuple per block of up
    # to 128 postings, weights None when all are 1.0 and a single float when all are equal.
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        block_ids, block_weights = matcher._data[0], matcher._data[1]
        ids.append(np.cumsum(np.array(block_ids, dtype=np.int32)))
        if block_weights is None:
            weights.append(np.ones(len(block_ids), dtype=np.float32))
        elif isinstance(block_weights, float):
            weights.append(np.full(len(block_ids), block_weights, dtype=np.float32))
        else:
            weights.append(np.array(block_weights, dtype=np.float32))
        matcher._next_block()
    if ids:
        found = (np.concatenate(ids), np.concatenate(weights))
    else:
        found = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
    return _cache_postings(key, found)


def _cache_postings(key, found):
    size = found[0].nbytes + found[1].nbytes
    with _postings_lock:
        global _postings_bytes
        if key not in _postings_cache:
            _postings_cache[key] = found
            _postings_bytes += size
        while _postings_bytes > POSTINGS_CACHE_BYTES and _postings_cache:
            _old_key, (old_ids, old_weights) = _postings_cache.popitem(last=False)
            _postings_bytes -= old_ids.nbytes + old_weights.nbytes
    return found


class _Evaluation:
    """Evaluates one query tree against one (possibly multi-segment) searcher."""

    def __init__(self, searcher):
        weighting = searcher.weighting
        if type(weighting) is not BM25F:
            raise Unsupported(f"weighting {type(weighting).__name__}")
        self.searcher = searcher
        self.weighting = weighting
        self.size = searcher.doc_count_all()
        self.leaves = searcher.leaf_searchers()
        self._live = None

    # -- masks ------------------------------------------------------------------------------------------

    def live(self):
        """Mask of the documents that are not deleted."""
        if self._live is None:
            live = np.ones(self.size, dtype=bool)
            for leaf, offset in self.leaves:
                reader = leaf.reader()
                if reader.has_deletions():
                    deleted = np.fromiter(reader._perdoc.deleted_docs(), dtype=np.int64)
                    live[deleted + offset] = False
            self._live = live
        return self._live

    def filter_mask(self, query):
        """Documents matching a filter query (cached on the searcher, which is replaced when the index changes)."""
        cache = self.searcher.__dict__.setdefault("_callbook_filter_masks", {})
        key = repr(query)
        mask = cache.get(key)
        if mask is None:
            mask = self.mask(query)
            if len(cache) > 256:
                cache.clear()
            cache[key] = mask
        return mask

    def mask(self, query):
        """Documents matching ``query``, unscored: postings for terms, Whoosh for anything else."""
        kind = wq.Or if type(query) is DefaultOr else type(query)
        if query is wq.NullQuery or kind is type(wq.NullQuery):
            return np.zeros(self.size, dtype=bool)
        if hasattr(query, "expanded"):
            return self.mask(query.expanded(self.searcher.reader()))
        if kind is wq.Term:
            mask = np.zeros(self.size, dtype=bool)
            for _leaf, offset, ids, _weights in self.term_postings(query):
                mask[ids + offset] = True
            return mask & self.live()
        if kind is wq.Every and not query.fieldname:
            return self.live().copy()
        if kind in (wq.And, wq.Or) and not getattr(query, "minmatch", 0):
            masks = [self.mask(sub) for sub in query.subqueries]
            if not masks:
                return np.zeros(self.size, dtype=bool)
            combined = masks[0].copy()
            for mask in masks[1:]:
                if kind is wq.Or:
                    combined |= mask
                else:
                    combined &= mask
            return combined
        if kind is wq.AndNot:
            return self.mask(query.a) & ~self.mask(query.b)
        if kind is AtLeast:
            return self.at_least(query)[0]
        mask = np.zeros(self.size, dtype=bool)
        mask[np.fromiter(self.searcher.docs_for_query(query), dtype=np.int64)] = True
        return mask

    # -- scoring ----------------------------------------------------------------------------------------

    def term_postings(self, query):
        """[(leaf searcher, docnum offset, ids, weights)] of a ``Term`` in every segment that has it."""
        fieldname = query.fieldname
        schema = self.searcher.schema
        if fieldname not in schema:
            return []
        try:
            btext = schema[fieldname].to_bytes(query.text)
        except ValueError:
            return []
        if (fieldname, btext) not in self.searcher.reader():
            return []
        found = []
        for leaf, offset in self.leaves:
            reader = leaf.reader()
            if (fieldname, btext) in reader:
                found.append((leaf, offset, *_postings(reader, fieldname, btext)))
        return found

    def term(self, query):
        fieldname = query.fieldname
        scores = np.zeros(self.size, dtype=np.float64)
        mask = np.zeros(self.size, dtype=bool)
        postings = self.term_postings(query)
        if not postings:
            return mask, scores
        field = self.searcher.schema[fieldname]
        if not field.scorable:
            raise Unsupported(f"unscored field {fieldname}")
        btext = field.to_bytes(query.text)
        idf = self.searcher.idf(fieldname, btext)
        avgfl = self.searcher.avg_field_length(fieldname) or 1
        k1 = self.weighting.K1
        b = self.weighting._field_B.get(fieldname, self.weighting.B)
        for leaf, offset, ids, weights in postings:
            lengths = _field_lengths(leaf.reader(), fieldname)[ids]
            weights = weights.astype(np.float64)
            # whoosh.scoring.bm25, operation for operation
            leaf_scores = idf * ((weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * lengths / avgfl)))
            scores[ids + offset] = leaf_scores
            mask[ids + offset] = True
        mask &= self.live()
        if query.boost != 1.0:
            scores *= query.boost
        scores[~mask] = 0.0
        return mask, scores

    def multiterm(self, query):
        """``search.backend.query.WordPrefix`` / ``WordFuzzyTerm``: the query their ``expanded()`` gives."""
        expanded = getattr(query, "expanded", None)
        if expanded is None:
            raise Unsupported(f"{type(query).__name__} (Whoosh scores it by index size)")
        return self.evaluate(expanded(self.searcher.reader()))

    def at_least(self, query):
        """``AtLeast``: documents matched by ``minimum`` of the counted subqueries or more; summed scores
        times the share of the total matched, times the boost (``AtLeastMatcher.score``, operation for
        operation)."""
        counted = np.zeros(self.size, dtype=np.int32)
        matched = np.zeros(self.size, dtype=np.int32)
        scores = np.zeros(self.size, dtype=np.float64)
        for number, sub in enumerate(query.subqueries):
            sub_mask, sub_scores = self.evaluate(sub)
            if number < query.counted:
                counted += sub_mask
            matched += sub_mask
            scores += sub_scores
        mask = counted >= query.minimum
        scores *= matched / query.total
        if query.boost != 1.0:
            scores *= query.boost
        scores[~mask] = 0.0
        return mask, scores

    def evaluate(self, query):
        """(mask, scores) of ``query`` over every document number of the searcher."""
        kind = type(query)
        if query is wq.NullQuery or kind is type(wq.NullQuery):
            return np.zeros(self.size, dtype=bool), np.zeros(self.size, dtype=np.float64)
        if kind is wq.Term:
            return self.term(query)
        if kind is DefaultOr:
            kind = wq.Or
        if isinstance(query, wq.MultiTerm):
            return self.multiterm(query)
        if kind is FilterQuery:
            return self.filter_mask(query.child) & self.live(), np.zeros(self.size, dtype=np.float64)
        if kind in (wq.Or, wq.And):
            if kind is wq.Or and (query.minmatch or query.scale):
                raise Unsupported("Or with minmatch or scale")
            parts = [self.evaluate(sub) for sub in query.subqueries]
            if not parts:
                return np.zeros(self.size, dtype=bool), np.zeros(self.size, dtype=np.float64)
            mask = parts[0][0].copy()
            for sub_mask, _ in parts[1:]:
                if kind is wq.Or:
                    mask |= sub_mask
                else:
                    mask &= sub_mask
            scores = np.zeros(self.size, dtype=np.float64)
            for _, sub_scores in parts:
                scores += sub_scores
            if query.boost != 1.0:
                scores *= query.boost
            scores[~mask] = 0.0
            return mask, scores
        if kind is AtLeast:
            return self.at_least(query)
        if kind is wq.AndNot:
            mask, scores = self.evaluate(query.a)
            negative = self.filter_mask(query.b)
            mask = mask & ~negative
            scores = np.where(mask, scores, 0.0)
            if query.boost != 1.0:
                scores = scores * query.boost
            return mask, scores
        raise Unsupported(kind.__name__)


def top(searcher, query, limit=None):
    """[(document number, score)] of the best ``limit`` hits (all if None), as ``Searcher.search`` orders them."""
    mask, scores = _Evaluation(searcher).evaluate(query)
    docnums = np.flatnonzero(mask)
    if not len(docnums):
        return []
    hit_scores = scores[docnums]
    if limit is not None and limit < len(docnums):
        # Keep every document tied with the limit-th score, then order exactly.
        threshold = np.partition(hit_scores, len(hit_scores) - limit)[len(hit_scores) - limit]
        keep = hit_scores >= threshold
        docnums, hit_scores = docnums[keep], hit_scores[keep]
    order = np.lexsort((docnums, -hit_scores))[:limit]
    return [(int(docnums[i]), float(hit_scores[i])) for i in order]


def count(searcher, query):
    """How many documents match ``query``."""
    mask, _scores = _Evaluation(searcher).evaluate(query)
    return int(np.count_nonzero(mask))


def warm(searcher):
    """Load the field lengths of every segment's catch-all fields, so a process's first search is not slow."""
    for leaf, _offset in searcher.leaf_searchers():
        reader = leaf.reader()
        for fieldname in reader.indexed_field_names():
            if fieldname.startswith(("x_", "ac_")) and searcher.schema[fieldname].scorable:
                _field_lengths(reader, fieldname)
        _segment_pks(reader)


def _segment_pks(reader):
    """Every document's ``pk`` in one segment, from its column, or None for an empty index or one built
    before ``pk`` was a column."""
    if not hasattr(reader, "_segment"):
        return None
    return _pk_columns.get_or_compute(
        _segment_key(reader),
        lambda: list(reader.column_reader("pk")) if reader.has_column("pk") else None,
    )


def stored_pks(searcher, docnums):
    """The ``pk`` of each document number, read from the segments' pk columns rather than stored fields."""
    leaves = searcher.leaf_searchers()
    offsets = [offset for _leaf, offset in leaves]
    out = []
    for docnum in docnums:
        leaf, offset = leaves[bisect.bisect_right(offsets, docnum) - 1]
        pks = _segment_pks(leaf.reader())
        out.append(pks[docnum - offset] if pks is not None else searcher.stored_fields(docnum)["pk"])
    return out
