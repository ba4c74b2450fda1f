"""Highlight the words of a query in titles and snippets.

The query is tokenized with the same analysis the index uses (``zhtext.analyze``), every occurrence of
a token in the text is wrapped in ``<mark>`` and everything else is escaped. Matching is done on
``zhtext.fold(text)`` (full-width → half-width, lowercase, traditional → simplified like
``zhtext.normalize`` but keeping offsets), so ``退款`` marks ``退款`` and ``退款`` and ``EMS`` marks
``ems``, while the original characters are what gets shown.
"""

import re
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import mark_safe

from zhtext import analyze, fold

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
