"""Whoosh search backend for Wagtail / modelsearch.

Configure it in ``WAGTAILSEARCH_BACKENDS``::

    "default": {
        "BACKEND": "search.backend",
        "PATH": VAR_DIR / "search-index",  # where the index directories live
        "LOCK_TIMEOUT": 30,                 # seconds a writer waits for the write lock before giving up
        "FSYNC": True,                      # fsync a rebuilt generation before swapping it in
        "LIMITMB": 128,                     # Whoosh writer memory for merges of live writes
        "REBUILD_MB": 1024,                 # a rebuild's postings kept in memory (more: more segments)
        "REBUILD_PROCESSES": 2,             # 2: a forked child writes part of a rebuild (1 on one CPU)
        "REBUILD_SPLIT_MIN": 5000,          # objects an index needs for the child (one segment more)
        "AUTO_UPDATE": True,
    }

Split by concern, as Whoosh splits itself:

* ``documents``: the schema and the document built for each object;
* ``storage``: index generations on disk, the pointer file, searchers, writers, the rebuild journal,
  retry files (``IndexStore``);
* ``writing``: writes deferred until the transaction commits, batching, retries of failed writes
  (``IndexWrite``);
* ``index``: the index of each root model and its rebuilds (``WhooshIndex``, ``WhooshRebuilder``);
* ``codec``: how segments are written (Whoosh 3's format, short posting lists in the term table);
* ``bulk``: the writer of a rebuild (``BulkWriter``: postings in memory, analysis line by line);
* ``parallel``: a rebuild's second process (``SegmentWorker``: a forked child writing the first documents);
* ``query``: the query compiler and its matchers;
* ``results``: hits turned into objects, counts and facets;
* ``fastscore``: numpy scoring of everyday queries, with Whoosh's own scores.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from modelsearch.backends.base import BaseSearchBackend, get_model_root
from modelsearch.index import get_indexed_models

from search.analysis import shingle
from search.backend.index import WhooshIndex, WhooshRebuilder
from search.backend.query import WhooshAutocompleteQueryCompiler, WhooshSearchQueryCompiler
from search.backend.results import WhooshSearchResults
from search.backend.storage import DEFAULT_LOCK_TIMEOUT
from search.backend.writing import batched_index_writes, flush_pending_writes
from zhtext import query_words

__all__ = ["SearchBackend", "WhooshSearchBackend", "batched_index_writes", "flush_pending_writes"]


class WhooshSearchBackend(BaseSearchBackend):
    """The backend modelsearch loads for ``"BACKEND": "search.backend"``; its params are read here once."""

    query_compiler_class = WhooshSearchQueryCompiler
    autocomplete_query_compiler_class = WhooshAutocompleteQueryCompiler
    results_class = WhooshSearchResults
    rebuilder_class = WhooshRebuilder
    catch_indexing_errors = True

    def __init__(self, params):
        super().__init__(params)
        path = params.get("PATH") or (Path(settings.VAR_DIR) / "search-index")
        self.path = Path(path)
        self.lock_timeout = float(params.get("LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
        self.limitmb = int(params.get("LIMITMB", 128))
        self.rebuild_mb = int(params.get("REBUILD_MB", 1024))
        self.rebuild_processes = int(params.get("REBUILD_PROCESSES", 2 if (os.cpu_count() or 1) > 1 else 1))
        self.rebuild_split_min = int(params.get("REBUILD_SPLIT_MIN", 5000))
        self.fsync = bool(params.get("FSYNC", True))

    def get_index_for_model(self, model):
        return WhooshIndex(self, get_model_root(model))

    def all_indexes(self):
        seen = set()
        for model in get_indexed_models():
            index = self.get_index_for_model(model)
            if index.get_key() not in seen:
                seen.add(index.get_key())
                yield index

    def document_frequencies(self, words):
        """{word: how many documents hold it} over every index's catch-all fields (the largest per index,
        summed over indexes; deleted documents may still count until segments merge).

        Cheap (term dictionary look-ups, no postings read): the query builder asks it which of a query's
        words are in no document, to fall back to their parts (``search.synonyms``). A word the analyzer
        splits (单号 → 单 / 号) counts the documents where its parts stand together.
        """
        words = list(dict.fromkeys(words))
        lookups = {word: _frequency_terms(word) for word in words}
        found = dict.fromkeys(words, 0)
        for index in self.all_indexes():
            state = _index_state(index.store)
            if state is None or _empty_indexes.get(index.name) == state:
                continue  # opening an empty index costs a millisecond on every call (no segment to cache)
            reader = index.store.searcher().reader()
            if not reader.doc_count_all():
                _empty_indexes[index.name] = state
                continue
            fields = [name for name in reader.indexed_field_names() if name.startswith("x_")]
            for word, terms in lookups.items():
                best = 0
                for field in fields:
                    if terms[0] != word:  # a split word: the rarest of its adjacent pairs
                        best = max(best, min(reader.doc_frequency(field, term) for term in terms))
                    best = max(best, reader.doc_frequency(field, word))
                found[word] += best
        return found


SearchBackend = WhooshSearchBackend


# Index name → the state (``_index_state``) in which it was seen empty: skipped until it changes.
_empty_indexes = {}


def _index_state(store):
    """The live generation and its directory's modification time (a commit adds files), or None."""
    generation = store.current_generation()
    if generation is None:
        return None
    try:
        return generation, os.stat(store.generation_path(generation)).st_mtime_ns
    except FileNotFoundError:
        return None


def _frequency_terms(word):
    """The terms that say ``word`` is in a document: itself, and for a word the analyzer splits the
    shingles of its adjacent parts (the first of them differs from ``word``)."""
    tokens = query_words(word)
    if len(tokens) < 2:
        return [word]
    return [shingle(a, b) for a, b in zip(tokens, tokens[1:], strict=False)]
