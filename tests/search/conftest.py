"""Fixtures for the search tests: a fresh on-disk Whoosh index per test, and a small knowledge base in it.

A module whose database tests read the knowledge base (``kb``), or do not mind it being there, builds it
once for all of them with ``pytestmark = pytest.mark.usefixtures("kb_for_the_module")``: its rows are kept
for the module's tests (``tests.conftest.rows_kept_for_the_tests``), each test running in a savepoint of
its own with the objects read afresh, and each test searches a copy of the index built with them. The
module's ``home`` and ``section`` are then the knowledge base's.
"""

import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test.utils import override_settings
from modelsearch.backends import get_search_backend

from kb_site.content.models import HomePage, SectionPage
from tests.conftest import make_home, make_section, rows_kept_for_the_tests
from tests.search.frontend_data import knowledge_base

SHARED = "kb_for_the_module"


def index_settings(path):
    return {
        "default": {
            "BACKEND": "search.backend",
            "PATH": path,
            "LOCK_TIMEOUT": 10,
            "FSYNC": False,
            "AUTO_UPDATE": True,
        }
    }


@contextmanager
def kept_with_their_index(django_db_blocker, index, build):
    """``build()``'s rows kept for the tests (``tests.conftest.rows_kept_for_the_tests``) and what they
    wrote to the search index in ``index``; yields what ``build()`` returns."""
    with (
        override_settings(WAGTAILSEARCH_BACKENDS=index_settings(index)),
        rows_kept_for_the_tests(django_db_blocker),
    ):
        with django_db_blocker.unblock():
            built = build()
            get_search_backend().refresh_indexes()  # the index writes wait for a commit that never comes
        yield built


def search_a_copy(settings, index, tmp_path):
    """Point this test's search at a copy of ``index`` (or an empty index): what it writes stays its own."""
    path = tmp_path / "search-index"
    if index is not None:
        shutil.copytree(index, path)
    settings.WAGTAILSEARCH_BACKENDS = index_settings(path)
    return get_search_backend("default")


@dataclass
class SharedKnowledgeBase:
    index: Path
    home: int
    section: int
    objects: dict  # name → (model, pk)

    def read(self):
        return {name: model._base_manager.get(pk=pk) for name, (model, pk) in self.objects.items()}


@pytest.fixture(scope="module")
def kb_for_the_module(django_db_setup, django_db_blocker, tmp_path_factory):
    def build():
        home = make_home()
        section = make_section(home)
        return home, section, knowledge_base(home, section)

    index = tmp_path_factory.mktemp("kb") / "search-index"
    with kept_with_their_index(django_db_blocker, index, build) as (home, section, data):
        yield SharedKnowledgeBase(
            index, home.pk, section.pk, {name: (type(obj), obj.pk) for name, obj in data.items()}
        )


def shared(request):
    return request.getfixturevalue(SHARED) if SHARED in request.fixturenames else None


@pytest.fixture
def search_index(request, settings, tmp_path):
    """Point the default backend at an index directory of this test's own, empty unless the module shares
    its knowledge base; returns the backend."""
    kb = shared(request)
    return search_a_copy(settings, kb.index if kb else None, tmp_path)


@pytest.fixture
def home(request, db):
    if kb := shared(request):
        return HomePage.objects.get(pk=kb.home)
    return make_home()


@pytest.fixture
def section(request, home):
    if kb := shared(request):
        return SectionPage.objects.get(pk=kb.section)
    return make_section(home)


@pytest.fixture
def refresh(search_index):
    """Make index writes of the current (test) transaction visible to searches."""

    def _refresh():
        search_index.refresh_indexes()

    return _refresh


@pytest.fixture
def kb(request, search_index, home, section):
    """The knowledge base of ``tests.search.frontend_data.knowledge_base``, published and indexed."""
    if shared_kb := shared(request):
        return shared_kb.read()
    return knowledge_base(home, section)
