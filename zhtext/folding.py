"""Normalising and folding text: full-width → half-width (NFKC), traditional → simplified (OpenCC
``t2s``), lowercase.

* ``normalize(text)``: the full conversion, run on every text before segmentation (index and query
  alike). The result may differ in length from ``text``.
* ``fold(text)``: the same as far as it keeps every character at its offset, for matching query words
  against the text that is shown (highlighting).
"""

import functools
import unicodedata

from opencc import OpenCC

__all__ = ["fold", "normalize", "normalize_line"]

_t2s = OpenCC("t2s")


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
    # Control characters and surrogates would only confuse the segmenter.
    line = "".join(ch if unicodedata.category(ch)[0] != "C" or ch == "\t" else " " for ch in line)
    return _t2s.convert(line).lower()


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
    return not _changed_by_t2s.isdisjoint(chars)


@functools.lru_cache(maxsize=4096)
def fold(text):
    """Full-width → half-width, lowercase and traditional → simplified, keeping offsets.

    Cached: the same titles and snippet texts are folded search after search.

    Query terms are fully normalised (``normalize``); this folds the shown text the same way as far as
    that keeps every character at its offset. t2s is slow on long texts, so it runs only on text with a
    character it changes on its own: not on simplified text, the usual case (a traditional phrase made
    only of characters t2s keeps alone, like 回覆 → 回复, is then missed). If the conversion changes the
    length (a phrase converted to a shorter or longer one), the text is matched without it.
    """
    # is_normalized is a much cheaper check than normalising, and true for almost all text.
    normalized = text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)
    folded = normalized.lower()
    # NFKC can change the length (ligatures, circled numbers); then match case-insensitively only.
    if len(folded) != len(text):
        folded = text.lower()
    if not folded.isascii() and _has_traditional(folded):
        converted = _t2s.convert(folded)
        if len(converted) == len(folded):
            return converted
    return folded
