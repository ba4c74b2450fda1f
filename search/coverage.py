"""How much of a query its best hit covers: what makes a query weak for the 无结果搜索 report.

A query of two or more content words (``zhtext.content_words``: 了, 的, 请问… say nothing) whose best
hit contains fewer than ``WEAK_COVERAGE`` of them, each counted with its synonyms, in its title or text
found something, but not what the agent asked about: 停电了要求赔偿 answered by a page about 赔偿 alone.
Such a query is recorded like one that found nothing (``search.views._record``), with the share and
the hit's title, so that trainers see which words or synonyms are missing.

``measure(outcome, hits, text, mapping)`` is the last step of ``search.results.search_all``. It reads
the title first and the text only when the title does not cover every word, of the first hit only
(which page 1 describes anyway: the loaded object and its text are kept for ``describe_all``). A
promoted result counts as full coverage: a trainer chose it for this very query.
"""

from wagtail.models import Page
from wagtail.search import index

from search import kinds, synonyms
from zhtext import content_words, fold, normalize

# Below this share of the query's content words, the best hit is a weak answer.
WEAK_COVERAGE = 0.5
# A one-word query is either found or not: coverage says something from two words on.
MIN_WORDS = 2


def word_alternatives(text, mapping):
    """For each content word of ``text``: the word and its synonyms, normalised (as ``rank`` reads them)."""
    return [[normalize(alt) for alt in synonyms.alternatives(word, mapping)] for word in content_words(text)]


def covered(alternatives, folded):
    """The indexes of the words (given with their alternatives) found in the folded text ``folded``."""
    return {i for i, alts in enumerate(alternatives) if any(alt and alt in folded for alt in alts)}


def hit_text(hit):
    """The plain text of a hit besides its title (its object loaded here if it is not yet)."""
    # Imported here: ``search.results`` calls this module at the end of ``search_all``.
    from search import results

    kind = kinds.get_kind(hit.kind)
    if kind is None:
        return hit.description or ""
    results.load_objects([hit])
    if hit.obj is None:
        return ""
    if kind.is_page:
        if type(hit.obj) is Page:
            hit.obj = hit.obj.specific
        text = results.page_text(hit.obj)
    elif kind.text is not None:
        text = kind.text(hit.obj)
    elif kind.is_document:
        text = ""
    else:
        text = results.searchable_text(hit.obj)
    return f"{hit.description} {text or ''}"


def related_text(obj):
    """The searched fields of the rows ``obj`` relates to (an article's tags): found in the index too."""
    parts = []
    for search_field in obj.get_search_fields() if hasattr(obj, "get_search_fields") else ():
        if not isinstance(search_field, index.RelatedFields):
            continue
        value = getattr(obj, search_field.field_name, None)
        rows = value.all() if hasattr(value, "all") else [value] if value is not None else []
        for row in rows:
            for field in search_field.fields:
                if isinstance(field, index.SearchField):
                    parts.append(str(getattr(row, field.field_name, "") or ""))
    return " ".join(parts)


def coverage_of(hit, alternatives):
    """The share (0–1) of ``alternatives``' words that ``hit`` has in its title, text or related rows,
    read in that order and only as long as some word is still missing."""
    if hit.promoted or not alternatives:
        return 1.0
    sources = (
        lambda: hit.title or "",
        lambda: hit_text(hit),
        lambda: related_text(hit.obj) if hit.obj is not None else "",
    )
    missing = dict(enumerate(alternatives))
    for source in sources:
        found = covered(list(missing.values()), fold(source()))
        keys = list(missing)
        for i in found:
            del missing[keys[i]]
        if not missing:
            break
    return 1 - len(missing) / len(alternatives)


def is_weak(coverage):
    """Whether a best hit's coverage (``None``: nothing found) makes a weak query."""
    return coverage is not None and coverage < WEAK_COVERAGE


def measure(outcome, hits, text, mapping):
    """Set ``outcome.best_coverage`` and ``best_title`` from ``hits`` (ranked, unfiltered; promoted first).

    Nothing found: both stay empty. A query of fewer than ``MIN_WORDS`` content words: the best hit
    counts as covering it (coverage 1.0) without reading its text.
    """
    if not hits:
        return outcome
    best = hits[0]
    outcome.best_title = str(best.title or "")
    alternatives = word_alternatives(text, mapping)
    if len(alternatives) < MIN_WORDS:
        outcome.best_coverage = 1.0
        return outcome
    outcome.best_coverage = coverage_of(best, alternatives)
    return outcome
