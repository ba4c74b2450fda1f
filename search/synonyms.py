"""Turn what an agent typed into a search query object, expanding trainer-managed synonyms.

Synonyms are applied at query time, so editing a ``SynonymGroup`` takes effect on the next search
without reindexing. Quoted text becomes a ``Phrase``. Words without any letter, digit or Chinese
character (``*``, ``~``, emoji…) are dropped, because no index can match them, and so are function
words (了, 的, 请问…, ``zhtext.function_words``): 包裹丢了 searches 包裹丢, a query of only function
words (了, 好的好的) searches nothing. Synonyms are expanded before they are dropped, so a group may
still name a word with a particle in it (坏了 = 损坏 applies to 坏).

``plan_query(text, mapping, frequencies)`` reads the query as its content words (``QueryPlan``):

* one or two content words (投诉, 包裹丢了, 维修 回访): every word must match, each word as typed or with
  a synonym swapped in (``Or(word, variant, …)``, words ``And``-ed), as before;
* three or more (付了款三天还不发货, 小区电梯坏了有人被困): the customer's own sentence rarely stands in
  the text as typed, so each content word is one unit and a page must match ``minimum_match(n)`` of
  them (⌈60 %⌉), ranked by how many it matches (``search.backend.query.MinimumMatch``; an ``Or`` to
  other backends). Lone characters (派, 拿) only add to the score, unless a synonym group gives a
  longer word for them (坏 → 损坏); neighbours that make a synonym term or a known word are joined
  first (拿 件 → 拿件, 付了款 → 付款);
* a word in no document (``frequencies``: the backend's document frequencies, where it can tell) falls
  back to its parts (物业费 → 物业 + 费), a lone character only beside a part that is a word, and with
  related words: the trainers' synonyms that contain it (费 → 收费, 费用) and the general dictionary's
  synonyms of the word (``search.thesaurus``), weighted below the typed words (``RELATED_BOOST``,
  ``DICTIONARY_BOOST``). A word with none of these stays in the query and matches nothing: xyzabc不存在
  still finds nothing;
* ``QueryPlan.widened_query()``, for a query that found fewer than ``FEW_HITS`` hits: each word on its
  own with all its synonyms, and its dictionary synonyms that occur in the knowledge base (电梯 →
  升降机), weighted below.

``build_query(text, mapping)`` is ``plan_query(...).query()`` without the backend's frequencies.
``load_synonyms()`` reads the groups from the database.
"""

import functools
import math
import re
from dataclasses import dataclass, field

from django.db.models import Count, Max
from modelsearch.backends import get_search_backend
from wagtail.search.query import And, Or, Phrase, PlainText

from search import thesaurus
from search.backend.query import MinimumMatch
from search.caches import LRUCache
from search.models import SynonymGroup
from zhtext import (
    clean_text,
    content_words,
    has_cjk,
    is_function_word,
    normalize,
    strip_function_words,
    tokenize,
)

MAX_QUERY_LENGTH = 200
MAX_WORDS = 12
MAX_ALTERNATIVES = 8
# A query of this many content words or more is matched on a share of them (``minimum_match``).
MIN_SHARE_FROM = 3
MIN_SHARE = 0.6
# A query that finds fewer hits is searched again with the general dictionary's synonyms.
FEW_HITS = 3
# Weights of words the agent did not type, below the typed words' 1.0.
RELATED_BOOST = 0.6
DICTIONARY_BOOST = 0.3
MAX_RELATED = 3
MAX_DICTIONARY = 4
# Characters that say nothing on their own beside a word (上门来 is 上门): never a fallback part.
LIGHT_CHARACTERS = frozenset("来去上下进出回过起开完掉走住着等们些点样种件次")
_QUOTE_RE = re.compile(r"[\"“”„«»「」『』]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def clean_query(text):
    """The query as the site will treat it: no control characters, single spaces, at most 200 chars."""
    text = _CONTROL_RE.sub(" ", clean_text(text))
    text = " ".join(text.split())
    return text[:MAX_QUERY_LENGTH].strip()


class SynonymMap(dict):
    """``{normalised term: [the terms of its groups]}``, with what every query looks up computed once
    per set of groups (``load_synonyms`` keeps one per version of the groups)."""

    @functools.cached_property
    def longest_first(self):
        return sorted(self, key=len, reverse=True)

    @functools.cached_property
    def normalized(self):
        return {key: [normalize(term) for term in terms] for key, terms in self.items()}

    @functools.cached_property
    def by_content_form(self):
        """{a term without its function words: the terms of its groups} for terms that have any (坏了 → 坏)."""
        found = {}
        for key, terms in self.items():
            form = _content_form(key)
            if form and form != key:
                merged = found.setdefault(form, [])
                merged.extend(term for term in terms if term not in merged)
        return found


def synonym_map(groups):
    """``[["退钱", "退款"], …]`` → ``{"退钱": ["退钱", "退款"], "退款": [...]}`` (keys normalised)."""
    mapping = SynonymMap()
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


# Built once per version of the groups: parsing and normalising every term cost ~2 ms a search.
_maps = LRUCache(4)


def load_synonyms():
    """The ``SynonymMap`` of the groups in the database; a change is seen by the next search (the version
    read first: how many groups, the last change, the highest id)."""
    version = tuple(
        SynonymGroup.objects.aggregate(count=Count("pk"), changed=Max("updated_at"), top=Max("pk")).values()
    )
    return _maps.get_or_compute(
        version, lambda: synonym_map(group.term_list for group in SynonymGroup.objects.all())
    )


def alternatives(word, mapping):
    """``word`` plus every variant with one synonym term swapped for another, in a stable order."""
    folded = normalize(word)
    result = [word]
    known = isinstance(mapping, SynonymMap)
    for key in mapping.longest_first if known else sorted(mapping, key=len, reverse=True):
        if key and key in folded:
            for other in mapping.normalized[key] if known else map(normalize, mapping[key]):
                variant = folded.replace(key, other)
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


def minimum_match(count):
    """How many of ``count`` content words a page must match: all of one or two, then ⌈60 %⌉."""
    if count < MIN_SHARE_FROM:
        return count
    return max(2, math.ceil(count * MIN_SHARE))


@functools.lru_cache(maxsize=4096)
def _content_form(term):
    """``term`` as its content words run together (坏了 → 坏), for matching a synonym to a query word."""
    return "".join(content_words(term))


def _word_synonyms(word, mapping):
    """``word``'s alternatives (``alternatives``) plus the groups whose term is ``word`` once its
    function words are dropped (坏了 = 损坏 for 坏), function words stripped, without repeats."""
    found = _content_alternatives(word, mapping)
    if isinstance(mapping, SynonymMap):
        terms = mapping.by_content_form.get(word, ())
    else:
        terms = [
            t for key, group in mapping.items() if key != word and _content_form(key) == word for t in group
        ]
    for term in terms:
        stripped = strip_function_words(normalize(term))
        if stripped and stripped not in found:
            found.append(stripped)
    return found[:MAX_ALTERNATIVES]


def _related_words(char, mapping):
    """Trainers' synonym terms containing the single character ``char`` (费 → 收费, 费用), shortest first."""
    terms = {term for key, group in mapping.items() for term in (key, *group)}
    return sorted((t for t in terms if char in t and len(t) >= 2 and " " not in t), key=lambda t: (len(t), t))


@dataclass
class QueryWord:
    """One content word of a long or falling-back query, with what may stand for it."""

    text: str
    alternatives: list  # the word and its synonyms (trainers' groups): full weight
    parts: list = field(default_factory=list)  # no alternative is in any document: [[part, related…], …]
    dictionary: list = field(default_factory=list)  # general dictionary synonyms in the knowledge base
    fallback_dictionary: bool = False  # in no document: its dictionary synonyms are used at once
    found: bool = True  # some document has the word or one of its synonyms (or the backend cannot tell)

    @property
    def strong(self):
        """A word of two characters or more, or a lone character that a synonym group gives a longer
        word for (坏 → 损坏, 少 → 少货): it counts towards a long query's minimum."""
        return any(len(alt) >= 2 for alt in self.alternatives) or bool(self.parts)

    @property
    def live(self):
        """Whether the word can match anything: found, a lone character (the words it starts), or with a
        fallback."""
        return self.found or len(self.text) == 1 or bool(self.parts) or bool(self.dictionary)

    def query(self, widen=False):
        subqueries = [PlainText(alt) for alt in self.alternatives]
        if self.parts:
            parts = [
                _any([PlainText(part[0])] + [PlainText(r, boost=RELATED_BOOST) for r in part[1:]])
                for part in self.parts
            ]
            subqueries.append(parts[0] if len(parts) == 1 else And(parts))
        if widen or self.fallback_dictionary:
            subqueries += [PlainText(word, boost=DICTIONARY_BOOST) for word in self.dictionary]
        return _any(subqueries)

    def terms(self, widen=False):
        terms = list(self.alternatives)
        for part in self.parts:
            terms += part
        if widen or self.fallback_dictionary:
            terms += self.dictionary
        return terms


def _any(queries):
    return queries[0] if len(queries) == 1 else Or(queries)


@dataclass
class QueryPlan:
    """How ``text`` is searched (see the module docstring): ``query()`` and the terms to highlight."""

    text: str
    parts: list  # ``split_query(text)``
    mapping: dict
    words: list  # [QueryWord]: every content word of the unquoted parts, in order
    simple: bool  # one or two words, each in some document: searched as typed (``_simple_query``)

    frequencies: object = None  # the backend's ``document_frequencies``, if it has one

    def widened_query(self):
        """``query(widen=True)``, for when ``query()`` found too little: each word on its own with all its
        synonyms (a query searched as typed swaps one synonym at a time: 包裹丢了 → 邮件丢了 or 包裹丢失,
        never 邮件丢失), and with its dictionary synonyms that some document has. None when that adds
        nothing to the query already searched, or the backend has no ``document_frequencies``."""
        if self.frequencies is None:
            return None  # a backend that cannot say which words are in the knowledge base: as before
        rest = [word for word in self.words if not word.fallback_dictionary]
        if rest:
            _add_dictionary(rest, self.frequencies)
        if any(word.dictionary for word in rest):
            return self.query(widen=True)
        if self.simple and any(len(word.alternatives) > 1 for word in self.words):
            return self.query(widen=True)
        return None

    def relaxed_query(self):
        """For when nothing was found: a long query on one word fewer than its minimum (coverage still
        ranks; None when that would be no word), a short one on any of its words
        (``build_relaxed_query``)."""
        if len(self.words) >= MIN_SHARE_FROM:
            return self.query(widen=True, relax=True)
        return build_relaxed_query(self.text, self.mapping)

    def query(self, widen=False, relax=False):
        """A Wagtail search query, or ``None`` if nothing is searchable (or, with ``relax``, when a long
        query's minimum cannot be lowered)."""
        phrases = [Phrase(value) for kind, value in self.parts if kind == "phrase"]
        if self.simple and not widen:
            return _combine(self._simple_clauses())
        if len(self.words) < MIN_SHARE_FROM:
            # Every word, even one that matches nothing (xyzabc不存在 finds nothing), but a lone
            # character beside a real word only adds to the score (物业费怎么交: 交).
            required = [word for word in self.words if word.strong or not word.live]
            optional = [word for word in self.words if word not in required]
            if not required:
                required, optional = optional, []
            units = MinimumMatch(
                [word.query(widen) for word in required],
                len(required),
                optional=[word.query(widen) for word in optional],
            )
            return _combine([*phrases, units])
        # A long query: on a share of the words that can match. Lone characters (派, 拿) only add to
        # the score beside two or more real words.
        live = [word for word in self.words if word.live]
        strong = [word for word in live if word.strong]
        counted = strong if len(strong) >= 2 else live
        optional = [word for word in live if word not in counted]
        if not counted:
            return None if relax else _combine(phrases)
        # One word that can match (投诉 税号 抬头, where only 投诉 is in the knowledge base) is searched:
        # its best hit covers a third of the query, a weak query that the 无结果搜索 report lists.
        minimum = minimum_match(len(counted))
        if relax:
            if minimum < 2:
                return None
            minimum -= 1
        units = MinimumMatch(
            [word.query(widen) for word in counted],
            minimum,
            optional=[word.query(widen) for word in optional],
        )
        return _combine([*phrases, units])

    def _simple_clauses(self):
        clauses = []
        for kind, value in self.parts:
            if kind == "phrase":
                clauses.append(Phrase(value))
                continue
            alts = _content_alternatives(value, self.mapping)
            if len(alts) == 1:
                clauses.append(PlainText(alts[0], operator="and"))
            else:
                clauses.append(Or([PlainText(alt, operator="and") for alt in alts]))
        return clauses

    def terms(self, widen=False):
        """Every string the query may match, for highlighting."""
        terms = []
        for kind, value in self.parts:
            if kind == "phrase":
                terms.extend(alternatives(value, self.mapping))
            elif self.simple:
                terms.extend(_content_alternatives(value, self.mapping))
        if not self.simple or widen:
            for word in self.words:
                terms.extend(word.terms(widen))
        return list(dict.fromkeys(terms))


def _combine(clauses):
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else And(clauses)


def backend_frequencies():
    """The default backend's ``document_frequencies`` (the Whoosh backend has it), or None."""
    return getattr(get_search_backend(), "document_frequencies", None)


def plan_query(text, mapping=None, frequencies=None):
    """The ``QueryPlan`` of ``text``. ``frequencies(words)`` → ``{word: documents}`` says which words
    are in no document (they fall back to their parts); without it every word is taken as found."""
    mapping = mapping or {}
    parts = split_query(text)
    chunks = [content_words(value) for kind, value in parts if kind == "word"]
    if frequencies is not None:
        frequencies = _Frequencies(frequencies)
        frequencies.prefetch(chunks, mapping)
    words = []
    for chunk in chunks:
        if chunk:
            for word in _merged_words(chunk, mapping, frequencies):
                if word not in (w.text for w in words):
                    words.append(QueryWord(word, _word_synonyms(word, mapping) or [word]))
    words = words[:MAX_WORDS]
    plan = QueryPlan(text, parts, mapping, words, simple=len(words) < MIN_SHARE_FROM, frequencies=frequencies)
    if frequencies is None or not words:
        return plan
    counts = frequencies([alt for word in words for alt in word.alternatives])
    for word in words:
        if not _lone_character(word.text) and not any(counts.get(alt) for alt in word.alternatives):
            word.found = False
            _fall_back(word, mapping, frequencies)
            plan.simple = False
    _add_dictionary([word for word in words if word.fallback_dictionary], frequencies)
    return plan


class _Frequencies:
    """The backend's ``document_frequencies``, remembered for one query plan: each call costs a look at
    every index (~0.5 ms), so what the plan may ask is asked at once (``prefetch``)."""

    def __init__(self, lookup):
        self.lookup = lookup
        self.known = {}

    def __call__(self, words):
        missing = [word for word in dict.fromkeys(words) if word not in self.known]
        if missing:
            self.known.update(self.lookup(missing))
        return {word: self.known.get(word, 0) for word in words}

    def prefetch(self, chunks, mapping):
        """The words, their synonyms, two lone characters joined, and every word's parts and characters."""
        wanted = []
        for words in chunks:
            for index, word in enumerate(words):
                wanted += _word_synonyms(word, mapping) or [word]
                following = words[index + 1] if index + 1 < len(words) else ""
                if len(word) == len(following) == 1:
                    wanted.append(word + following)
                if len(word) > 2:
                    wanted += [tok.text for tok in tokenize(word) if tok.sub] + list(word)
        self(wanted)


def _merged_words(words, mapping, frequencies):
    """``words`` with neighbours joined where together they are one thing: a synonym term (拿 件 → 拿件,
    when a group names 拿件), or two lone characters that a function word split (付了款 → 付 款 → 付款)
    when some document has the word they make."""
    merged = []
    i = 0
    while i < len(words):
        for size in (3, 2):
            joined = "".join(words[i : i + size])
            if i + size <= len(words) and joined in mapping:
                merged.append(joined)
                i += size
                break
        else:
            pair = words[i : i + 2]
            if (
                len(pair) == 2
                and len(pair[0]) == len(pair[1]) == 1
                and has_cjk(pair[0] + pair[1])
                and frequencies is not None
                and frequencies([pair[0] + pair[1]]).get(pair[0] + pair[1])
            ):
                merged.append(pair[0] + pair[1])
                i += 2
            else:
                merged.append(words[i])
                i += 1
    return merged


def _lone_character(word):
    # A single Chinese character is searched as the words it starts (search.backend.query): never "missing".
    return len(word) == 1


def _fall_back(word, mapping, frequencies):
    """Parts and related words for ``word``, which no document has (see the module docstring)."""
    text = word.text
    subwords = sorted(
        {tok.text for tok in tokenize(text) if tok.sub and len(tok.text) >= 2 and tok.text != text},
        key=lambda sub: (-len(sub), text.find(sub)),
    )
    counts = frequencies(subwords + [c for c in text if has_cjk(c)]) if has_cjk(text) else {}
    covered = [False] * len(text)
    chosen = []
    for sub in subwords:
        start = text.find(sub)
        span = range(start, start + len(sub))
        if counts.get(sub) and not any(covered[i] for i in span):
            chosen.append(
                (start, [sub] + [a for a in _word_synonyms(sub, mapping) if a != sub][:MAX_RELATED])
            )
            for i in span:
                covered[i] = True
    if chosen:
        for i, char in enumerate(text):
            if covered[i] or not has_cjk(char) or is_function_word(char) or char in LIGHT_CHARACTERS:
                continue
            related = [t for t in _related_words(char, mapping) if t not in text]
            related_counts = frequencies(related) if related else {}
            related = [t for t in related if related_counts.get(t)][:MAX_RELATED]
            if not (counts.get(char) or related):
                chosen = []  # a character nothing stands for: the parts found say only half the word
                break
            chosen.append((i, [char, *related]))
        word.parts = [part for _start, part in sorted(chosen)]
    word.fallback_dictionary = True


def _add_dictionary(words, frequencies):
    """Each word's general dictionary synonyms that are in some document, at most ``MAX_DICTIONARY``."""
    candidates = {}
    for word in words:
        if len(word.text) >= 2:
            candidates[word.text] = [w for w in thesaurus.related(word.text) if w not in word.alternatives]
    wanted = sorted({w for found in candidates.values() for w in found})
    counts = frequencies(wanted) if wanted else {}
    for word in words:
        word.dictionary = [w for w in candidates.get(word.text, ()) if counts.get(w)][:MAX_DICTIONARY]


def build_query(text, mapping=None):
    """A Wagtail search query for ``text`` with synonyms expanded, or ``None`` if nothing is searchable."""
    return plan_query(text, mapping).query()


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
