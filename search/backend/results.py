"""Results: Whoosh hits turned into the queryset's objects, counts and facets.

Only the top ``stop`` hits are fetched from Whoosh when every filter was translated and results are
ranked by relevance (fast path). When a filter cannot be translated, or results are ordered by a field,
all hits are fetched and the ORM filters/orders them. Either way the objects are re-fetched through the
queryset, so stale index entries never show. Scoring is done by ``search.backend.fastscore`` where it
can, by Whoosh otherwise.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from django.db.models import Count
from django.utils.encoding import force_str
from modelsearch.backends.base import BaseSearchResults, FilterFieldError
from whoosh import query as wq

from search.backend import fastscore

__all__ = ["WhooshSearchResults"]

logger = logging.getLogger(__name__)

# Beyond this many hits the ORM path filters primary keys in chunks.
PK_CHUNK = 5000


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
