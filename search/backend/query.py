"""The query compiler and its matchers: modelsearch queries and queryset filters → Whoosh queries.

The query is built from modelsearch query objects (never a query parser). Filters on the queryset are
translated into Whoosh queries where possible (``FilterQuery``: they match without adding to the score);
a filter that cannot be translated (across relations, on expressions, ...) raises ``Untranslatable`` and
is left to the ORM (see ``search.backend.results``).

Words are analysed with ``zhtext.query_words``; words the analyzer splits become "adjacent" queries:
shingle terms on the catch-all fields, positional phrases elsewhere. Prefix and fuzzy queries expand to
indexed words only, never to shingles (``WordPrefix``, ``WordFuzzyTerm``).

``MinimumMatch(subqueries, minimum)`` (a plain modelsearch ``Or`` to other backends) becomes ``AtLeast``:
the documents matching at least ``minimum`` of the subqueries, scored by the sum of the matching ones'
scores times the share of them matched, so a page that covers more of a long query ranks higher.
"""

from __future__ import annotations

import copy

from django.db import models
from django.db.models.functions.datetime import Extract as ExtractDate
from django.db.models.lookups import Lookup
from django.utils.encoding import force_str
from modelsearch.backends.base import BaseSearchQueryCompiler, get_model_root
from modelsearch.index import AutocompleteField, RelatedFields, SearchField, get_indexed_models
from modelsearch.query import And, Boost, Fuzzy, MatchAll, Not, Or, Phrase, PlainText
from whoosh import query as wq
from whoosh.matching import Matcher, NullMatcherClass, ReadTooFar, WrappingMatcher
from whoosh.query.compound import DefaultOr

from search.analysis import SHINGLE_JOINER, shingle
from search.backend.documents import (
    Untranslatable,
    boost_bucket,
    clean_filter_value,
    filter_kind,
    model_label,
)
from zhtext import query_words

__all__ = [
    "AtLeast",
    "FilterQuery",
    "MinimumMatch",
    "WhooshAutocompleteQueryCompiler",
    "WhooshSearchQueryCompiler",
    "WordFuzzyTerm",
    "WordPrefix",
]

# Queries are cut to this many words, and each word to this many tokens (a 10,000-character query must not
# build a 10,000-clause Whoosh query).
MAX_QUERY_WORDS = 32
MAX_WORD_TOKENS = 16


def _model_buckets(model, autocomplete):
    """{catch-all field name: boost} for the searchable fields of ``model`` (RelatedFields expanded).

    Autocomplete has no catch-all field (it would repeat every ``ac_<path>`` field's n-grams, a fifth of
    the index): its buckets are the model's own ``ac_<path>`` fields."""
    if autocomplete:
        return dict.fromkeys(_model_field_paths(model, True), 1.0)
    out = {}

    def walk(fields):
        for field in fields:
            if isinstance(field, RelatedFields):
                walk(field.fields)
            elif isinstance(field, SearchField):
                out[boost_bucket(field.boost)] = float(field.boost or 1)

    walk(model.get_search_fields())
    return out


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
    scored like a ``Term``, summed, times the query's boost (``search.backend.fastscore`` does the same).
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


class MinimumMatch(Or):
    """Documents matching at least ``minimum`` of ``subqueries`` (a long query's words, each with its
    alternatives), ranked by how many they match. ``optional`` subqueries (weak words: a lone 坏 or 派)
    add to the score of a document that matches, never make one match.

    It is an ``Or`` of them all to every other backend (the database backend matches any of them); the
    Whoosh backend compiles it to ``AtLeast``.
    """

    def __init__(self, subqueries, minimum=1, optional=()):
        super().__init__(list(subqueries) + list(optional))
        self.counted = len(subqueries)
        self.minimum = max(1, int(minimum))

    def __repr__(self):
        return "<MinimumMatch {} minimum={} counted={}>".format(
            " ".join(repr(sub) for sub in self.subqueries), self.minimum, self.counted
        )


class AtLeast(wq.CompoundQuery):
    """Matches documents matching at least ``minimum`` of the first ``counted`` subqueries (all by
    default; the others only add to the score); the score is the sum of the matching subqueries' scores
    times the share of the ``total`` matched (a coordination factor), times the boost. ``total`` also
    counts subqueries that can never match (words in no document), which were left out.

    Whoosh's own ``Or(minmatch=…)`` is not implemented. ``search.backend.fastscore`` evaluates this with
    the same scores.
    """

    JOINT = " OR "

    def __init__(self, subqueries, minimum=1, total=None, boost=1.0, counted=None):
        super().__init__(subqueries, boost=boost)
        self.minimum = max(1, int(minimum))
        self.total = max(int(total if total is not None else len(subqueries)), len(subqueries), 1)
        self.counted = len(subqueries) if counted is None else min(int(counted), len(subqueries))

    def __repr__(self):
        return (
            f"AtLeast({self.subqueries!r}, minimum={self.minimum}, total={self.total}, boost={self.boost}, "
            f"counted={self.counted})"
        )

    def __unicode__(self):
        return "(" + self.JOINT.join(str(sub) for sub in self.subqueries) + f")>={self.minimum}"

    __str__ = __unicode__

    def __eq__(self, other):
        return (
            type(other) is type(self)
            and self.subqueries == other.subqueries
            and (self.minimum, self.total, self.boost, self.counted)
            == (other.minimum, other.total, other.boost, other.counted)
        )

    def __hash__(self):
        return super().__hash__() ^ hash((self.minimum, self.total, self.counted))

    def apply(self, fn):
        return AtLeast([fn(q) for q in self.subqueries], self.minimum, self.total, self.boost, self.counted)

    def normalize(self):
        # Not CompoundQuery.normalize: it would merge and deduplicate subqueries, changing what counts.
        return self.apply(lambda q: q.normalize())

    def simplify(self, ixreader):
        return self.apply(lambda q: q.simplify(ixreader))

    def requires(self):
        return set()

    def estimate_min_size(self, ixreader):
        return 0

    def matcher(self, searcher, context=None):
        children = [sub.matcher(searcher, context) for sub in self.subqueries]
        if sum(1 for child in children[: self.counted] if child.is_active()) < self.minimum:
            return NullMatcherClass()
        return AtLeastMatcher(children, self.minimum, self.total, self.boost, self.counted)


class AtLeastMatcher(Matcher):
    """The documents where at least ``minimum`` of the first ``counted`` children match, in document
    order (see ``AtLeast``)."""

    def __init__(self, children, minimum, total, boost=1.0, counted=None):
        self._children = list(children)
        self.minimum = minimum
        self.total = total
        self.boost = boost
        self.counted = len(self._children) if counted is None else counted
        self._id = None
        self._matched = ()
        self._find()

    def _find(self):
        """Move to the first document at or after the children's current ones that enough of them match."""
        while True:
            active = [child for child in self._children[: self.counted] if child.is_active()]
            if len(active) < self.minimum:
                self._id, self._matched = None, ()
                return
            low = min(child.id() for child in active)
            matched = [child for child in active if child.id() == low]
            if len(matched) >= self.minimum:
                for child in self._children[self.counted :]:
                    if child.is_active() and child.id() < low:
                        child.skip_to(low)
                    if child.is_active() and child.id() == low:
                        matched.append(child)
                self._id, self._matched = low, matched
                return
            for child in matched:
                child.next()

    def is_active(self):
        return self._id is not None

    def id(self):
        return self._id

    def next(self):
        if self._id is None:
            raise ReadTooFar
        for child in self._matched:
            child.next()
        self._find()

    def skip_to(self, id):
        if self._id is None:
            raise ReadTooFar
        if id <= self._id:
            return
        for child in self._children:
            if child.is_active() and child.id() < id:
                child.skip_to(id)
        self._find()

    def reset(self):
        for child in self._children:
            child.reset()
        self._find()

    def copy(self):
        return AtLeastMatcher(
            [child.copy() for child in self._children], self.minimum, self.total, self.boost, self.counted
        )

    def children(self):
        return iter(self._children)

    def is_leaf(self):
        return False

    def supports_block_quality(self):
        return False

    def weight(self):
        return sum(child.weight() for child in self._matched)

    def score(self):
        # Summed in the children's order, as search.backend.fastscore sums them.
        matched = {id(child) for child in self._matched}
        score = 0.0
        for child in self._children:
            if id(child) in matched:
                score += child.score()
        score *= len(self._matched) / self.total
        return score * self.boost


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
        if isinstance(query, MinimumMatch):
            subqueries = [self.build_text_query(sub, fields) for sub in query.subqueries]
            return _at_least(subqueries[: query.counted], query.minimum, subqueries[query.counted :])
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
            raise Untranslatable  # filters across relations: the ORM applies them
        field = field_path[0]
        model = self.queryset.model
        kind = filter_kind(field, model)
        name = kind + "_" + field.get_attname(model)

        if lookup == "isnull":
            is_null = wq.Term("nulls", name)
            return is_null if value else wq.Not(is_null)
        if lookup == "exact":
            return self._exact(kind, name, value)
        if lookup == "in":
            if not isinstance(value, (list, tuple, set, frozenset)):
                raise Untranslatable  # subqueries and other lazy iterables: ORM
            return _or([self._exact(kind, name, item) for item in value])
        if lookup in ("startswith", "prefix"):
            if kind != "fi":
                raise Untranslatable
            return wq.Prefix(name, clean_filter_value(kind, value))
        if lookup in ("gt", "gte", "lt", "lte"):
            lower = lookup.startswith("g")
            exclusive = lookup in ("gt", "lt")
            bound = clean_filter_value(kind, value)
            if lower:
                return self._range(kind, name, bound, None, exclusive, False)
            return self._range(kind, name, None, bound, False, exclusive)
        if lookup == "range":
            low, high = value
            return self._range(
                kind, name, clean_filter_value(kind, low), clean_filter_value(kind, high), False, False
            )
        raise Untranslatable

    def _exact(self, kind, name, value):
        if value is None:
            return wq.Term("nulls", name)
        cleaned = clean_filter_value(kind, value)
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
        raise Untranslatable

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
        raise Untranslatable

    def translated_filters(self):
        """The queryset's filters as a Whoosh query (None if there are none). Raises Untranslatable."""
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
        except Untranslatable:
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


def _at_least(queries, minimum, optional=()):
    """``AtLeast`` of ``queries`` and ``optional``; those that can never match count in the total but
    are left out."""
    total = len(queries) + len(optional)
    live = [q for q in queries if q is not None and q is not wq.NullQuery]
    extra = [q for q in optional if q is not None and q is not wq.NullQuery]
    if len(live) < minimum or not live:
        return wq.NullQuery
    if minimum >= total:
        return _and(live)
    return AtLeast(live + extra, minimum, total, counted=len(live))


def _or(queries):
    queries = [q for q in queries if q is not None and q is not wq.NullQuery]
    if not queries:
        return wq.NullQuery
    if len(queries) == 1:
        return queries[0]
    return wq.Or(queries)
