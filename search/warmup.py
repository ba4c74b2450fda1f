"""Warm a web process up before its first request: the segmenter's dictionary, the general synonym
dictionary (``search.thesaurus``, ~1 MB), the title vocabulary (pinyin reading, spelling) and the
suggestion index, the index searchers and their field lengths. Without it the first search a worker
serves takes about half a second, and its first suggestion or pinyin query a second more at 10,000
articles."""

import logging
import time

from django.db import connections
from modelsearch.backends import get_search_backend

from search import spelling, suggest, thesaurus
from search.backend import WhooshSearchBackend, fastscore
from search.backend.storage import IndexStore
from zhtext import query_words

logger = logging.getLogger(__name__)


def warm_up():
    """Never raises: a missing or broken index must not stop the site from starting."""
    started = time.perf_counter()
    try:
        query_words("客户投诉处理")  # loads the segmenter's dictionary
        thesaurus.thesaurus()  # read once here, shared by the workers forked after ``--preload``
        spelling.get_vocabulary()
        suggest.shared_index.get()
        backend = get_search_backend()
        if not isinstance(backend, WhooshSearchBackend):
            return
        for index in backend.all_indexes():
            fastscore.warm(index.store.searcher())
        # What stays warm is process memory (dictionary, field lengths, pk columns). Open index files
        # are closed: with ``gunicorn --preload`` this runs before the fork, and workers sharing a file
        # offset would read each other's postings.
        IndexStore.close_searchers()
    except Exception:
        logger.exception("Search warm-up failed; the first searches will be slower")
        return
    finally:
        _close_connections()
    logger.info("Search warmed up in %.0f ms", (time.perf_counter() - started) * 1000)


def _close_connections():
    """Database connections opened here are closed: forked workers must not share one (``--preload``).
    Not inside a transaction (a test's), which closing would break."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()
