"""Text analysis for the search index: Whoosh analyzers built on ``zhtext``.

Indexing and querying run the same ``zhtext`` pipeline (normalise, segment; see ``zhtext.segment``):

* ``ChineseAnalyzer()``: full-text fields (words, plus their sub-words when indexing);
* ``ShingleAnalyzer()``: the catch-all fields, which also index a term per pair of adjacent words;
* ``AutocompleteAnalyzer()``: autocomplete fields (every token plus its edge n-grams);
* ``ANALYZER_VERSION``: changes whenever analysis output can change; it is part of the index name, so a
  change forces a rebuild.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from typing import NamedTuple

from whoosh.analysis import Token, Tokenizer

from zhtext import USER_WORDS, normalize, tokenize

__all__ = [
    "ANALYZER_VERSION",
    "SHINGLE_JOINER",
    "AutocompleteAnalyzer",
    "ChineseAnalyzer",
    "ChineseTokenizer",
    "ShingleAnalyzer",
    "index_counts",
    "index_positions",
    "index_terms",
    "shingle",
]

# Bump the first part when the pipeline itself changes (zhtext normalisation or segmentation, or the
# tokenizer below).
_PIPELINE_VERSION = "3"


def _package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "?"


# The segmenter's dictionary and the conversion tables come with the packages: their versions count too.
_VERSION_INPUTS = "\n".join(
    [*USER_WORDS, _package_version("rjieba"), _package_version("opencc-python-reimplemented")]
)
ANALYZER_VERSION = "a" + _PIPELINE_VERSION + hashlib.sha1(_VERSION_INPUTS.encode()).hexdigest()[:6]

MAX_NGRAM = 15
MAX_SHINGLE_FANOUT = 4

SHINGLE_JOINER = "_"  # never inside a token: tokens are letters, digits and ideographs only


def shingle(first, second):
    """The term indexed for two adjacent words (see ``ChineseTokenizer(shingles=True)``)."""
    return f"{first}{SHINGLE_JOINER}{second}"


class ChineseTokenizer(Tokenizer):
    """Whoosh tokenizer running ``zhtext.tokenize()``. Emits sub-words only when indexing.

    ``edge_ngrams``: also emit every token's prefixes (autocomplete fields).
    ``shingles``: also emit a term for each pair of adjacent words (``客户_投诉``, sub-words included), so
    "these words next to each other" is a cheap term lookup instead of a positional phrase match.
    """

    def __init__(self, edge_ngrams=False, shingles=False):
        self.edge_ngrams = edge_ngrams
        self.shingles = shingles

    def _options(self):
        return (self.edge_ngrams, getattr(self, "shingles", False))

    def __eq__(self, other):
        return type(self) is type(other) and self._options() == other._options()

    def __hash__(self):
        return hash((type(self), self._options()))

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = normalize(value)
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return
        for text, tok in _emitted(value, mode != "query", self.edge_ngrams, getattr(self, "shingles", False)):
            t.text = text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = text
            if positions:
                t.pos = start_pos + tok.pos
            if chars:
                t.startchar = start_char + tok.start
                t.endchar = start_char + tok.end
            yield t


def _emitted(value, indexing, edge_ngrams, shingles):
    """``(term, zhtext.Tok)`` for every token ``ChineseTokenizer`` emits, in order."""
    return _emitted_from(_tokenize_for_whoosh(value, subwords=indexing), indexing, edge_ngrams, shingles)


def _emitted_from(toks, indexing, edge_ngrams, shingles):
    shingles = indexing and shingles
    edge_ngrams = indexing and edge_ngrams
    previous, current = [], []  # tokens at the previous and the current position
    for tok in toks:
        text = tok.text
        if edge_ngrams:
            for n in range(1, min(len(text), MAX_NGRAM) + 1):
                yield text[:n], tok
            if len(text) > MAX_NGRAM:
                yield text, tok
        else:
            yield text, tok
        if shingles:
            if current and current[0].pos != tok.pos:
                previous, current = current, []
            current.append(tok)
            # Pair words that touch: the previous word (or its sub-words ending where it ends) with
            # this word (or its sub-words starting where it starts).
            if previous and previous[0].pos == tok.pos - 1 and tok.start == current[0].start:
                end = previous[0].end
                left = [prev for prev in previous if prev.end == end][:MAX_SHINGLE_FANOUT]
                for prev in left:
                    yield shingle(prev.text, text), tok


def index_terms(value, edge_ngrams=False, shingles=False):
    """``[(term, position)]`` that ``ChineseTokenizer(edge_ngrams, shingles)`` indexes for ``value``, in
    order, without Whoosh's token objects."""
    return [(text, tok.pos) for text, tok in _emitted(value, True, edge_ngrams, shingles)]


class _Line(NamedTuple):
    """What one line (no ``\n``) of a text contributes to the index (``_line_index``)."""

    positions: int  # word positions the line takes
    size: int  # terms (words and sub-words, or their edge n-grams)
    counts: dict  # {term bytes: frequency}
    poses: dict  # {term bytes: (position in the line, ...)}
    shingles: dict  # {shingle bytes: frequency} of the words touching inside the line (not n-grams)
    first: tuple  # the first word and its sub-words starting where it starts (right of a shingle)
    last: tuple  # the last word and its sub-words ending where it ends (left of a shingle)


# A rebuild indexes the same lines in several fields one after the other (a body in its own field and
# in the catch-all field, a title in four): a small cache is enough.
@functools.lru_cache(maxsize=1024)
def _line_index(line, edge_ngrams):
    """Terms of one line as ``ChineseTokenizer`` indexes them (``_emitted``), counted: words and
    sub-words (or their edge n-grams) with their positions, and separately the shingles."""
    toks = tokenize(line)
    if not toks:
        return None
    counts, poses, shingles = {}, {}, {}
    size = 0
    for tok in toks:
        text = tok.text
        if edge_ngrams:
            texts = [text[:n] for n in range(1, min(len(text), MAX_NGRAM) + 1)]
            if len(text) > MAX_NGRAM:
                texts.append(text)
        else:
            texts = (text,)
        for text in texts:
            key = text.encode("utf-8")
            size += 1
            found = poses.get(key)
            if found is None:
                poses[key] = [tok.pos]
                counts[key] = 1
            else:
                found.append(tok.pos)
                counts[key] += 1
    if not edge_ngrams:
        for text, _tok in _emitted_from(toks, True, False, True):
            if SHINGLE_JOINER in text:  # never inside a word
                key = text.encode("utf-8")
                shingles[key] = shingles.get(key, 0) + 1
    last_pos = toks[-1].pos
    first = [tok for tok in toks if tok.pos == 0]
    last = [tok for tok in toks if tok.pos == last_pos]
    return _Line(
        last_pos + 1,
        size,
        counts,
        {key: tuple(found) for key, found in poses.items()},
        shingles,
        tuple(tok.text for tok in first if tok.start == first[0].start),
        tuple(tok.text for tok in last if tok.end == last[0].end)[:MAX_SHINGLE_FANOUT],
    )


def index_counts(value, edge_ngrams=False, shingles=False):
    """``({term bytes: frequency}, length)``: the terms ``ChineseTokenizer(edge_ngrams, shingles)``
    indexes for ``value`` (as ``index_terms``), counted line by line through a cache (a rebuild's bulk
    writer, ``search.backend.bulk``). Length is the number of terms, as Whoosh counts a field's length."""
    counts = {}
    left = ()
    for line in value.split("\n"):
        found = _line_index(line, edge_ngrams)
        if found is None:
            continue
        parts = (found.counts, found.shingles) if shingles and not edge_ngrams else (found.counts,)
        for part in parts:
            if not counts:
                counts = dict(part)
                continue
            for key, count in part.items():
                counts[key] = counts.get(key, 0) + count
        if shingles and not edge_ngrams and left:  # words touch across a line break, as in ``tokenize``
            for right in found.first:
                for prev in left:
                    key = shingle(prev, right).encode("utf-8")
                    counts[key] = counts.get(key, 0) + 1
        left = found.last
    return counts, sum(counts.values())


def index_positions(value, edge_ngrams=False):
    """``({term bytes: [positions]}, length)`` for ``ChineseTokenizer(edge_ngrams)`` (no shingles), line
    by line through the cache of ``index_counts``."""
    poses = {}
    offset = 0
    length = 0
    for line in value.split("\n"):
        found = _line_index(line, edge_ngrams)
        if found is None:
            continue
        for key, found_poses in found.poses.items():
            known = poses.get(key)
            if known is None:
                poses[key] = [pos + offset for pos in found_poses] if offset else list(found_poses)
            elif offset:
                known.extend(pos + offset for pos in found_poses)
            else:
                known.extend(found_poses)
        length += found.size
        offset += found.positions
    return poses, length


def _tokenize_for_whoosh(value, subwords):
    # Whoosh passes a keyword argument named ``tokenize``, which shadows the module function there.
    return tokenize(value, subwords=subwords)


def ChineseAnalyzer():  # noqa: N802 (mirrors whoosh's analyzer factory naming)
    """Analyzer for full-text fields."""
    return ChineseTokenizer()


def ShingleAnalyzer():  # noqa: N802
    """Analyzer for the catch-all full-text fields: like ChineseAnalyzer plus adjacent-word shingles."""
    return ChineseTokenizer(shingles=True)


def AutocompleteAnalyzer():  # noqa: N802
    """Analyzer for autocomplete fields: every token plus its edge n-grams (1–15 characters)."""
    return ChineseTokenizer(edge_ngrams=True)
