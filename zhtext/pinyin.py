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

The readings are pypinyin's (``lazy_pinyin``: a run of Chinese characters cut by forward maximum
matching over its phrase table, each phrase read as the table says, other characters by their usual
reading), from two tables made from it by ``zhtext/data/make_pinyin.py`` and kept in a compact form:
pypinyin itself is not imported (its phrase table alone took about 42 MB in every process).
"""

import itertools
import re
from array import array
from functools import lru_cache
from pathlib import Path

from zhtext.function_words import FUNCTION_WORDS
from zhtext.segment import has_cjk, query_words

__all__ = [
    "MAX_LETTERS",
    "MAX_RUN",
    "PinyinLexicon",
    "full_pinyin",
    "fuzzy_syllable",
    "initials",
    "lazy_pinyin",
    "looks_like_pinyin",
    "pinyin_keys",
    "readings",
    "word_syllables",
]

_KEY_RE = re.compile(r"[^a-z0-9]+")

_DATA = Path(__file__).resolve().parent / "data"
# The characters pypinyin reads (its ``RE_HANS``); anything else is kept as it is, a run at a time.
_HANS = (
    r"\u3007\ue815-\ue864\ufa18\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002A6DF"
    r"\U0002A703-\U0002B73F\U0002B740-\U0002B81D\U0002B825-\U0002BF6E\U0002C029-\U0002CE93\U0002D016"
    r"\U0002D11B-\U0002EBD9\U0002F80A-\U0002FA1F\U00030000-\U0003134A\U000300F7-\U00031288\U00030EDD"
    r"\U00030EDE\U00031350-\U00032389"
)
_RUN_RE = re.compile(f"([{_HANS}]+)|[^{_HANS}]+")


def _load_chars():
    """Each character's readings, at most three, the usual first (``pinyin_chars.txt``): the index of
    its tuple of readings in an array by code point (0: none), about 0.5 MB where a dict took 6.5."""
    codes, found = [], {(): 0}
    for line in (_DATA / "pinyin_chars.txt").read_text(encoding="utf-8").splitlines():
        char, *read = line.split()
        codes.append((ord(char), found.setdefault(tuple(map(_syllable, read)), len(found))))
    base = min(code for code, _ in codes)
    table = array("H", bytes(2 * (max(code for code, _ in codes) - base + 1)))
    for code, index in codes:
        table[code - base] = index
    return base, table, list(found)


def _load_phrases():
    """pypinyin's phrases by first character, each group one string (一: ``|丁不识|丁点儿|…|``), and the
    readings of those not read as their characters usually are (``pinyin_phrases.txt``)."""
    groups, phrase_readings = {}, {}
    for line in (_DATA / "pinyin_phrases.txt").read_text(encoding="utf-8").splitlines():
        phrase, *read = line.split()
        groups.setdefault(phrase[0], []).append(phrase[1:])
        if read:
            phrase_readings[phrase] = tuple(map(_syllable, read))
    return {first: f"|{'|'.join(rests)}|" for first, rests in groups.items()}, phrase_readings


_SYLLABLES = {}


def _syllable(syllable):
    return _SYLLABLES.setdefault(syllable, syllable)


_CHAR_BASE, _CHAR_TABLE, _CHAR_READINGS = _load_chars()
_PHRASES, _PHRASE_READINGS = _load_phrases()
_LONGEST = 1 + max(len(rest) for group in _PHRASES.values() for rest in group.split("|"))


def _char_readings(char):
    index = ord(char) - _CHAR_BASE
    return _CHAR_READINGS[_CHAR_TABLE[index]] if 0 <= index < len(_CHAR_TABLE) else ()


def _phrases(run):
    """pypinyin's cut of a run of Chinese characters (``pypinyin.seg.mmseg``): the longest phrase
    its text starts with, else one character; all characters one by one once the rest only starts
    a phrase."""
    while run:
        group = _PHRASES.get(run[0], "")
        for end in range(min(len(run), _LONGEST), 1, -1):
            if f"|{run[1:end]}|" in group:
                yield run[:end]
                run = run[end:]
                break
        else:
            if f"|{run[1:]}" in group:
                yield from run
                return
            yield run[0]
            run = run[1:]


def lazy_pinyin(text, first_letter=False):
    """pypinyin's ``lazy_pinyin(text)`` (toneless; ``first_letter``: its ``Style.FIRST_LETTER``):
    a syllable for each Chinese character (the character itself if it has none), the text between
    them as it is."""
    found = []
    for match in _RUN_RE.finditer(text or ""):
        if not match.group(1):
            found.append(match.group())
            continue
        for phrase in _phrases(match.group()):
            read = _PHRASE_READINGS.get(phrase) or [(_char_readings(c) or (c,))[0] for c in phrase]
            found.extend([s[0] for s in read] if first_letter else read)
    return found


@lru_cache(maxsize=4096)
def _word_keys(word):
    if not has_cjk(word):
        return ()
    full = _KEY_RE.sub("", "".join(lazy_pinyin(word)).lower())
    initials = _KEY_RE.sub("", "".join(lazy_pinyin(word, first_letter=True)).lower())
    return tuple(key for key in (full, initials) if key)


def full_pinyin(text):
    """``投诉处理`` → ``tousuchuli``."""
    return _KEY_RE.sub("", "".join(lazy_pinyin(text)).lower())


def initials(text):
    """``投诉处理`` → ``tscl``."""
    return _KEY_RE.sub("", "".join(lazy_pinyin(text, first_letter=True)).lower())


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
# read and dropped (tousu le), a title character (mang of 忙时); a typed character kept, a known word
# kept, and a typed span of n characters read as a vocabulary word with the same or nearly the same
# sound (n - 1 + the cost).
_FULL, _INITIALS, _FUNCTION, _CHAR = 1.0, 1.6, 1.2, 1.5
# Letters read as words next to each other in a title cost this much less; a few words per key and a
# few readings per position are kept.
_PAIR, _OPTIONS, _STATES = 0.5, 4, 8
_KEEP_CHAR, _KEEP_WORD, _SAME_SOUND, _NEAR_SOUND = 1.0, 0.0, 0.5, 0.75


@lru_cache(maxsize=65536)
def word_syllables(word):
    """``投诉`` → ``("tou", "su")``: a word's toneless pinyin, read in context. Cached: a vocabulary is
    rebuilt from mostly the same words."""
    return tuple(s.lower() for s in lazy_pinyin(word))


def readings(char):
    """Toneless readings of one character, the usual first (``还`` → ``("hai", "huan")``, at most three);
    ``()`` if none."""
    return _char_readings(char) if len(char) == 1 and has_cjk(char) else ()


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
    ``chars`` (single characters of titles, e.g. 忙 and 时 of 忙时接待) may complete a reading of
    letters that has a word; ``pairs`` (words next to each other in a title) are preferred when letters
    read several ways (jtdj: 阶梯电价 of a title rather than 接听 + 登记).
    """

    def __init__(self, words, chars=None, pairs=()):
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
        self.by_char = {}
        for char, frequency in (chars or {}).items():
            syllables = word_syllables(char) if _ONLY_CJK_RE.fullmatch(char) and len(char) == 1 else ()
            if syllables and syllables[0].isalpha():
                _add(self.by_char, syllables[0], char, frequency)
        # Letters read several ways: a few words per key, the most frequent first.
        self._full_options, self._initials_options = {}, {}
        for table, options in (
            (self.by_full, self._full_options),
            (self.by_initials, self._initials_options),
        ):
            for key, found in table.items():
                found.sort(key=lambda item: (-item[0], item[1]))
                options[key] = found[:_OPTIONS]
        for table in (self.by_full, self.by_initials, self.by_syllables, self.by_fuzzy, self.by_char):
            for key, found in table.items():
                found.sort(key=lambda item: (-item[0], item[1]))
                table[key] = found[0]  # (frequency, word): the most frequent word with that key
        self.pairs = frozenset(pairs)
        self.function_keys = frozenset(full_pinyin(word) for word in FUNCTION_WORDS) - {""}

    def _letter_options(self, key, vowels):
        """[(cost, frequency, word or None, is a word)] for one piece of typed letters."""
        if not vowels:
            return (
                [(_INITIALS, f, w, True) for f, w in self._initials_options.get(key, ())]
                if len(key) >= 2
                else []
            )
        options = [(_FULL, f, w, True) for f, w in self._full_options.get(key, ())]
        if key in self.by_char:
            frequency, char = self.by_char[key]
            options.append((_CHAR, frequency, char, False))
        if key in self.function_keys:
            options.append((_FUNCTION, 0, None, False))
        return options

    def read_letters(self, letters):
        """The vocabulary words ``letters`` (a–z only) read as, in order, or ``None``.

        The whole string must be read, with at least one vocabulary word: letters with a vowel as the
        full pinyin of vocabulary words, title characters and function words (dropped), letters without
        one as the initials of vocabulary words (``ts``, ``tscl``); the fewest words, then words next to
        each other in a title, then the most frequent win.
        """
        n = len(letters)
        if not 2 <= n <= MAX_LETTERS or not _PINYIN_RE.fullmatch(letters):
            return None
        vowels = bool(_VOWEL_RE.search(letters))
        # states[i]: {last word: (cost, -frequency, words, has a word)} reading letters[:i]
        states = [{} for _ in range(n + 1)]
        states[0][None] = (0.0, 0, (), False)
        for end in range(1, n + 1):
            found = states[end]
            for start in range(max(0, end - MAX_KEY), end):
                if not states[start]:
                    continue
                options = self._letter_options(letters[start:end], vowels)
                if not options:
                    continue
                for last, (cost, minus_frequency, words, has_word) in states[start].items():
                    for step, frequency, word, is_word in options:
                        if (last, word) in self.pairs:
                            step -= _PAIR
                        candidate = (
                            cost + step,
                            minus_frequency - frequency,
                            (*words, word),
                            has_word or is_word,
                        )
                        key = word if word is not None else last
                        if key not in found or candidate[:2] < found[key][:2]:
                            found[key] = candidate
            if len(found) > _STATES:
                states[end] = dict(sorted(found.items(), key=lambda item: item[1][:2])[:_STATES])
        readings = [state for state in states[n].values() if state[3]]
        if not readings:
            return None
        words = [word for word in min(readings, key=lambda state: state[:2])[2] if word is not None]
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
