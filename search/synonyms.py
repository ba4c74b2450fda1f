"""Turn what an agent typed into a search query object, expanding trainer-managed synonyms.

Synonyms are applied at query time, so editing a ``SynonymGroup`` takes effect on the next search
without reindexing. Each query word becomes ``Or(word, word with the synonym swapped in, …)``; the
words are combined with ``And``. Quoted text becomes a ``Phrase``. Words without any letter, digit
or Chinese character (``*``, ``~``, emoji…) are dropped, because no index can match them, and so are
function words (了, 的, 请问…, ``zhtext.function_words``): 包裹丢了 searches 包裹丢, a query of only
function words (了, 好的好的) searches nothing. Synonyms are expanded before they are dropped, so a
group may still name a word with a particle in it.

``build_query(text, groups)`` is plain Python; ``load_synonyms()`` reads the groups from the database.
"""

import re

from wagtail.search.query import And, Or, Phrase, PlainText

from search.models import SynonymGroup
from zhtext import clean_text, content_words, normalize, strip_function_words

MAX_QUERY_LENGTH = 200
MAX_WORDS = 12
MAX_ALTERNATIVES = 8
_QUOTE_RE = re.compile(r"[\"“”„«»「」『』]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def clean_query(text):
    """The query as the site will treat it: no control characters, single spaces, at most 200 chars."""
    text = _CONTROL_RE.sub(" ", clean_text(text))
    text = " ".join(text.split())
    return text[:MAX_QUERY_LENGTH].strip()


def synonym_map(groups):
    """``[["退钱", "退款"], …]`` → ``{"退钱": ["退钱", "退款"], "退款": [...]}`` (keys normalised)."""
    mapping = {}
    for terms in groups:
        terms = [t for t in terms if normalize(t).strip()]
        if len(terms) < 2:
            continue
        for term in terms:
            key = normalize(term).strip()
            merged = mapping.setdefault(key, [])
            for other in terms:
                if other not in merged:
                    merged.append(other)
    return mapping


def load_synonyms():
    return synonym_map(group.term_list for group in SynonymGroup.objects.all())


def alternatives(word, mapping):
    """``word`` plus every variant with one synonym term swapped for another, in a stable order."""
    folded = normalize(word)
    result = [word]
    for key in sorted(mapping, key=len, reverse=True):
        if key and key in folded:
            for other in mapping[key]:
                variant = folded.replace(key, normalize(other))
                if variant not in result and variant != folded:
                    result.append(variant)
        if len(result) >= MAX_ALTERNATIVES:
            break
    return result[:MAX_ALTERNATIVES]


def split_query(text):
    """``'投诉 "原路退款" 时限'`` → ``[("word", "投诉"), ("phrase", "原路退款"), ("word", "时限")]``.

    Only balanced quotes make a phrase; a stray quote is ignored. Words and phrases made only of
    function words (了, 请问) are left out; the others are returned as typed.
    """
    text = clean_query(text)
    parts = []
    quotes = [m.start() for m in _QUOTE_RE.finditer(text)]
    if len(quotes) % 2:
        text = text[: quotes[-1]] + " " + text[quotes[-1] + 1 :]
    for index, chunk in enumerate(_QUOTE_RE.split(text)):
        chunk = chunk.strip()
        if not chunk:
            continue
        if index % 2:
            if content_words(chunk):
                parts.append(("phrase", chunk))
        else:
            parts.extend(("word", word) for word in chunk.split() if content_words(word))
    return parts[:MAX_WORDS]


def build_query(text, mapping=None):
    """A Wagtail search query for ``text`` with synonyms expanded, or ``None`` if nothing is searchable."""
    mapping = mapping or {}
    clauses = []
    for kind, value in split_query(text):
        if kind == "phrase":
            clauses.append(Phrase(value))
            continue
        alts = _content_alternatives(value, mapping)
        if len(alts) == 1:
            clauses.append(PlainText(alts[0], operator="and"))
        else:
            clauses.append(Or([PlainText(alt, operator="and") for alt in alts]))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else And(clauses)


def _content_alternatives(value, mapping):
    """``alternatives(value)``, each without its function words (empty ones left out)."""
    stripped = (strip_function_words(alt) for alt in alternatives(value, mapping))
    return [alt for alt in dict.fromkeys(stripped) if alt]


def build_relaxed_query(text, mapping=None):
    """Any-word fallback for when the strict query finds nothing: each analysed content word, OR-ed."""
    mapping = mapping or {}
    words = []
    for _kind, value in split_query(text):
        for word in content_words(value):
            if word not in words:
                words.append(word)
    if len(words) < 2:
        return None
    clauses = []
    for word in words[:MAX_WORDS]:
        clauses.extend(PlainText(alt) for alt in alternatives(word, mapping))
    return Or(clauses)


def all_terms(text, mapping=None):
    """Every string the expanded query may match, for highlighting."""
    mapping = mapping or {}
    terms = []
    for kind, value in split_query(text):
        if kind == "phrase":
            terms.extend(alternatives(value, mapping))
        else:
            terms.extend(_content_alternatives(value, mapping))
    return terms
