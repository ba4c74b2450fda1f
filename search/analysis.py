"""Chinese text analysis shared by indexing, querying and highlighting.

A plain module (no Django models). The same pipeline runs at index and query time:

1. ``normalize``: NFKC (full-width → half-width), traditional → simplified Chinese (OpenCC ``t2s``),
   lowercase.
2. Segmentation with rjieba (HMM off, plus a small user dictionary of customer-service terms).
   Every segmented word gets a real ordinal position, so phrase queries work. Long words additionally
   emit their dictionary sub-words (jieba "search mode") at the *same* position, so ``退款`` finds
   ``原路退款`` and ``快递`` finds ``快递单``.
3. Tokens without any letter/digit/CJK character (spaces, punctuation, emoji, control characters) are
   dropped without consuming a position.

Public API:

* ``analyze(text)`` → ``list[str]``: every token (words and their sub-words), in text order. Use it for
  highlighting.
* ``query_words(text)`` → ``list[str]``: only the main words (no sub-words), in order; what a query for
  ``text`` is built from.
* ``tokenize(text, subwords=True)`` → ``list[Tok]`` with positions and character offsets (offsets refer
  to ``normalize(text)``, which has the same length as ``text`` for practically all input).
* ``normalize(text)`` → ``str``.
* ``ChineseAnalyzer()`` / ``AutocompleteAnalyzer()``: Whoosh analyzers used by the search backend.
* ``ANALYZER_VERSION``: changes whenever analysis output can change; it is part of the index name, so a
  change forces a rebuild.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import threading
import unicodedata
from typing import NamedTuple

import rjieba
from opencc import OpenCC
from whoosh.analysis import Token, Tokenizer

__all__ = [
    "ANALYZER_VERSION",
    "USER_WORDS",
    "AutocompleteAnalyzer",
    "ChineseAnalyzer",
    "ChineseTokenizer",
    "ShingleAnalyzer",
    "Tok",
    "analyze",
    "normalize",
    "query_words",
    "shingle",
    "tokenize",
]

# Domain terms for customer-service knowledge. Each is kept as one word (and its dictionary sub-words
# are still emitted at the same position).
USER_WORDS = (
    "投诉",
    "客诉",
    "少货",
    "错货",
    "漏发",
    "补发",
    "回访",
    "工单",
    "坐席",
    "转接",
    "升级",
    "话术",
    "标准话术",
    "退款",
    "原路退款",
    "原路返回",
    "退换货",
    "快递单",
    "快递单号",
    "物流单",
    "出库单",
    "面单",
    "运单号",
    "催单",
    "签收",
    "拒收",
    "质检",
    "安抚",
    "致歉",
    "赔付",
    "理赔",
    "客服",
    "来电",
    "外呼",
    "满意度",
)

# Bump the first part when the pipeline itself changes.
_PIPELINE_VERSION = "2"


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

MAX_TOKEN_LENGTH = 64
MAX_NGRAM = 15
MAX_SHINGLE_FANOUT = 4

_cc = OpenCC("t2s")
_jieba_lock = threading.Lock()
_jieba = None


def _get_jieba():
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                jb = rjieba.Jieba()
                for word in USER_WORDS:
                    jb.add_word(word, max(jb.suggest_freq(word), 2000), None)
                _jieba = jb
    return _jieba


class Tok(NamedTuple):
    text: str
    pos: int  # ordinal word position (sub-words share their word's position)
    start: int  # character offsets in normalize(text)
    end: int
    sub: bool  # True for a sub-word of a longer word


def _is_word_char(ch):
    return ch.isalnum()  # letters, digits and CJK ideographs; not punctuation, spaces, emoji, controls


def normalize(text):
    """NFKC (full-width → half-width), traditional → simplified, lowercase. Never raises on str input.

    Works line by line (segmentation never crosses a line break), with a cache: indexing runs the same
    text through several fields.
    """
    if not text:
        return ""
    return "\n".join(_normalize_line(line) for line in str(text).split("\n"))


@functools.lru_cache(maxsize=1024)
def _normalize_line(line):
    line = unicodedata.normalize("NFKC", line)
    # Control characters and surrogates would only confuse the segmenter.
    line = "".join(ch if unicodedata.category(ch)[0] != "C" or ch == "\t" else " " for ch in line)
    return _cc.convert(line).lower()


def _has_cjk(word):
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in word)


def tokenize(text, subwords=True):
    """Segment ``text`` into ``Tok`` tuples with ordinal positions (see module docstring)."""
    if not text:
        return []
    out = []
    pos = 0
    offset = 0
    for line in str(text).split("\n"):
        normalized = _normalize_line(line)
        line_tokens = _tokenize_line(normalized, subwords)
        for tok in line_tokens:
            out.append(Tok(tok.text, pos + tok.pos, offset + tok.start, offset + tok.end, tok.sub))
        if line_tokens:
            pos += line_tokens[-1].pos + 1
        offset += len(normalized) + 1
    return out


# Small caches: they serve the same document's text being indexed into several fields, one after the other.
@functools.lru_cache(maxsize=256)
def _tokenize_line(norm, subwords):
    if not norm.strip():
        return ()
    jb = _get_jieba()
    out = []
    pos = 0
    for word, start, end in jb.tokenize(norm, mode="default", hmm=False):
        if not any(_is_word_char(ch) for ch in word):
            continue
        word = "".join(ch for ch in word if _is_word_char(ch))[:MAX_TOKEN_LENGTH]
        out.append(Tok(word, pos, start, end, False))
        if subwords and len(word) > 2 and _has_cjk(word):
            seen = {word}
            for sub, s_start, s_end in jb.tokenize(word, mode="search", hmm=False):
                if sub in seen or len(sub) < 2:
                    continue
                seen.add(sub)
                out.append(Tok(sub, pos, start + s_start, start + s_end, True))
        pos += 1
    return tuple(out)


def analyze(text):
    """All tokens of ``text`` (words and their sub-words) as strings, in text order."""
    return [tok.text for tok in tokenize(text)]


def query_words(text):
    """Only the main words of ``text``, in order (what queries are built from)."""
    return [tok.text for tok in tokenize(text, subwords=False)]


SHINGLE_JOINER = "_"  # never inside a token: tokens are letters, digits and ideographs only


def shingle(first, second):
    """The term indexed for two adjacent words (see ``ChineseTokenizer(shingles=True)``)."""
    return f"{first}{SHINGLE_JOINER}{second}"


class ChineseTokenizer(Tokenizer):
    """Whoosh tokenizer running ``tokenize()``. Emits sub-words only when indexing.

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
        indexing = mode != "query"
        shingles = indexing and getattr(self, "shingles", False)
        previous, current = [], []  # tokens at the previous and the current position
        for tok in _tokenize_for_whoosh(value, subwords=indexing):
            texts = [tok.text]
            if self.edge_ngrams and indexing:
                texts = [tok.text[:n] for n in range(1, min(len(tok.text), MAX_NGRAM) + 1)]
                if len(tok.text) > MAX_NGRAM:
                    texts.append(tok.text)
            if shingles:
                if current and current[0].pos != tok.pos:
                    previous, current = current, []
                current.append(tok)
                # Pair words that touch: the previous word (or its sub-words ending where it ends) with
                # this word (or its sub-words starting where it starts).
                if previous and previous[0].pos == tok.pos - 1 and tok.start == current[0].start:
                    left = [prev for prev in previous if prev.end == previous[0].end][:MAX_SHINGLE_FANOUT]
                    texts.extend(shingle(prev.text, tok.text) for prev in left)
            for text in texts:
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
