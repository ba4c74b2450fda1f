"""What a query reads as: pinyin typed for Chinese, and homophone typos, searched as the words meant.

Agents type ``tousu``, ``tou su``, ``tousuchuli`` or the initials ``ts`` for 投诉, and input-method
slips like 投诉处里 (处理) or 退宽 (退款). ``read_query(text)`` reads such a query against the
vocabulary of what agents can find (``search.spelling``: the words of titles and tags, with their
pinyin) and returns a ``Reading``: the results page searches ``searched`` instead of ``typed`` and
says so (按拼音 tousu：投诉, 按读音 投诉处里：投诉处理).

What is typed wins when it finds something itself:

* a run of Latin words is read as pinyin only when the words as typed find nothing (``app``, ``VIP``
  or an order-number prefix in the content are searched as typed); when they do, the reading is only
  offered (``Reading.applied`` is false, the page links to it);
* a span of Chinese characters that are not vocabulary words is read as a vocabulary word with the
  same (or nearly the same) pinyin only when the typed span does not occur in the content as such.

Quoted queries are searched exactly as typed. The reading is bounded (``zhtext.pinyin.MAX_LETTERS``,
``MAX_RUN``) and at most ``MAX_CHECKS`` searches check what was typed.
"""

import itertools
import logging
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from modelsearch.backends import get_search_backend
from wagtail.models import Page
from wagtail.search.query import Phrase, PlainText

from search import kinds, spelling
from zhtext import has_cjk, is_function_word, normalize, tokenize

logger = logging.getLogger(__name__)

PINYIN = "pinyin"
HOMOPHONE = "homophone"
MESSAGES = {
    PINYIN: gettext_lazy("按拼音 %(typed)s：%(searched)s"),
    HOMOPHONE: gettext_lazy("按读音 %(typed)s：%(searched)s"),
}
MAX_CHECKS = 4

_LATIN_RE = re.compile(r"[A-Za-z][A-Za-z']*")
_QUOTES = '"“”„«»「」『』'


@dataclass(frozen=True)
class Reading:
    """``typed`` read as ``searched``; ``kind`` is ``PINYIN`` (Latin letters read) or ``HOMOPHONE``."""

    kind: str
    typed: str
    searched: str
    applied: bool = True  # False: the typed words find something themselves; the reading is offered

    @property
    def message(self):
        """What the results page says: 按拼音 tousu：投诉, 按读音 投诉处里：投诉处理, or the offer."""
        if not self.applied:
            return _("也可以按拼音搜索：%(searched)s") % {"searched": self.searched}
        return MESSAGES[self.kind] % {"typed": self.typed, "searched": self.searched}

    @property
    def verbatim_query(self):
        """The query that searches what was typed, exactly (quoted text is never read)."""
        return f'"{self.typed}"'

    def as_json(self):
        return {
            "kind": self.kind,
            "typed": self.typed,
            "searched": self.searched,
            "applied": self.applied,
            "message": str(self.message),
        }


def _querysets():
    querysets = [Page.objects.live()] if kinds.page_kinds() else []
    return querysets + [kind.get_queryset() for kind in kinds.all_kinds() if not kind.is_page]


def finds_something(words, query):
    """True when every one of ``words`` is in some document (the backend's ``document_frequencies``:
    term look-ups), or else when ``query`` (a search query object) matches any page, phrasing or
    document."""
    frequencies = getattr(get_search_backend(), "document_frequencies", None)
    if frequencies is not None:
        try:
            return all(frequencies(words).values())
        except Exception:
            logger.exception("Reading check failed for %r", words)
            return True  # what was typed is then searched as typed
    for queryset in _querysets():
        try:
            if queryset.search(query).count():
                return True
        except Exception:  # a kind whose search fails counts as finding nothing, as on the results page
            logger.exception("Reading check failed for %r", query)
    return False


class _Checks:
    """``finds_something`` for at most ``MAX_CHECKS`` checks per reading; beyond, assume it does."""

    def __init__(self):
        self.left = MAX_CHECKS

    def __call__(self, words, query):
        if self.left <= 0:
            return True
        self.left -= 1
        return finds_something(words, query)


def _tokens(text):
    """Whitespace tokens, consecutive Latin-only ones grouped: ``[("latin", [...]) | ("other", token)]``."""
    groups = []
    for token in text.split():
        if _LATIN_RE.fullmatch(token):
            if groups and groups[-1][0] == "latin":
                groups[-1][1].append(token)
            else:
                groups.append(("latin", [token]))
        else:
            groups.append(("other", token))
    return groups


def _read_latin(words, lexicon):
    """[(typed words, Chinese)] for a run of Latin words: all of them read together, else one by one."""
    letters = "".join(words).replace("'", "").lower()
    read = lexicon.read_letters(letters)
    if read:
        return [(words, "".join(read))]
    if len(words) == 1:
        return [(words, None)]
    out = []
    for word in words:
        read = lexicon.read_letters(word.replace("'", "").lower())
        out.append(([word], "".join(read) if read else None))
    return out


def _read_chinese(token, vocabulary, check):
    """``token`` with its homophone typos replaced (spans found in the content as typed are kept).

    Function words are never read (请问一下怎么办呢 is not 怎么办理), nor any span that overlaps one.
    """
    text = normalize(token)
    if len(text) != len(token) or not has_cjk(text):
        return token
    words = tokenize(text, subwords=False)
    known = vocabulary.words.__contains__
    # Quick path: every word is a vocabulary word, a function word or a single character, and no two
    # single characters follow each other (头 / 诉 may be a slip for 投诉).
    singles = [len(tok.text) == 1 and has_cjk(tok.text) for tok in words]
    plain = all(
        single or known(tok.text) or is_function_word(tok.text)
        for tok, single in zip(words, singles, strict=True)
    )
    if plain and not any(a and b for a, b in itertools.pairwise(singles)):
        return token
    protected = set()
    for tok in words:
        if is_function_word(tok.text):
            protected.update(range(tok.start, tok.end))
    replaced = list(text)
    changed = False
    for start, end, word in reversed(vocabulary.lexicon.homophones(text, known)):
        if protected.intersection(range(start, end)) or check([text[start:end]], Phrase(text[start:end])):
            continue
        replaced[start:end] = list(word)
        changed = True
    return "".join(replaced) if changed else token


def read_query(text, vocabulary=None):
    """The ``Reading`` of ``text`` (already cleaned: ``synonyms.clean_query``), or ``None``."""
    if not text or any(quote in text for quote in _QUOTES):
        return None
    if not _LATIN_RE.search(text) and not has_cjk(text):
        return None
    vocabulary = vocabulary or spelling.get_vocabulary()
    check = _Checks()
    applied, offered, pinyin_read = [], [], False
    for group, value in _tokens(text):
        if group == "other":
            read = _read_chinese(value, vocabulary, check) if has_cjk(value) else value
            applied.append(read)
            offered.append(read)
            continue
        for words, read in _read_latin(value, vocabulary.lexicon):
            typed = " ".join(words)
            if read is None:
                applied.append(typed)
                offered.append(typed)
            elif check(normalize(typed).split(), PlainText(typed, operator="and")):
                applied.append(typed)
                offered.append(read)
            else:
                applied.append(read)
                offered.append(read)
                pinyin_read = True
    searched, alternative = " ".join(applied), " ".join(offered)
    if searched != text:
        return Reading(PINYIN if pinyin_read else HOMOPHONE, text, searched)
    if alternative != text:
        return Reading(PINYIN, text, alternative, applied=False)
    return None


def read(text):
    """``read_query(text)``, or ``None`` if reading fails: what is typed is then searched as typed."""
    try:
        return read_query(text)
    except Exception:
        logger.exception("Reading failed for %r", text)
        return None
