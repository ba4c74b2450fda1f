"""The demo site (``load_demo --demo-users``), loaded once for every test of this package.

A load takes about 12 s of CPU and a dozen tests read what it built, so they share one. The load runs in
a transaction that stays open while the package's tests run and is rolled back after the last of them;
each test runs in a savepoint inside it (pytest-django's ``db``), so what a test writes is gone before the
next one starts, as in any other test. Each test searches a copy of the index the load wrote.

``tests/conftest.py`` gives the package one xdist work unit, so a run loads the demo once. The test that
``load_demo`` builds the site from an empty database is ``tests/content/test_demo.py``.
"""

import shutil

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings
from modelsearch.backends import get_search_backend


def backends(path):
    return {
        "default": {
            "BACKEND": "search.backend",
            "PATH": path,
            "LOCK_TIMEOUT": 10,
            "FSYNC": False,
            "AUTO_UPDATE": True,
        }
    }


@pytest.fixture(scope="package")
def loaded_demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """Load the demo in a transaction kept open for the package; returns the directory of its index."""
    index = tmp_path_factory.mktemp("demo") / "search-index"
    with override_settings(WAGTAILSEARCH_BACKENDS=backends(index)):
        with django_db_blocker.unblock():
            atomic = transaction.atomic()
            # As Django's TestCase marks its own: the durable blocks of the code under test nest in it.
            atomic._from_testcase = True
            atomic.__enter__()
            try:
                call_command("load_demo", "--demo-users", verbosity=0)
                get_search_backend().refresh_indexes()  # the index writes wait for a commit that never comes
            except BaseException:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)
                raise
        try:
            yield index
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)


@pytest.fixture
def demo(loaded_demo, db, settings, tmp_path):
    """The loaded demo for one test, with a copy of its search index; returns the search backend."""
    index = tmp_path / "search-index"
    shutil.copytree(loaded_demo, index)
    settings.WAGTAILSEARCH_BACKENDS = backends(index)
    return get_search_backend()
