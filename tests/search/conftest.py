"""Fixtures for the search tests: a fresh on-disk Whoosh index per test, and a small knowledge base in it."""

import pytest
from modelsearch.backends import get_search_backend

from tests.search.frontend_data import knowledge_base


@pytest.fixture
def search_index(settings, tmp_path):
    """Point the default backend at an empty index directory for this test; returns the backend."""
    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {
            "BACKEND": "search.backend",
            "PATH": tmp_path / "search-index",
            "LOCK_TIMEOUT": 10,
            "FSYNC": False,
            "AUTO_UPDATE": True,
        }
    }
    return get_search_backend("default")


@pytest.fixture
def refresh(search_index):
    """Make index writes of the current (test) transaction visible to searches."""

    def _refresh():
        search_index.refresh_indexes()

    return _refresh


@pytest.fixture
def kb(search_index, home, section):
    """The knowledge base of ``tests.search.frontend_data.knowledge_base``, published and indexed."""
    return knowledge_base(home, section)
