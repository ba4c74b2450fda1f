"""The demo site (``load_demo --demo-users``), loaded once for every test of this package.

A load takes about 12 s of CPU and a dozen tests read what it built, so they share one: the load's rows are
kept for the package's tests (``tests.conftest.rows_kept_for_the_tests``), each test running in a savepoint
of its own, and each test searches a copy of the index the load wrote.

``tests/conftest.py`` gives the package one xdist work unit, so a run loads the demo once. The test that
``load_demo`` builds the site from an empty database is ``tests/content/test_demo.py``.
"""

import shutil

import pytest
from django.core.management import call_command
from django.test.utils import override_settings
from modelsearch.backends import get_search_backend

from tests.conftest import rows_kept_for_the_tests
from tests.search.conftest import index_settings


@pytest.fixture(scope="package")
def loaded_demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """Load the demo for the package's tests; returns the directory of its index."""
    index = tmp_path_factory.mktemp("demo") / "search-index"
    with (
        override_settings(WAGTAILSEARCH_BACKENDS=index_settings(index)),
        rows_kept_for_the_tests(django_db_blocker),
    ):
        with django_db_blocker.unblock():
            call_command("load_demo", "--demo-users", verbosity=0)
            get_search_backend().refresh_indexes()  # the index writes wait for a commit that never comes
        yield index


@pytest.fixture
def demo(loaded_demo, db, settings, tmp_path):
    """The loaded demo for one test, with a copy of its search index; returns the search backend."""
    index = tmp_path / "search-index"
    shutil.copytree(loaded_demo, index)
    settings.WAGTAILSEARCH_BACKENDS = index_settings(index)
    return get_search_backend()
