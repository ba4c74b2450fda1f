"""Highlight the words of a query in titles and snippets.

A plain module: the query is tokenized with the same analyzer the index uses
(``search.analysis.analyze``), every occurrence of a token in the text is wrapped in ``<mark>`` and
everything else is escaped. Matching is done on ``fold(text)`` (full-width → half-width, lowercase,
traditional → simplified like ``analysis.normalize`` but keeping offsets), so ``退款`` marks ``退款`` and
``退款`` and ``EMS`` marks ``ems``, while the original characters are what gets shown.
"""

import re
import unicodedata
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import mark_safe

from search.analysis import _cc as _t2s
from search.analysis import analyze

MAX_TERMS = 32


def query_terms(*queries):
    """Distinct analyzed tokens of one or more query strings, longest first (so longer words win)."""
    terms = set()
    for query in queries:
        for token in analyze(query or ""):
            if token.strip():
                terms.add(token)
    return tuple(sorted(terms, key=lambda t: (-len(t), t))[:MAX_TERMS])


@lru_cache(maxsize=512)
def _pattern(terms):
    if not terms:
        return None
    return re.compile("|".join(re.escape(term) for term in terms))


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


@lru_cache(maxsize=4096)
def fold(text):
    """Full-width → half-width, lowercase and traditional → simplified, keeping offsets.

    Cached: the same titles and snippet texts (``search.results.page_text``) are folded search after
    search.

    Query terms are fully normalised (``analysis.normalize``); this folds the shown text the same
    way as far as that keeps every character at its offset. t2s is slow on long texts, so it runs
    only on text with a character it changes on its own: not on simplified text, the usual case (a
    traditional phrase made only of characters t2s keeps alone, like 回覆 → 回复, is then missed). If
    the conversion changes the length (a phrase converted to a shorter or longer one), the text is
    matched without it.
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


def _spans(text, terms):
    """Non-overlapping (start, end) character spans of ``terms`` in ``text``."""
    pattern = _pattern(tuple(terms))
    if pattern is None or not text:
        return []
    return [match.span() for match in pattern.finditer(fold(text)) if match.end() > match.start()]


def _first_hit(text, terms):
    pattern = _pattern(tuple(terms))
    if pattern is None or not text:
        return None
    match = pattern.search(fold(text))
    return match.start() if match else None


def highlight(text, terms):
    """``text`` escaped, with every occurrence of ``terms`` wrapped in ``<mark>``."""
    text = text or ""
    out = []
    last = 0
    for start, end in _spans(text, terms):
        out.append(escape(text[last:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        last = end
    out.append(escape(text[last:]))
    return mark_safe("".join(out))


def snippet(text, terms, length=120):
    """A window of about ``length`` characters of ``text`` around the first hit, highlighted.

    Without a hit the start of the text is shown. Whitespace runs are collapsed first.
    """
    text = re.sub(r"\s+", " ", text or "").strip()
    if not text:
        return mark_safe("")
    first = _first_hit(text, terms) if len(text) > length else None
    if first is not None:
        start = max(0, first - length // 4)
        end = min(len(text), start + length)
        start = max(0, min(start, end - length))
    else:
        start, end = 0, min(len(text), length)
    window = text[start:end]
    html = str(highlight(window, terms))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(f"{prefix}{html}{suffix}")


def has_hit(text, terms):
    return _first_hit(text or "", terms) is not None
