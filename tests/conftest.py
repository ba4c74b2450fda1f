"""Fixtures shared by all test packages: a site tree and one user per role (plus a second agent).

Usernames are the role names, first names those of the demo users (``kb_site.content.demo``), and
every password is ``tests.factories.PASSWORD``. Reports and their exports show the first name.
"""

from contextlib import contextmanager

import pytest
from django.db import transaction
from wagtail.models import Page, Site
from xdist.scheduler import LoadScopeScheduling

from kb_site import fragments
from kb_site.content import roles
from kb_site.templatetags import header_tags
from procedures.models import RunEvent, forget_cached_procedures
from procedures.models.run_log import run_log_unlocked
from search import clicks as search_clicks
from search import results as search_results
from search import spelling as search_spelling
from search import suggest as search_suggest
from tests.factories import HomePageFactory, SectionPageFactory, make_user

DEMO_PACKAGE = "tests/demo/"


class _DemoPackageTogether(LoadScopeScheduling):
    """xdist's ``--dist loadscope`` (a module per work unit), with ``tests/demo`` one unit: its tests share
    one demo load (tests/demo/conftest.py), which a package spread over two workers would pay twice."""

    def _split_scope(self, nodeid):
        if nodeid.startswith(DEMO_PACKAGE):
            return DEMO_PACKAGE
        return super()._split_scope(nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadscope":
        return _DemoPackageTogether(config, log)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark every test on a transactional database ``transactional``. Such a test ends by emptying every
    table, data-migration rows (roles, the root page, the locale) included, so whatever runs after it on
    the same process finds them gone: ``make test`` runs them in a process of their own."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        fixtures = getattr(item, "fixturenames", ())
        if (
            (marker is not None and marker.kwargs.get("transaction"))
            or "live_server" in fixtures
            or "transactional_db" in fixtures
        ):
            item.add_marker(pytest.mark.transactional)
            # Without it the roles and the root page are gone for the next test, and Django's content types
            # recreated by the flush collide with the next serialized test's (UNIQUE constraint failed).
            if marker is None or not marker.kwargs.get("serialized_rollback"):
                raise pytest.UsageError(
                    f"{item.nodeid}: a transactional test needs @pytest.mark.django_db(transaction=True, "
                    "serialized_rollback=True)"
                )


@pytest.fixture(autouse=True)
def _forget_search_caches():
    """The process-wide caches of search and the rendered parts of pages and the header must not outlive a
    test's rolled-back rows (nor meet rows written before the test, as tests/demo and ``kb_for_the_module``
    share: no save of the test's own empties them first)."""
    caches = (
        search_results.shared_sections,
        search_results.promoted_query_strings,
        search_clicks.shared_links,
        search_suggest.shared_index,
        search_spelling.shared_vocabulary,
    )
    kept = (
        search_results.page_texts,
        search_results.kept_descriptions,
        fragments.kept,
        fragments.kept_hits,
        header_tags.kept,
    )

    def forget():
        for cache in caches:
            cache.forget()
        for cache in kept:
            cache.clear()

    forget()
    yield
    forget()


@pytest.fixture(autouse=True)
def _fresh_procedure_cache():
    """Procedure revisions are cached by id, and ids come back after each test's rollback."""
    forget_cached_procedures()
    yield
    forget_cached_procedures()


@pytest.fixture(autouse=True)
def _empty_django_cache():
    """What pages keep in Django's cache (the follow-up queue's filter options) must not outlive a test."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _empty_run_log_before_flush(request):
    """Transactional (browser) tests end with Django emptying every table by ``DELETE``, which the run
    log's append-only trigger refuses on SQLite: their events go first, the one way the project allows
    (``run_log_unlocked``, as the retention purge does)."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    with transaction.atomic(), run_log_unlocked():
        RunEvent._base_manager.all().delete()


@contextmanager
def rows_kept_for_the_tests(django_db_blocker):
    """Rows that several tests read, written once: inside, a transaction that stays open while they run and
    is rolled back after the last (a module- or package-scoped fixture yields inside it). Each test's own
    transaction (pytest-django's ``db``) is a savepoint in it, so what one test writes is gone before the
    next, as in any other test. Write the rows inside ``django_db_blocker.unblock()``. Not for transactional
    tests, which commit."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        # As Django's TestCase marks its own: durable blocks of the code under test may nest in it.
        atomic._from_testcase = True
        atomic.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def make_home():
    home = HomePageFactory(parent=Page.get_first_root_node(), slug="kb-home")
    site = Site.objects.get(is_default_site=True)
    site.root_page = home
    site.hostname = "testserver"
    site.save()
    return home


def make_section(home):
    return SectionPageFactory(parent=home, title="电商售前售后", slug="ecommerce")


@pytest.fixture
def home(db):
    return make_home()


@pytest.fixture
def section(home):
    return make_section(home)


@pytest.fixture
def agent(db):
    return make_user(roles.AGENT, first_name="小王")


@pytest.fixture
def other_agent(db):
    return make_user(roles.AGENT, username="agent2", first_name="小李")


@pytest.fixture
def trainer(db):
    return make_user(roles.TRAINER, first_name="李培训")


@pytest.fixture
def supervisor(db):
    return make_user(roles.SUPERVISOR, first_name="张主管")


@pytest.fixture
def newhire(db):
    return make_user(roles.NEW_HIRE, first_name="小陈")


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client
