"""PostgreSQL search backend with Callbook's own Chinese analysis, for several app servers on one database.

Configure it in ``WAGTAILSEARCH_BACKENDS`` (the database must be PostgreSQL)::

    "default": {"BACKEND": "search.backend_pg", "AUTO_UPDATE": True}

then ``manage.py update_index``. It subclasses modelsearch's PostgreSQL backend and keeps its table
(``wagtailsearch_indexentry``: one row per object), but PostgreSQL does no analysis of its own: text is
segmented, folded (traditional → simplified, full-width, case) and split into sub-words in Python by
``zhtext`` (as for the Whoosh backend) and stored as ``tsvector`` literals; queries are ``tsquery``
literals built from the same analysis. What the columns hold:

* ``body``: every ``SearchField`` (``RelatedFields`` included), words and sub-words at their word's
  ordinal position, labelled by boost (``A`` ≥ 2, ``B`` ≥ 1, ``C`` ≥ 0.5, ``D`` below); searches without
  ``fields=`` match and rank here (GIN index);
* ``title``: the same words qualified by their field path (``summary:退款``), for ``fields=`` searches;
* ``autocomplete``: the ``AutocompleteField`` words, qualified copies, and the pinyin keys of their
  Chinese (``kehutousu``, ``khts``); matched by prefix (``'投':*``);
* ``title_text``: the autocomplete and title text, normalised, for ``pg_trgm``: infix autocomplete of Chinese (``户投诉`` in 客户投诉处理) and ``Fuzzy``
  (migration ``search.0007`` creates the extension and a trigram index; nothing on SQLite).

Queries (``CallbookPgQueryCompiler``) follow the Whoosh backend's: a word the analyzer splits matches as a
phrase (``'单' <-> '号'``), as its whole (a sub-word of a longer word) or, for full-text search, as all its
parts anywhere; a lone Chinese character also matches the words it starts. ``MinimumMatch`` (at least
``minimum`` of its parts) is an SQL count over the parts' matches, ranked by coverage. The score of a
document is the sum, over the query's leaves it matches, of the leaf's boost × ``ts_rank`` (label weights
1, 0.5, 0.25, 0.125) × the leaf's inverse document frequency; a ``MinimumMatch`` multiplies its sum by the
share of its parts matched. ``document_frequencies(words)`` counts entries in one query on the GIN index.

Do not configure Wagtail's own database backend on the same database as well: both write the same table.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict

from django.db import connections, router, transaction
from django.db.models import Case, Count, Expression, F, FloatField, Value, When
from django.db.models.fields import BooleanField
from django.utils.encoding import force_str
from modelsearch.backends.base import FilterFieldError
from modelsearch.backends.database.postgres.postgres import (
    IndexEntry,
    PostgresAutocompleteQueryCompiler,
    PostgresIndex,
    PostgresSearchAtomicRebuilder,
    PostgresSearchBackend,
    PostgresSearchQueryCompiler,
    PostgresSearchRebuilder,
    PostgresSearchResults,
)
from modelsearch.index import AutocompleteField, RelatedFields, SearchField
from modelsearch.query import And, Boost, Fuzzy, MatchAll, Not, Or, Phrase, PlainText
from modelsearch.utils import get_content_type_pk, get_descendants_content_types_pks

from search.backend.documents import flatten_text, related_objects
from search.backend.query import MinimumMatch
from zhtext import has_cjk, normalize, pinyin_keys, query_words, tokenize

__all__ = ["CallbookPgSearchBackend", "SearchBackend"]

# tsvector limits: positions run to 16383, a lexeme keeps at most 256 of them.
MAX_POSITION = 16383
MAX_POSITIONS_PER_LEXEME = 255
MAX_LEXEME_BYTES = 900_000
FIELD_GAP = 2  # positions left between fields (no phrase spans two fields)
# Queries are cut like the Whoosh backend's.
MAX_QUERY_WORDS = 32
MAX_WORD_TOKENS = 16
# ts_rank's weights, in its order {D, C, B, A}; labels from boosts (``label_for``).
RANK_WEIGHTS = "{0.125,0.25,0.5,1.0}"
AUTOCOMPLETE_INFIX_BOOST = 0.5
MAX_TITLE_TEXT = 2000
# Entry counts behind the ranking's inverse document frequencies, per process: (count, when) by
# (database, column, tsquery).
COUNT_TTL = 60.0
# A word in this share of the entries or more is ranked without the index (see ``ranked``).
COMMON_SHARE = 0.3
MAX_CACHED_COUNTS = 20000
_counts = {}


def label_for(boost):
    boost = float(boost if boost is not None else 1)
    if boost >= 2:
        return "A"
    if boost >= 1:
        return "B"
    if boost >= 0.5:
        return "C"
    return "D"


def quote_lexeme(text):
    """``text`` as a quoted lexeme for a tsvector or tsquery literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


# --- documents ------------------------------------------------------------------------------------------


class _VectorBuilder:
    """Collects lexemes with positions and labels, and writes them as a tsvector literal."""

    def __init__(self):
        self.lexemes = {}  # lexeme -> [ "12A", ... ]
        self.bare = set()  # lexemes without positions (pinyin keys)
        self.next_position = 1
        self.size = 0  # bytes of the lexemes' text (a tsvector holds at most 1 MB of it)

    def add_text(self, text, label, qualifier=None):
        toks = tokenize(text)
        if not toks:
            return
        base = self.next_position
        last = 0
        for tok in toks:
            position = min(base + tok.pos, MAX_POSITION)
            last = max(last, tok.pos)
            lexeme = f"{qualifier}:{tok.text}" if qualifier else tok.text
            found = self.lexemes.get(lexeme)
            if found is None:
                size = len(lexeme.encode())
                if self.size + size > MAX_LEXEME_BYTES:
                    continue  # a very long document: its rarest late words are left out
                self.size += size
                found = self.lexemes[lexeme] = []
            if len(found) < MAX_POSITIONS_PER_LEXEME:
                found.append(f"{position}{label}")
        self.next_position = min(base + last + 1 + FIELD_GAP, MAX_POSITION)

    def add_bare(self, lexeme):
        if lexeme and lexeme not in self.lexemes and self.size + len(lexeme) <= MAX_LEXEME_BYTES:
            self.size += len(lexeme)
            self.bare.add(lexeme)

    def literal(self):
        parts = [
            f"{quote_lexeme(lexeme)}:{','.join(positions)}" for lexeme, positions in self.lexemes.items()
        ]
        parts += [quote_lexeme(lexeme) for lexeme in sorted(self.bare)]
        return " ".join(parts)


def object_texts(obj):
    """``(search, autocomplete)``: ``[(field path, boost, text)]`` of ``obj``'s SearchFields and
    ``[(field path, text)]`` of its AutocompleteFields, RelatedFields walked (boosts multiplied)."""
    search, autocomplete = [], []

    def walk(target, fields, prefix, boost):
        for field in fields:
            if isinstance(field, RelatedFields):
                for sub in related_objects(field, target):
                    walk(sub, field.fields, prefix + field.field_name + "__", boost)
            elif isinstance(field, SearchField):
                text = flatten_text(field.get_value(target))
                if text.strip():
                    search.append((prefix + field.field_name, boost * float(field.boost or 1), text))
            elif isinstance(field, AutocompleteField):
                text = flatten_text(field.get_value(target))
                if text.strip():
                    autocomplete.append((prefix + field.field_name, text))

    walk(obj, obj.get_search_fields(), "", 1.0)
    return search, autocomplete


def _plain(text):
    """``text`` normalised (traditional → simplified, full-width, case), whitespace runs as one space."""
    return " ".join(normalize(text).split())


def build_row(obj):
    """``(body, title, autocomplete, title_text)`` for ``obj``: three tsvector literals and the text."""
    search, autocomplete = object_texts(obj)
    body, qualified, complete = _VectorBuilder(), _VectorBuilder(), _VectorBuilder()
    title_parts = []
    for path, boost, text in search:
        label = label_for(boost)
        body.add_text(text, label)
        qualified.add_text(text, label, qualifier=path)
        if path == "title":
            title_parts.append(text)
    for path, text in autocomplete:
        complete.add_text(text, "A")
        complete.add_text(text, "A", qualifier=path)
        for key in pinyin_keys(text).split():
            complete.add_bare(key)
        title_parts.append(text)
    title_text = " ".join(dict.fromkeys(_plain(text) for text in title_parts))[:MAX_TITLE_TEXT]
    return body.literal(), qualified.literal(), complete.literal(), title_text


# --- the index ------------------------------------------------------------------------------------------


class CallbookPgIndex(PostgresIndex):
    """The index entries of modelsearch's table, written with Callbook's analysis."""

    def add_items(self, model, objs):
        if not model.get_search_fields():
            return
        objs = list(objs)
        if not objs:
            return
        content_type_pk = get_content_type_pk(model)
        rows, params = [], []
        for obj in objs:
            body, qualified, complete, title_text = build_row(obj)
            rows.append("(%s, %s, %s::tsvector, %s::tsvector, %s::tsvector, 1.0, %s, '')")
            params += [content_type_pk, force_str(obj.pk), qualified, complete, body, title_text]
        table = IndexEntry._meta.db_table
        sql = (
            f"INSERT INTO {table} (content_type_id, object_id, title, autocomplete, body, title_norm,"  # noqa: S608
            f" title_text, body_text) VALUES {', '.join(rows)}"
            " ON CONFLICT (content_type_id, object_id) DO UPDATE SET title = EXCLUDED.title,"
            " autocomplete = EXCLUDED.autocomplete, body = EXCLUDED.body, title_norm = 1.0,"
            " title_text = EXCLUDED.title_text, body_text = EXCLUDED.body_text"
        )
        # A savepoint: a failed write must not abort the caller's transaction (errors are logged).
        with transaction.atomic(using=self.write_connection.alias), self.write_connection.cursor() as cursor:
            cursor.execute(sql, params)

    def _refresh_title_norms(self, full=False):
        pass  # ranking does not use title_norm (each label has its weight)


class CallbookPgRebuilder(PostgresSearchRebuilder):
    pass


class CallbookPgAtomicRebuilder(PostgresSearchAtomicRebuilder):
    pass


# --- queries --------------------------------------------------------------------------------------------


class _Node:
    """A compiled query: ``tsq`` (a tsquery literal the GIN index can answer, None when it cannot: a
    negation), whether ``tsq`` is exact, and the SQL of the match and of the score over a vector
    (``{v}``)."""

    exact = True

    def leaves(self):
        return []


class _Leaf(_Node):
    def __init__(self, tsq, boost=1.0, single=True):
        self.tsq = tsq
        self.boost = boost
        self.single = single  # one lexeme (or prefix): ts_rank is 0 where it does not match

    def leaves(self):
        return [self]

    def match(self):
        return "({v} @@ %s::tsquery)", [self.tsq]

    def score(self, idf):
        weight = self.boost * idf.get(self.tsq, 1.0)
        rank = "ts_rank(%s::float4[], {v}, %s::tsquery, 0)"
        if self.single:
            return f"({rank} * %s)", [RANK_WEIGHTS, self.tsq, weight]
        return (
            f"(CASE WHEN {{v}} @@ %s::tsquery THEN {rank} * %s ELSE 0 END)",
            [self.tsq, RANK_WEIGHTS, self.tsq, weight],
        )


class _Infix(_Node):
    """Autocomplete of Chinese inside a word: ``title_text LIKE %text%`` (trigram index)."""

    tsq = None
    exact = False

    def __init__(self, text, boost):
        self.text = text
        self.boost = boost

    def match(self):
        pattern = "%" + self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return "({t} LIKE %s)", [pattern]

    def score(self, idf):
        match, params = self.match()
        return f"(CASE WHEN {match} THEN %s ELSE 0 END)", [*params, self.boost * 0.5]


class _All(_Node):
    tsq = None

    def match(self):
        return "TRUE", []

    def score(self, idf):
        return "0::float8", []


class _Compound(_Node):
    def __init__(self, children):
        self.children = children

    def leaves(self):
        return [leaf for child in self.children for leaf in child.leaves()]

    @property
    def exact(self):
        return all(child.exact for child in self.children)

    def _joined(self, method, joint, *args):
        sqls, params = [], []
        for child in self.children:
            sql, found = getattr(child, method)(*args)
            sqls.append(sql)
            params += found
        return "(" + joint.join(sqls) + ")", params

    def score(self, idf):
        return self._joined("score", " + ", idf)


class _And(_Compound):
    @property
    def tsq(self):
        parts = [child.tsq for child in self.children if child.tsq is not None]
        return " & ".join(f"({part})" for part in parts) if parts else None

    @property
    def exact(self):
        return all(child.exact and child.tsq is not None for child in self.children)

    def match(self):
        return self._joined("match", " AND ")


class _Or(_Compound):
    @property
    def tsq(self):
        parts = [child.tsq for child in self.children]
        if any(part is None for part in parts):
            return None
        return " | ".join(f"({part})" for part in parts)

    def match(self):
        return self._joined("match", " OR ")


class _Not(_Node):
    tsq = None
    exact = False

    def __init__(self, child):
        self.child = child

    def leaves(self):
        return []

    def match(self):
        sql, params = self.child.match()
        return f"(NOT {sql})", params

    def score(self, idf):
        return "0::float8", []


class _AtLeast(_Compound):
    """At least ``minimum`` of the first ``counted`` children; scored by the sum of the matching
    children's scores times the share of ``total`` matched."""

    exact = False

    def __init__(self, children, minimum, total, counted):
        super().__init__(children)
        self.minimum = minimum
        self.total = total
        self.counted = counted

    @property
    def tsq(self):
        parts = [child.tsq for child in self.children[: self.counted]]
        if any(part is None for part in parts):
            return None
        return " | ".join(f"({part})" for part in parts)

    def _count(self, children):
        sqls, params = [], []
        for child in children:
            sql, found = child.match()
            sqls.append(f"({sql})::int")
            params += found
        return "(" + " + ".join(sqls) + ")", params

    def match(self):
        sql, params = self._count(self.children[: self.counted])
        return f"({sql} >= %s)", [*params, self.minimum]

    def score(self, idf):
        total, params = self._joined("score", " + ", idf)
        matched, more = self._count(self.children)
        return f"({total} * {matched}::float8 / %s)", [*params, *more, float(self.total)]


_NONE = None  # a query matching nothing compiles to None


def _and(nodes):
    if any(node is _NONE for node in nodes):
        return _NONE
    nodes = [node for node in nodes if not isinstance(node, _All)] or nodes[:1]
    if not nodes:
        return _NONE
    return nodes[0] if len(nodes) == 1 else _And(nodes)


def _or(nodes):
    nodes = [node for node in nodes if node is not _NONE]
    if not nodes:
        return _NONE
    if any(isinstance(node, _All) for node in nodes):
        return _All()
    return nodes[0] if len(nodes) == 1 else _Or(nodes)


class _SearchSQL(Expression):
    """SQL over the index entry's columns: ``{v}`` (the searched vector) and ``{t}`` (``title_text``)."""

    def __init__(self, vector, text, sql, params, output_field):
        super().__init__(output_field=output_field)
        self.vector = vector
        self.text = text
        self.sql = sql
        self.params = params

    def get_source_expressions(self):
        return [self.vector, self.text]

    def set_source_expressions(self, exprs):
        self.vector, self.text = exprs

    def as_sql(self, compiler, connection):
        vector_sql, vector_params = compiler.compile(self.vector)
        text_sql, text_params = compiler.compile(self.text)
        assert not vector_params and not text_params
        return "(" + self.sql.replace("{v}", vector_sql).replace("{t}", text_sql) + ")", list(self.params)

    @property
    def conditional(self):
        return isinstance(self.output_field, BooleanField)


class CallbookPgQueryCompiler(PostgresSearchQueryCompiler):
    """modelsearch query objects (and ``MinimumMatch``) → tsquery literals and SQL scores."""

    autocomplete = False
    column = "body"

    # -- fields -----------------------------------------------------------------------------------------

    def _qualifiers(self):
        """Field paths a ``fields=`` search is limited to (None: the whole entry)."""
        if self.fields is None:
            return None
        paths = set()

        def walk(fields, prefix):
            for field in fields:
                if isinstance(field, RelatedFields):
                    walk(field.fields, prefix + field.field_name + "__")
                elif isinstance(field, AutocompleteField if self.autocomplete else SearchField):
                    paths.add(prefix + field.field_name)

        walk(self.queryset.model.get_search_fields(), "")
        wanted = set(self.fields)
        return sorted(path for path in paths if path.split("__")[0] in wanted) or sorted(wanted)

    def _lexemes(self, token, prefix=False):
        suffix = ":*" if prefix else ""
        qualifiers = self._qualifiers_cache
        if qualifiers is None:
            return [quote_lexeme(token) + suffix]
        return [quote_lexeme(f"{q}:{token}") + suffix for q in qualifiers]

    # -- leaves -----------------------------------------------------------------------------------------

    def _term(self, token, boost, prefix=False):
        lexemes = self._lexemes(token, prefix)
        return _Leaf(" | ".join(lexemes), boost, single=len(lexemes) == 1)

    def _adjacent(self, tokens, boost, prefix=False):
        if self._qualifiers_cache is None:
            phrases = [" <-> ".join(quote_lexeme(t) + (":*" if prefix else "") for t in tokens)]
        else:
            phrases = [
                " <-> ".join(quote_lexeme(f"{q}:{t}") + (":*" if prefix else "") for t in tokens)
                for q in self._qualifiers_cache
            ]
        return _Leaf(" | ".join(f"({p})" for p in phrases), boost, single=False)

    def _word(self, word, boost):
        tokens = query_words(word)[:MAX_WORD_TOKENS]
        if not tokens:
            return _NONE
        if len(tokens) == 1:
            token = tokens[0]
            if self.autocomplete:
                return self._term(token, boost, prefix=True)
            if len(token) == 1 and not token.isascii():
                # A lone Chinese character matches the words it starts, the character itself first.
                return _or([self._term(token, boost * 2), self._term(token, boost, prefix=True)])
            return self._term(token, boost)
        alternatives = [self._adjacent(tokens, boost * 2, prefix=self.autocomplete)]
        if not self.autocomplete:
            alternatives.append(_and([self._term(token, boost) for token in tokens]))
        whole = "".join(tokens)
        if len(whole) <= 8 and not whole.isascii():
            alternatives.append(self._term(whole, boost * 2, prefix=self.autocomplete))
        return _or(alternatives)

    def _words(self, text, operator, boost):
        words = str(text).split()[:MAX_QUERY_WORDS]
        parts = [self._word(word, boost) for word in words]
        if self.autocomplete and self.fields is None:
            # Chinese typed from the middle of a word (户投诉 in 客户投诉): trigram-indexed infix.
            joined = normalize("".join(words))
            if has_cjk(joined) and len(joined) >= 2:
                parts = [
                    _or([part, _Infix(normalize(word), boost)]) if has_cjk(word) else part
                    for part, word in zip(parts, words, strict=True)
                ]
        if not parts:
            return _NONE
        if str(operator).lower() == "or":
            return _or(parts)
        return _and(parts)

    def compile(self, query, boost=1.0):
        if isinstance(query, MatchAll):
            return _All()
        if isinstance(query, PlainText):
            return self._words(query.query_string, query.operator, boost * float(query.boost or 1))
        if isinstance(query, Phrase):
            tokens = query_words(query.query_string)[: MAX_QUERY_WORDS * MAX_WORD_TOKENS // 4]
            if not tokens:
                return _NONE
            if len(tokens) == 1:
                return self._term(tokens[0], boost)
            return self._adjacent(tokens, boost)
        if isinstance(query, Fuzzy):
            return self._words(query.query_string, query.operator, boost)
        if isinstance(query, Boost):
            return self.compile(query.subquery, boost * float(query.boost))
        if isinstance(query, MinimumMatch):
            children = [self.compile(sub, boost) for sub in query.subqueries]
            counted = [child for child in children[: query.counted] if child is not _NONE]
            optional = [child for child in children[query.counted :] if child is not _NONE]
            if len(counted) < query.minimum or not counted:
                return _NONE
            if query.minimum >= len(children):
                return _and(counted)
            return _AtLeast(counted + optional, query.minimum, len(children), len(counted))
        if isinstance(query, And):
            return _and([self.compile(sub, boost) for sub in query.subqueries])
        if isinstance(query, Or):
            return _or([self.compile(sub, boost) for sub in query.subqueries])
        if isinstance(query, Not):
            inner = self.compile(query.subquery, boost)
            if inner is _NONE:
                return _All()
            if isinstance(inner, _All):
                return _NONE
            return _Not(inner)
        raise NotImplementedError(f"{type(query).__name__} queries are not supported by this backend.")

    # -- running ----------------------------------------------------------------------------------------

    def compiled(self):
        if not hasattr(self, "_compiled"):
            self._qualifiers_cache = self._qualifiers()
            self._compiled = self.compile(self.query)
        return self._compiled

    def _vector(self):
        if self.autocomplete:
            return F("index_entries__autocomplete")
        return F("index_entries__title" if self.fields is not None else "index_entries__body")

    def _expression(self, sql, params, output_field):
        return _SearchSQL(self._vector(), F("index_entries__title_text"), sql, params, output_field)

    def _idf(self, node, backend):
        """{leaf tsquery: inverse document frequency}, from one count over the GIN index."""
        leaves = list(dict.fromkeys(leaf.tsq for leaf in node.leaves()))
        if len(leaves) < 2 or backend is None:
            return {}  # one leaf: its weight is the same for every document
        counts = backend.count_matches(leaves, self.autocomplete, self.fields is not None)
        total = max(counts.pop(None, 0), 1)
        return {tsq: 1.0 + math.log((total + 1) / (counts.get(tsq, 0) + 1)) for tsq in leaves}

    def search(self, config, start, stop, score_field=None, backend=None):
        node = self.compiled()
        if isinstance(self.query, Fuzzy):
            return super().search(config, start, stop, score_field=score_field, backend=backend)
        if node is _NONE:
            return self.queryset.none()
        if isinstance(node, _All):
            if score_field is not None:
                return self._apply_ordering_and_scoring(
                    self.queryset, F("pk") * 0.0, start, stop, score_field
                )
            return self.queryset[start:stop]
        matching = self.queryset.filter(self._expression(*self._match_sql(node), BooleanField()))
        if stop is None or not self.order_by_relevance:
            # Counts, facets, and orderings of the queryset's own: ranked, if at all, in the join.
            if not self.order_by_relevance and score_field is None:
                return self._apply_ordering_and_scoring(matching, None, start, stop, None)
            sql, params = node.score(self._idf(node, backend))
            rank = self._expression(sql, params, FloatField())
            return self._apply_ordering_and_scoring(matching, rank, start, stop, score_field)
        ranked = self.ranked(start, stop, backend)
        scores = dict(ranked)
        if not scores:
            return self.queryset.none()
        queryset = self.queryset.filter(pk__in=list(scores))
        score = Case(
            *(When(pk=pk, then=Value(value)) for pk, value in scores.items()),
            default=Value(0.0),
            output_field=FloatField(),
        )
        if score_field is not None:
            queryset = queryset.annotate(**{score_field: score})
        return queryset.order_by(score.desc(), "-pk")

    def _match_sql(self, node):
        """The SQL and parameters of "this entry matches": the GIN-answerable tsquery, and the exact
        condition where the tsquery is only a necessary one (``MinimumMatch``, negation, infix)."""
        parts, params = [], []
        if node.tsq is not None:
            parts.append("{v} @@ %s::tsquery")
            params.append(node.tsq)
        if not node.exact or node.tsq is None:
            sql, found = node.match()
            parts.append(sql)
            params += found
        return " AND ".join(parts), params

    def ranked(self, start, stop, backend=None):
        """[(pk, score)] of the best matches in the queryset, from ``start`` to ``stop``, best first.

        The entries are matched and ranked on their own (a subquery that is not flattened, so each
        matching entry's vector is read once and the join carries only the score), then joined to the
        queryset's primary keys (its filters apply before the limit).
        """
        node = self.compiled()
        if node is _NONE or isinstance(node, _All):
            return [
                (pk, 0.0) for pk in self.queryset.order_by("-pk").values_list("pk", flat=True)[start:stop]
            ]
        alias = self.queryset.db
        connection = connections[alias]
        column = "autocomplete" if self.autocomplete else ("title" if self.fields is not None else "body")
        match_sql, match_params = self._match_sql(node)
        score_sql, score_params = node.score(self._idf(node, backend))

        def columns(sql):
            return sql.replace("{v}", f"e.{column}").replace("{t}", "e.title_text")

        inner_sql, inner_params = self.queryset.order_by().values_list("pk").query.sql_with_params()
        content_types = list(get_descendants_content_types_pks(self.queryset.model))
        table = IndexEntry._meta.db_table
        if column == "body" and self._common(node, alias, backend):
            # Words in most entries: every entry is read anyway (a sequential scan), so rank each once
            # and keep those that score, rather than read each vector twice (match, then rank).
            sql = (
                f"SELECT u.pk, s.score FROM (SELECT e.object_id, {columns(score_sql)} AS score"  # noqa: S608
                f" FROM {table} e WHERE e.content_type_id = ANY(%s) OFFSET 0) s"
                f" JOIN ({inner_sql}) u(pk) ON s.object_id = u.pk::text WHERE s.score > 0"
                " ORDER BY s.score DESC, u.pk DESC"
            )
            params = [*score_params, content_types, *inner_params]
        else:
            sql = (
                f"SELECT u.pk, s.score FROM (SELECT e.object_id, {columns(score_sql)} AS score"  # noqa: S608
                f" FROM {table} e WHERE e.content_type_id = ANY(%s) AND {columns(match_sql)} OFFSET 0) s"
                f" JOIN ({inner_sql}) u(pk) ON s.object_id = u.pk::text"
                " ORDER BY s.score DESC, u.pk DESC"
            )
            params = [*score_params, content_types, *match_params, *inner_params]
        if stop is not None:
            sql += " LIMIT %s"
            params.append(max(stop - (start or 0), 0))
        if start:
            sql += " OFFSET %s"
            params.append(start)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [(pk, float(score or 0.0)) for pk, score in cursor.fetchall()]

    def _common(self, node, alias, backend):
        """Whether ``node`` is one plain word (or an ``Or`` of them: its synonyms, a lone character and
        the words it starts) in at least ``COMMON_SHARE`` of the entries; where it is, an entry matches
        exactly when it scores above 0. Counts from the ones ``document_frequencies`` just made, else
        counted (and remembered)."""
        leaves = node.children if isinstance(node, _Or) else [node]
        if backend is None or not all(isinstance(leaf, _Leaf) and leaf.single for leaf in leaves):
            return False
        now = time.monotonic()
        counts = {}
        for tsq in [None, *(leaf.tsq for leaf in leaves)]:
            cached = _counts.get((alias, "body", tsq))
            if cached is None or now - cached[1] >= COUNT_TTL:
                counts = backend.count_matches([leaf.tsq for leaf in leaves])
                break
            counts[tsq] = cached[0]
        total = counts.get(None) or 0
        return total > 0 and sum(counts.get(leaf.tsq, 0) for leaf in leaves) >= COMMON_SHARE * total


class CallbookPgAutocompleteQueryCompiler(CallbookPgQueryCompiler, PostgresAutocompleteQueryCompiler):
    autocomplete = True


class CallbookPgSearchResults(PostgresSearchResults):
    def scored_pks(self):
        """[(pk as a string, score)] of this slice, best first, without loading the objects (``search.results``)."""
        if self.stop is not None and self.stop <= self.start:
            return []
        compiler = self.query_compiler
        if isinstance(compiler.query, Fuzzy) or not compiler.order_by_relevance:
            queryset = compiler.search(
                None, self.start, self.stop, score_field="_callbook_score", backend=self.backend
            )
            return [
                (force_str(pk), float(score or 0))
                for pk, score in queryset.values_list("pk", "_callbook_score")
            ]
        return [(force_str(pk), score) for pk, score in compiler.ranked(self.start, self.stop, self.backend)]

    def facet(self, field_name):
        field = self.query_compiler._get_filterable_field(field_name)
        if field is None:
            raise FilterFieldError(
                f'Cannot facet search results with field "{field_name}". Please add '
                f"index.FilterField('{field_name}') to {self.query_compiler.queryset.model.__name__}.search_fields.",
                field_name=field_name,
            )
        queryset = self.query_compiler.search(None, None, None, backend=self.backend)
        results = queryset.order_by().values(field_name).annotate(count=Count("pk")).order_by("-count")
        return OrderedDict((row[field_name], row["count"]) for row in results)


class CallbookPgSearchBackend(PostgresSearchBackend):
    """modelsearch's PostgreSQL backend with Callbook's Chinese analysis (see the module docstring)."""

    query_compiler_class = CallbookPgQueryCompiler
    autocomplete_query_compiler_class = CallbookPgAutocompleteQueryCompiler
    index_class = CallbookPgIndex
    results_class = CallbookPgSearchResults
    rebuilder_class = CallbookPgRebuilder
    atomic_rebuilder_class = CallbookPgAtomicRebuilder
    catch_indexing_errors = True

    def __init__(self, params):
        super().__init__(params)
        self.config = "simple"
        self.autocomplete_config = "simple"

    def count_matches(self, tsqueries, autocomplete=False, qualified=False, fresh=False):
        """{tsquery literal: entries matching it} and {None: all entries}. Counted on the column's GIN
        index, one scalar subquery each (a plain lexeme needs no look at the rows), in one round trip;
        remembered for ``COUNT_TTL`` seconds per process unless ``fresh`` (they only weigh the ranking)."""
        column = "autocomplete" if autocomplete else ("title" if qualified else "body")
        alias = router.db_for_read(IndexEntry)
        now = time.monotonic()
        found, missing = {}, []
        for tsq in [None, *dict.fromkeys(tsqueries)]:
            cached = None if fresh else _counts.get((alias, column, tsq))
            if cached is not None and now - cached[1] < COUNT_TTL:
                found[tsq] = cached[0]
            else:
                missing.append(tsq)
        if missing:
            table = IndexEntry._meta.db_table
            parts = [
                f"(SELECT count(*) FROM {table})"  # noqa: S608
                if tsq is None
                else f"(SELECT count(*) FROM {table} WHERE {column} @@ %s::tsquery)"  # noqa: S608
                for tsq in missing
            ]
            row = _counted(
                connections[alias], "SELECT " + ", ".join(parts), [t for t in missing if t is not None]
            )
            if len(_counts) > MAX_CACHED_COUNTS:
                _counts.clear()
            for tsq, count in zip(missing, row, strict=True):
                found[tsq] = count or 0
                _counts[alias, column, tsq] = (found[tsq], now)
        return found

    def document_frequencies(self, words):
        """{word: how many index entries hold it}, in one query on the ``body`` GIN index. A word the
        analyzer splits (单号 → 单 / 号) counts the entries where its parts stand together or where it
        is a word or sub-word of its own."""
        words = list(dict.fromkeys(words))
        lookups = {}
        for word in words:
            tokens = query_words(word)[:MAX_WORD_TOKENS]
            if not tokens:
                continue
            if len(tokens) == 1:
                lookups[word] = quote_lexeme(tokens[0])
            else:
                phrase = " <-> ".join(quote_lexeme(token) for token in tokens)
                lookups[word] = f"({phrase}) | {quote_lexeme(''.join(tokens))}"
        found = dict.fromkeys(words, 0)
        if not lookups:
            return found
        counts = self.count_matches(list(dict.fromkeys(lookups.values())), fresh=True)
        for word, tsq in lookups.items():
            found[word] = counts.get(tsq, 0)
        return found


def _counted(connection, sql, params):
    """The row of a count over the GIN index. A common word is in most entries, where the planner would
    read every row and its vector (18 ms at 3,000 entries); the index answers a plain lexeme exactly
    without them (2 ms): sequential scans are off for this statement (a session setting, put back after
    it, and undone with the transaction if it fails)."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        except Exception:
            if connection.get_autocommit():
                cursor.execute("RESET enable_seqscan")
            raise
        cursor.execute("RESET enable_seqscan")
        return row


SearchBackend = CallbookPgSearchBackend
