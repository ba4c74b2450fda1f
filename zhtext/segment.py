"""Chinese word segmentation with rjieba (HMM off, plus a small user dictionary of customer-service terms).

Text is first normalised (``zhtext.folding.normalize``). Every segmented word gets a real ordinal
position, so phrase queries work. Long words additionally emit their dictionary sub-words (jieba "search
mode") at the *same* position, so ``退款`` finds ``原路退款`` and ``快递`` finds ``快递单``. Tokens
without any letter/digit/CJK character (spaces, punctuation, emoji, control characters) are dropped
without consuming a position.

* ``tokenize(text, subwords=True)`` → ``list[Tok]`` with positions and character offsets (offsets refer
  to ``normalize(text)``, which has the same length as ``text`` for practically all input).
* ``analyze(text)`` → every token (words and their sub-words) as strings, in text order (highlighting).
* ``query_words(text)`` → only the main words, in order: what a query for ``text`` is built from.
"""

import functools
import re
import threading
from typing import NamedTuple

import rjieba

from zhtext.folding import normalize_line

__all__ = ["MAX_TOKEN_LENGTH", "USER_WORDS", "Tok", "analyze", "has_cjk", "query_words", "tokenize"]

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

MAX_TOKEN_LENGTH = 64

_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

_jieba_lock = threading.Lock()
_jieba = None


def _get_jieba():
    """rjieba's own default segmenter, with ``USER_WORDS`` added once.

    Importing rjieba already builds that default segmenter (its dictionary: about 30 MB of every process's
    memory); a ``rjieba.Jieba()`` of our own would build a second copy. Its module functions (``tokenize``,
    ``add_word``, ``suggest_freq``) are the default segmenter's methods, so the module serves as it."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                for word in USER_WORDS:
                    rjieba.add_word(word, max(rjieba.suggest_freq(word), 2000), None)
                _jieba = rjieba
    return _jieba


class Tok(NamedTuple):
    text: str
    pos: int  # ordinal word position (sub-words share their word's position)
    start: int  # character offsets in normalize(text)
    end: int
    sub: bool  # True for a sub-word of a longer word


def has_cjk(text):
    """True when ``text`` contains a CJK ideograph."""
    return bool(_CJK_RE.search(text or ""))


def _is_word_char(ch):
    return ch.isalnum()  # letters, digits and CJK ideographs; not punctuation, spaces, emoji, controls


def tokenize(text, subwords=True):
    """Segment ``text`` into ``Tok`` tuples with ordinal positions (see the module docstring)."""
    if not text:
        return []
    out = []
    pos = 0
    offset = 0
    for line in str(text).split("\n"):
        normalized = normalize_line(line)
        line_tokens = _tokenize_line(normalized, subwords)
        if not pos and not offset:  # the first line: its tokens as they are
            out.extend(line_tokens)
        else:
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
        if word.isalnum():  # the usual word: every character a word character (``_is_word_char``)
            word = word[:MAX_TOKEN_LENGTH]
        elif not any(_is_word_char(ch) for ch in word):
            continue
        else:
            word = "".join(ch for ch in word if _is_word_char(ch))[:MAX_TOKEN_LENGTH]
        out.append(Tok(word, pos, start, end, False))
        if subwords and len(word) > 2 and has_cjk(word):
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
