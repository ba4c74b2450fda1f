"""您是不是要找: spelling suggestions for a query that found nothing.

The vocabulary is what agents can find: titles of live pages, phrasings and documents, and the tags
on articles and phrasings, split into words with the search analyzer. A query word not in the
vocabulary is replaced by

1. a vocabulary word with the same pinyin (the usual IME slip: 头诉 → 投诉, 推款 → 退款);
2. a vocabulary word whose pinyin or initials match typed Latin letters (tuikuan → 退款);
3. the closest vocabulary word by ``difflib`` similarity (characters, then pinyin).

A whole title close to the whole query is also offered. Only suggestions that find something
are returned.

The vocabulary is also what the results page reads a query as (``search.reading``: pinyin, homophone
typos), through its ``lexicon`` (``zhtext.PinyinLexicon``). It is built once per process and rebuilt
when content is published or changed here (``invalidate_vocabulary``, connected in ``search.apps``) or
in another process (its generation, ``search.caches``), and at least every ``CACHE_SECONDS``.
"""

import difflib
import functools
import itertools
from collections import Counter
from dataclasses import dataclass

from django.db.models.signals import post_delete, post_save
from taggit.models import Tag
from wagtail.models import Page
from wagtail.signals import page_published, page_unpublished

from search import kinds
from search.caches import SharedValue
from zhtext import PinyinLexicon, full_pinyin, has_cjk, is_function_word, normalize, query_words
from zhtext.pinyin import lazy_pinyin

CACHE_SECONDS = 600
MAX_SUGGESTIONS = 3


@dataclass
class Vocabulary:
    words: Counter  # word -> frequency
    titles: list
    lexicon: PinyinLexicon  # the words' pinyin: full, initials, syllables (each key → its most frequent word)


def _vocabulary_texts():
    titles = list(Page.objects.live().filter(depth__gt=2).values_list("title", flat=True))
    for kind in kinds.all_kinds():
        if not kind.is_page:
            titles += list(kind.get_queryset().values_list(kind.title_field, flat=True))
    tags = list(Tag.objects.values_list("name", flat=True))
    return titles, tags


@functools.lru_cache(maxsize=65536)
def _text_words(text):
    # Cached: a rebuild after a publish segments only the titles that changed.
    return tuple(query_words(text))


def build_vocabulary(titles, tags):
    words, chars, pairs = Counter(), Counter(), set()
    for text in list(titles) + list(tags):
        segmented = [word for word in _text_words(text) if not is_function_word(word)]
        for word in segmented:
            if len(word) >= 2 or not has_cjk(word):
                words[word] += 1
            else:
                chars[word] += 1
        pairs.update(itertools.pairwise(segmented))
    unique_titles = list(dict.fromkeys(t for t in titles if t))
    return Vocabulary(words, unique_titles, PinyinLexicon(words, chars, pairs))


# Every search reads its query against the vocabulary: one per process, not unpickled from a cache.
shared_vocabulary = SharedValue(
    lambda: build_vocabulary(*_vocabulary_texts()), ttl=CACHE_SECONDS, name="vocabulary"
)


def get_vocabulary():
    return shared_vocabulary.get()


def invalidate_vocabulary(**kwargs):
    shared_vocabulary.invalidate()


def _correct_word(word, vocabulary):
    if word in vocabulary.words:
        return word
    lexicon = vocabulary.lexicon
    if has_cjk(word):
        same_sound = lexicon.by_full.get(full_pinyin(word))
        if same_sound:
            return same_sound[1]
        # Same sound except tones is already covered; try the closest word by pinyin syllables.
        syllables = " ".join(lazy_pinyin(word))
        candidates = {
            " ".join(key): w for key, (_f, w) in lexicon.by_syllables.items() if len(key) == len(word)
        }
        close = difflib.get_close_matches(syllables, list(candidates), n=1, cutoff=0.75)
        if close:
            return candidates[close[0]]
        close = difflib.get_close_matches(word, list(vocabulary.words), n=1, cutoff=0.5)
        return close[0] if close else None
    letters = word.lower()
    if letters.isalpha():
        for table in (lexicon.by_full, lexicon.by_initials):
            if letters in table:
                return table[letters][1]
        keys = difflib.get_close_matches(letters, list(lexicon.by_full), n=1, cutoff=0.8)
        if keys:
            return lexicon.by_full[keys[0]][1]
    close = difflib.get_close_matches(
        letters, [w for w in vocabulary.words if not has_cjk(w)], n=1, cutoff=0.7
    )
    return close[0] if close else None


def candidates(text, vocabulary):
    """Possible corrections of ``text``, best first (not yet checked for results)."""
    text = normalize(text).strip()
    if not text:
        return []
    found = []
    words = query_words(text)
    corrected = []
    changed = False
    for word in words:
        replacement = _correct_word(word, vocabulary)
        if replacement is None:
            continue  # drop a word nothing resembles
        changed = changed or replacement != word
        corrected.append(replacement)
    if corrected and (changed or len(corrected) < len(words)):
        found.append(" ".join(corrected) if not all(has_cjk(w) for w in corrected) else "".join(corrected))
    found += difflib.get_close_matches(text, vocabulary.titles, n=MAX_SUGGESTIONS, cutoff=0.5)
    return [c for c in dict.fromkeys(found) if c and c != text]


def suggest_corrections(text, has_results, vocabulary=None):
    """Up to three corrections of ``text`` for which ``has_results(candidate)`` is true."""
    vocabulary = vocabulary or get_vocabulary()
    result = []
    for candidate in candidates(text, vocabulary)[: MAX_SUGGESTIONS * 2]:
        if has_results(candidate):
            result.append(candidate)
        if len(result) >= MAX_SUGGESTIONS:
            break
    return result


def connect_signals():
    """Rebuild the vocabulary after anything that changes what agents can find."""
    page_published.connect(invalidate_vocabulary, dispatch_uid="search_vocabulary_published")
    page_unpublished.connect(invalidate_vocabulary, dispatch_uid="search_vocabulary_unpublished")
    # The registered kinds are only known once every app's hooks are loaded, after start-up: the
    # receiver listens to every model and checks the sender when a row changes.
    post_save.connect(_on_row_change, dispatch_uid="search_vocabulary_save")
    post_delete.connect(_on_row_change, dispatch_uid="search_vocabulary_delete")


@functools.cache
def _watched_models():
    """Tags and every registered non-page kind: their rows' titles are in the vocabulary."""
    return frozenset([Tag] + [kind.model for kind in kinds.all_kinds() if not kind.is_page])


def _on_row_change(sender, **kwargs):
    if sender in _watched_models():
        invalidate_vocabulary()
