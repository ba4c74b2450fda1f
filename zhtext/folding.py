"""Normalising and folding text: full-width → half-width (NFKC), traditional → simplified (OpenCC
``t2s`` plus the words it leaves traditional, see ``fix_phrases``), lowercase.

* ``normalize(text)``: the full conversion, run on every text before segmentation (index and query
  alike). The result may differ in length from ``text``.
* ``fold(text)``: the same as far as it keeps every character at its offset, for matching query words
  against the text that is shown (highlighting).

OpenCC converts whole phrases (回覆 → 回复, 瞭解 → 了解) where each character alone stays as it is
(覆, 瞭 are also simplified characters), so both functions convert whole lines, and ``fold`` looks for
such characters too before deciding a text needs no conversion. The bundled tables miss some words
agents meet (接著, 著急, 批覆, 覆核); ``fix_phrases`` completes them after ``t2s``.
"""

import functools
import os
import re
import unicodedata

import opencc
from opencc import OpenCC

__all__ = ["fix_phrases", "fold", "normalize", "normalize_line"]

_t2s = OpenCC("t2s")

# 著 is 着 (zhe, zhao: 接著, 看著, 著急, 著手) except in the words where it is 著 (zhù) in simplified text
# too: t2s keeps it everywhere. These are the zhù words, as they read after t2s.
_ZHU = (
    "著名 著作 著称 著述 著录 著者 著书 著有 著文 显著 卓著 昭著 土著 名著"
    " 原著 巨著 论著 专著 译著 遗著 编著 合著 新著 拙著 大著 力著 撰著"
)
_ZHU_WORDS = frozenset(_ZHU.split())
# Traditional words t2s leaves as they are (same length: ``fold`` keeps offsets), as they read after t2s.
_EXTRA_PHRASES = {
    "批覆": "批复",
    "覆核": "复核",
    "覆查": "复查",
    "覆审": "复审",
    "覆诊": "复诊",
    "覆议": "复议",
    "覆函": "复函",
    "甚么": "什么",
}
_EXTRA_RE = re.compile("|".join(map(re.escape, _EXTRA_PHRASES)))


def _fix_zhe(text):
    chars = list(text)
    for index, char in enumerate(chars):
        if char != "著":
            continue
        before = text[index - 1 : index + 1] if index else ""
        after = text[index : index + 2]
        if before not in _ZHU_WORDS and after not in _ZHU_WORDS:
            chars[index] = "着"
    return "".join(chars)


def fix_phrases(text):
    """After ``t2s``: the traditional words it leaves (接著 → 接着, 批覆 → 批复). Keeps the length."""
    if "著" in text:
        text = _fix_zhe(text)
    if "覆" in text or "甚" in text:
        text = _EXTRA_RE.sub(lambda match: _EXTRA_PHRASES[match.group()], text)
    return text


def normalize(text):
    """NFKC (full-width → half-width), traditional → simplified, lowercase. Never raises on str input.

    Works line by line (segmentation never crosses a line break), with a cache: indexing runs the same
    text through several fields.
    """
    if not text:
        return ""
    return "\n".join(normalize_line(line) for line in str(text).split("\n"))


@functools.lru_cache(maxsize=1024)
def normalize_line(line):
    """``normalize`` for one line (no ``\\n`` in ``line``)."""
    line = unicodedata.normalize("NFKC", line)
    # Control characters and surrogates would only confuse the segmenter (a printable line has none).
    if not line.isprintable():
        line = "".join(ch if unicodedata.category(ch)[0] != "C" or ch == "\t" else " " for ch in line)
    # t2s is pure Python and slow; it changes only a line with a character it converts alone or in one
    # of its phrases (most lines are simplified already: an index rebuild spent a third of its analysis
    # time here).
    if _has_traditional(line):
        line = _t2s.convert(line)
    return fix_phrases(line).lower()


def _phrase_characters():
    """Characters t2s converts inside a phrase but not alone (覆 in 回覆, 瞭 in 瞭解), from its tables."""
    found = {"著"} | {char for phrase in _EXTRA_PHRASES for char in phrase if char in "覆甚"}
    path = os.path.join(os.path.dirname(opencc.__file__), "dictionary", "TSPhrases.txt")
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                traditional, _, simplified = line.rstrip("\n").partition("\t")
                simplified = simplified.split(" ")[0]
                # A phrase with a character t2s changes alone (沒 in 沈沒) is converted anyway.
                if len(traditional) != len(simplified):
                    continue
                if any(_t2s.convert(char) != char for char in traditional):
                    continue
                found.update(c for c, t in zip(traditional, simplified, strict=True) if c != t)
    except OSError:  # another OpenCC build: the characters seen in practice
        found |= set("覆瞭")
    return frozenset(found)


_PHRASE_CHARACTERS = _phrase_characters()

# Characters already checked, and those of them t2s changes on its own (訴 → 诉). Set operations keep
# the check for simplified text (no such character) cheap; a race at worst checks a character twice.
_checked = set()
_changed_by_t2s = set()


def _has_traditional(text):
    chars = set(text)
    for char in chars - _checked:
        if _t2s.convert(char) != char:
            _changed_by_t2s.add(char)
        _checked.add(char)
    return not _changed_by_t2s.isdisjoint(chars) or not _PHRASE_CHARACTERS.isdisjoint(chars)


@functools.lru_cache(maxsize=4096)
def fold(text):
    """Full-width → half-width, lowercase and traditional → simplified, keeping offsets.

    Cached: the same titles and snippet texts are folded search after search.

    Query terms are fully normalised (``normalize``); this folds the shown text the same way as far as
    that keeps every character at its offset. t2s is slow on long texts, so it runs only on text with a
    character it changes alone (訴) or inside a phrase (覆 in 回覆): not on simplified text, the usual
    case. If the conversion changes the length (a phrase converted to a shorter or longer one), the text
    is matched without it.
    """
    # is_normalized is a much cheaper check than normalising, and true for almost all text.
    normalized = text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)
    folded = normalized.lower()
    # NFKC can change the length (ligatures, circled numbers); then match case-insensitively only.
    if len(folded) != len(text):
        folded = text.lower()
    if not folded.isascii() and _has_traditional(folded):
        converted = fix_phrases(_t2s.convert(folded))
        if len(converted) == len(folded):
            return converted
    return folded
