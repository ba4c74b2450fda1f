"""Pinyin keys for titles, so agents can type ``tousu`` or ``ts`` and get 投诉 suggestions.

``pinyin_keys("投诉处理流程")`` gives a space-separated string of searchable keys (the content models
expose it as an ``AutocompleteField``):

* each word's full pinyin and initials (``tousu ts chuli cl liucheng lc``), so a key typed for a
  word in the middle of a title matches;
* the whole title's full pinyin and initials run together (``tousuchuliliucheng tscllc``), so
  ``tousuchu`` or ``tscl`` match as prefixes.

Latin letters and digits are kept as they are (lowercased).
"""

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from zhtext.segment import has_cjk, query_words

__all__ = ["full_pinyin", "initials", "looks_like_pinyin", "pinyin_keys"]

_KEY_RE = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def _word_keys(word):
    if not has_cjk(word):
        return ()
    full = _KEY_RE.sub("", "".join(lazy_pinyin(word)).lower())
    initials = _KEY_RE.sub("", "".join(lazy_pinyin(word, style=Style.FIRST_LETTER)).lower())
    return tuple(key for key in (full, initials) if key)


def full_pinyin(text):
    """``投诉处理`` → ``tousuchuli``."""
    return _KEY_RE.sub("", "".join(lazy_pinyin(text or "")).lower())


def initials(text):
    """``投诉处理`` → ``tscl``."""
    return _KEY_RE.sub("", "".join(lazy_pinyin(text or "", style=Style.FIRST_LETTER)).lower())


def pinyin_keys(text):
    """Space-separated pinyin keys for ``text`` (see the module docstring); empty without Chinese."""
    if not has_cjk(text):
        return ""
    keys = []
    for word in query_words(text):
        keys.extend(_word_keys(word))
    keys.extend(key for key in (full_pinyin(text), initials(text)) if key)
    seen = []
    for key in keys:
        if key not in seen:
            seen.append(key)
    return " ".join(seen)


def looks_like_pinyin(query):
    """True when ``query`` is only Latin letters (and spaces), i.e. could be typed pinyin."""
    return bool(query) and bool(re.fullmatch(r"[A-Za-z][A-Za-z ']*", query.strip()))
