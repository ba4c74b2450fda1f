"""Whoosh search backend for Wagtail / modelsearch.

Configure it in ``WAGTAILSEARCH_BACKENDS``::

    "default": {
        "BACKEND": "search.backend",
        "PATH": VAR_DIR / "search-index",  # where the index directories live
        "LOCK_TIMEOUT": 30,                 # seconds a writer waits for the write lock before giving up
        "FSYNC": True,                      # fsync a rebuilt generation before swapping it in
        "LIMITMB": 128,                     # Whoosh writer memory during rebuilds
        "AUTO_UPDATE": True,
    }

Split by concern, as Whoosh splits itself:

* ``documents``: the schema and the document built for each object;
* ``storage``: index generations on disk, the pointer file, searchers, writers, the rebuild journal,
  retry files (``IndexStore``);
* ``writing``: writes deferred until the transaction commits, batching, retries of failed writes
  (``IndexWrite``);
* ``index``: the index of each root model and its rebuilds (``WhooshIndex``, ``WhooshRebuilder``);
* ``query``: the query compiler and its matchers;
* ``results``: hits turned into objects, counts and facets;
* ``fastscore``: numpy scoring of everyday queries, with Whoosh's own scores.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from modelsearch.backends.base import BaseSearchBackend, get_model_root
from modelsearch.index import get_indexed_models

from search.backend.index import WhooshIndex, WhooshRebuilder
from search.backend.query import WhooshAutocompleteQueryCompiler, WhooshSearchQueryCompiler
from search.backend.results import WhooshSearchResults
from search.backend.storage import DEFAULT_LOCK_TIMEOUT
from search.backend.writing import batched_index_writes, flush_pending_writes

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


SearchBackend = WhooshSearchBackend
