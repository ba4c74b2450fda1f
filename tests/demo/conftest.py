"""The demo site (``load_demo --demo-users``), loaded once for every test of this package.

A load takes about 12 s of CPU and a dozen tests read what it built, so they share one: the load's rows are
kept for the package's tests (``tests.conftest.rows_kept_for_the_tests``), each test running in a savepoint
of its own, and each test searches a copy of the index the load wrote.

``tests/conftest.py`` gives the package one xdist work unit, so a run loads the demo once. The test that
``load_demo`` builds the site from an empty database is ``tests/content/test_demo.py``.
"""

import pytest
from django.core.management import call_command

from tests.search.conftest import kept_with_their_index, search_a_copy


@pytest.fixture(scope="package")
def loaded_demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """Load the demo for the package's tests; returns the directory of its index."""
    index = tmp_path_factory.mktemp("demo") / "search-index"
    with kept_with_their_index(
        django_db_blocker, index, lambda: call_command("load_demo", "--demo-users", verbosity=0)
    ):
        yield index


@pytest.fixture
def demo(loaded_demo, db, settings, tmp_path):
    """The loaded demo for one test, with a copy of its search index; returns the search backend."""
    return search_a_copy(settings, loaded_demo, tmp_path)
