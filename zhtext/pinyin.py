"""Pinyin keys for titles, so agents can type ``tousu`` or ``ts`` and get 投诉 suggestions.

``pinyin_keys("投诉处理流程")`` gives a space-separated string of searchable keys (the content models
expose it as an ``AutocompleteField``):

* each word's full pinyin and initials (``tousu ts chuli cl liucheng lc``), so a key typed for a
  word in the middle of a title matches;
* the whole title's full pinyin and initials run together (``tousuchuliliucheng tscllc``), so
  ``tousuchu`` or ``tscl`` match as prefixes.

Latin letters and digits are kept as they are (lowercased).

Reading what was typed (the results page searches what a query reads as, ``search.reading``):

* ``PinyinLexicon(words)``: the pinyin of a vocabulary (word → frequency);
  ``read_letters("tousuchuli")`` segments typed letters into its words (``["投诉", "处理"]``; full
  pinyin or initials, function words such as ``le`` or ``zenmeban`` dropped) and
  ``homophones("投诉处里", known)`` finds the spans of Chinese text not made of known words that sound
  like a vocabulary word (``[(2, 4, "处理")]``), both by dynamic programming bounded by
  ``MAX_LETTERS`` / ``MAX_RUN`` (hostile input stays cheap);
* ``readings(char)``: a character's toneless readings; ``fuzzy_syllable``: the usual IME and accent
  confusions folded (zh/z, ch/c, sh/s, n/l, -ng/-n).
"""

import itertools
import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin

from zhtext.function_words import FUNCTION_WORDS
from zhtext.segment import has_cjk, query_words

__all__ = [
    "MAX_LETTERS",
    "MAX_RUN",
    "PinyinLexicon",
    "full_pinyin",
    "fuzzy_syllable",
    "initials",
    "looks_like_pinyin",
    "pinyin_keys",
    "readings",
    "word_syllables",
]

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


# Bounds of the readings' dynamic programming: letters read as pinyin at once, the longest key tried,
# Chinese characters read at once, the longest word tried.
MAX_LETTERS = 60
MAX_KEY = 30
MAX_RUN = 60
MAX_WORD = 6
_PINYIN_RE = re.compile(r"[a-z]+")
_VOWEL_RE = re.compile(r"[aeiouv]")
_ONLY_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")

# Costs (lower wins): a vocabulary word read from its full pinyin, from its initials, a function word
# read and dropped (tousu le); a typed character kept, a known word kept, and a typed span of n
# characters read as a vocabulary word with the same or nearly the same sound (n - 1 + the cost).
_FULL, _INITIALS, _FUNCTION = 1.0, 1.6, 1.2
_KEEP_CHAR, _KEEP_WORD, _SAME_SOUND, _NEAR_SOUND = 1.0, 0.0, 0.5, 0.75


@lru_cache(maxsize=65536)
def word_syllables(word):
    """``投诉`` → ``("tou", "su")``: a word's toneless pinyin, read in context. Cached: a vocabulary is
    rebuilt from mostly the same words."""
    return tuple(s.lower() for s in lazy_pinyin(word))


@lru_cache(maxsize=8192)
def readings(char):
    """Toneless readings of one character, the usual first (``还`` → ``("hai", "huan")``); ``()`` if none."""
    if not has_cjk(char):
        return ()
    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    return tuple(dict.fromkeys(r.lower() for r in (found[0] if found else ()) if r.isalpha()))[:3]


_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FUZZY_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))


@lru_cache(maxsize=4096)
def fuzzy_syllable(syllable):
    """``shi`` → ``si``, ``neng`` → ``len``: the confusions fuzzy-pinyin input methods accept."""
    for long, short in _FUZZY_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in _FUZZY_FINALS:
        if syllable.endswith(long):
            return syllable[: -len(long)] + short
    return syllable


def _add(table, key, word, frequency):
    table.setdefault(key, []).append((frequency, word))


class PinyinLexicon:
    """The pinyin of a vocabulary, for reading typed letters and homophone typos (see the module doc).

    ``words`` maps each word to its frequency; Chinese words of 2 to ``MAX_WORD`` characters are read.
    """

    def __init__(self, words):
        self.by_full, self.by_initials, self.by_syllables, self.by_fuzzy = {}, {}, {}, {}
        for word, frequency in words.items():
            if not (2 <= len(word) <= MAX_WORD and _ONLY_CJK_RE.fullmatch(word)):
                continue
            syllables = word_syllables(word)
            if not all(s.isalpha() for s in syllables):
                continue
            for table, key in (
                (self.by_full, "".join(syllables)),
                (self.by_initials, "".join(s[0] for s in syllables)),
                (self.by_syllables, syllables),
                (self.by_fuzzy, tuple(map(fuzzy_syllable, syllables))),
            ):
                _add(table, key, word, frequency)
        for table in (self.by_full, self.by_initials, self.by_syllables, self.by_fuzzy):
            for key, found in table.items():
                found.sort(key=lambda item: (-item[0], item[1]))
                table[key] = found[0]  # (frequency, word): the most frequent word with that key
        self.function_keys = frozenset(full_pinyin(word) for word in FUNCTION_WORDS) - {""}

    def read_letters(self, letters):
        """The vocabulary words ``letters`` (a–z only) read as, in order, or ``None``.

        The whole string must be read, with at least one vocabulary word: letters with a vowel as the
        full pinyin of vocabulary words and of function words (dropped), letters without one as the
        initials of vocabulary words (``ts``, ``tscl``); the fewest, then most frequent, words win.
        """
        n = len(letters)
        if not 2 <= n <= MAX_LETTERS or not _PINYIN_RE.fullmatch(letters):
            return None
        by_full, function_keys, by_initials = self.by_full, self.function_keys, {}
        if not _VOWEL_RE.search(letters):
            by_full, function_keys, by_initials = {}, frozenset(), self.by_initials
        # best[i]: (cost, -frequency, words) reading letters[:i]
        best = [None] * (n + 1)
        best[0] = (0.0, 0, ())
        for end in range(1, n + 1):
            for start in range(max(0, end - MAX_KEY), end):
                if best[start] is None:
                    continue
                cost, minus_frequency, words = best[start]
                key = letters[start:end]
                options = []
                if key in by_full:
                    options.append((_FULL, by_full[key]))
                if len(key) >= 2 and key in by_initials:
                    options.append((_INITIALS, by_initials[key]))
                if key in function_keys:
                    options.append((_FUNCTION, (0, None)))
                for step, (frequency, word) in options:
                    candidate = (cost + step, minus_frequency - frequency, (*words, word))
                    if best[end] is None or candidate[:2] < best[end][:2]:
                        best[end] = candidate
        if best[n] is None:
            return None
        words = [word for word in best[n][2] if word is not None]
        return words or None

    def homophones(self, text, known):
        """``[(start, end, word)]``: spans of ``text`` read as a vocabulary word that sounds the same.

        Only spans not made of known words (``known(word)``, e.g. the vocabulary) are read, and only
        when the reading costs less than keeping the typed characters (see the costs above): 投诉处里
        keeps 投诉 and reads 处里 as 处理. Only runs of Chinese characters are read, the first ``MAX_RUN``
        characters of them.
        """
        found = []
        left = MAX_RUN
        for match in _ONLY_CJK_RE.finditer(text):
            if left <= 0:
                break
            run = match.group()[:left]
            left -= len(run)
            for start, end, word in self._run_homophones(run, known):
                found.append((match.start() + start, match.start() + end, word))
        return found

    def _run_homophones(self, run, known):
        n = len(run)
        # best[i]: (cost, -frequency, replacements) for run[:i]
        best = [None] * (n + 1)
        best[0] = (0.0, 0, ())
        for end in range(1, n + 1):
            for start in range(max(0, end - MAX_WORD), end):
                if best[start] is None:
                    continue
                cost, minus_frequency, replaced = best[start]
                span = run[start:end]
                options = []
                if len(span) == 1:
                    options.append((_KEEP_CHAR, 0, None))
                elif known(span):
                    options.append((_KEEP_WORD, 0, None))
                elif not all(char in FUNCTION_WORDS for char in span):
                    options += self._sound_alikes(span)
                for step, frequency, word in options:
                    more = replaced if word is None else (*replaced, (start, end, word))
                    candidate = (cost + step, minus_frequency - frequency, more)
                    if best[end] is None or candidate[:2] < best[end][:2]:
                        best[end] = candidate
        return list(best[n][2]) if best[n] is not None else []

    def _sound_alikes(self, span):
        """[(cost, frequency, word)]: the vocabulary words that sound like ``span`` (other than it)."""
        choices = [readings(char) for char in span]
        if not all(choices):
            return []
        choices = [c[:2] for c in choices]  # the usual reading and one more: at most 64 combinations
        options = []
        for syllables in itertools.product(*choices):
            for table, key, cost in (
                (self.by_syllables, syllables, _SAME_SOUND),
                (self.by_fuzzy, tuple(map(fuzzy_syllable, syllables)), _NEAR_SOUND),
            ):
                frequency, word = table.get(key, (0, None))
                if word is not None and word != span:
                    options.append((len(span) - 1 + cost, frequency, word))
        return options
