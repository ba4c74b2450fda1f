"""Search's per-process caches agree across app servers through generations in Django's shared cache.

"This process" serves requests through the test client with the module-level caches of ``search``;
"the other process" is a second set of cache objects with their own ``Generations`` over their own
``DatabaseCache`` object on the same table, as another gunicorn worker or app server would have. The
other process changes rows without sending this process's signals (``update`` / ``bulk_create``: this
process's receivers never hear of it, as they would not of another server's save), then does what its
own signal receivers do (``invalidate``); the change commits, and this process's next request sees it
with every cache's TTL far away. One test has a real second Python process announce the change.
"""

import pytest
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.contrib.search_promotions.models import Query, SearchPromotion

from kb_site.content.models import Phrasing, SectionPage
from search import caches, results, suggest
from search.caches import Generations, LRUCache, SharedValue
from tests.search.processes import django_script, run_script

TABLE = "callbook_cache_test"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kb_for_the_module", "search_index")]


@pytest.fixture
def shared_cache(settings):
    """``CACHES`` as ``CALLBOOK_CACHE=database`` sets it, on a table made the way ``migrate`` makes it."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": TABLE}
    }
    caches.create_cache_tables()
    caches.generations.forget_snapshot()
    yield
    caches.generations.forget_snapshot()


@pytest.fixture
def other_process(shared_cache):
    """The other process's view of the shared cache: its own cache object and generations."""
    return Generations(cache=DatabaseCache(TABLE, {}))


def api(client, query):
    response = client.get("/search/api/", {"q": query})
    assert response.status_code == 200
    return response.json()["results"]


def test_a_section_renamed_on_another_server_is_seen_on_the_next_request(
    agent_client, kb, other_process, django_capture_on_commit_callbacks
):
    assert {r["section"] for r in api(agent_client, "退款")} == {"电商售前售后"}
    other_sections = SharedValue(results.SectionIndex, ttl=3600, name="sections", generations=other_process)
    other_sections.get()

    SectionPage.objects.filter(pk=kb["section"].pk).update(title="电商售后服务")
    assert {r["section"] for r in api(agent_client, "退款")} == {"电商售前售后"}  # nobody said so yet

    with django_capture_on_commit_callbacks(execute=True):
        other_sections.invalidate()
    assert {r["section"] for r in api(agent_client, "退款")} == {"电商售后服务"}
    assert other_sections.get().by_id[kb["section"].pk].title == "电商售后服务"


def test_a_promotion_made_on_another_server_is_shown_at_once(
    agent_client, kb, other_process, django_capture_on_commit_callbacks
):
    assert not any(r["promoted"] for r in api(agent_client, "退款"))
    other_promoted = SharedValue(lambda: None, ttl=3600, name="promoted_queries", generations=other_process)

    SearchPromotion.objects.bulk_create(
        [SearchPromotion(query=Query.get("退款"), page=kb["parcel"], description="先查物流", sort_order=0)]
    )
    assert not any(r["promoted"] for r in api(agent_client, "退款"))

    with django_capture_on_commit_callbacks(execute=True):
        other_promoted.invalidate()
    first = api(agent_client, "退款")[0]
    assert first["promoted"] and first["url"] == kb["parcel"].url


def test_a_phrasing_renamed_on_another_server_is_suggested_at_once(
    agent_client, kb, other_process, django_capture_on_commit_callbacks
):
    def suggested(typed):
        response = agent_client.get("/search/suggest/", {"q": typed})
        assert response.status_code == 200
        return [item["title"] for item in response.json()]

    assert "结束语" in suggested("结束")
    other_index = suggest.SharedIndex(ttl=3600, generations=other_process)
    Phrasing.objects.filter(pk=kb["closing"].pk).update(title="来电结束问候")
    assert suggested("问候") == []

    with django_capture_on_commit_callbacks(execute=True):
        other_index.invalidate()
    assert suggested("问候") == ["来电结束问候"]


def test_a_change_announced_by_another_os_process_is_seen_on_the_next_request(
    agent_client, kb, settings, tmp_path
):
    """The same through a cache another Python process writes (a file cache both can read: the test
    database lives in this process's memory, so the other process cannot share the database cache)."""
    location = str(tmp_path / "cache")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": location}
    }
    caches.generations.forget_snapshot()
    assert {r["section"] for r in api(agent_client, "退款")} == {"电商售前售后"}
    SectionPage.objects.filter(pk=kb["section"].pk).update(title="电商售后服务")
    assert {r["section"] for r in api(agent_client, "退款")} == {"电商售前售后"}

    script = django_script(
        """
        import sys
        from django.core.cache.backends.filebased import FileBasedCache
        from search.caches import Generations

        Generations(cache=FileBasedCache(sys.argv[1], {})).bump("sections")
        """
    )
    result = run_script(script, location)
    assert result.returncode == 0, result.stderr
    assert {r["section"] for r in api(agent_client, "退款")} == {"电商售后服务"}


def test_a_change_made_here_is_announced_only_when_it_commits(
    agent_client, kb, other_process, django_capture_on_commit_callbacks
):
    other_sections = SharedValue(results.SectionIndex, ttl=3600, name="sections", generations=other_process)
    assert kb["section"].pk in other_sections.get().by_id

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        kb["section"].title = "电商售后服务"
        kb["section"].save()  # the signal this process's caches listen to
    other_process.forget_snapshot()
    assert other_sections.get().by_id[kb["section"].pk].title == "电商售前售后"  # not committed yet

    for callback in callbacks:
        callback()
    other_process.forget_snapshot()
    assert other_sections.get().by_id[kb["section"].pk].title == "电商售后服务"


def test_the_generations_are_read_once_per_request(agent_client, kb, shared_cache):
    api(agent_client, "退款")
    agent_client.get("/search/suggest/", {"q": "退款"})
    with CaptureQueriesContext(connection) as queries:
        api(agent_client, "投诉")  # sections, promotions, learned links, page texts, vocabulary…
    reads = [q["sql"] for q in queries.captured_queries if "callbook:generation:" in q["sql"]]
    assert len(reads) == 1, reads


def test_a_cleared_shared_cache_makes_every_copy_reload(shared_cache):
    here = Generations()
    there = Generations(cache=DatabaseCache(TABLE, {}))
    loads = []
    here_texts = LRUCache(8, name="page_texts", generations=here)
    there_texts = LRUCache(8, name="page_texts", generations=there)
    assert here_texts.get_or_compute("page 1", lambda: loads.append("here") or "旧") == "旧"
    assert there_texts.get_or_compute("page 1", lambda: loads.append("there") or "旧") == "旧"

    there.cache.clear()  # e.g. culled, or cleared by hand
    here.forget_snapshot()
    assert here_texts.get_or_compute("page 1", lambda: loads.append("here") or "新") == "新"
    there.forget_snapshot()
    assert there_texts.get_or_compute("page 1", lambda: loads.append("there") or "新") == "新"
    assert loads == ["here", "there", "here", "there"]


def test_migrate_creates_the_database_cache_table(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "callbook_cache_probe",
        }
    }
    assert "callbook_cache_probe" not in connection.introspection.table_names()
    call_command("migrate", "search", verbosity=0)
    assert "callbook_cache_probe" in connection.introspection.table_names()


def test_an_lru_bounded_by_weight_forgets_the_least_recent_and_keeps_nothing_too_heavy():
    kept = LRUCache(10, max_weight=10, weigh=lambda _key, value: len(value))
    kept.put("a", "xxxx")
    kept.put("b", "xxxx")
    assert kept.get("a") == "xxxx"  # now the most recent
    kept.put("c", "xxxx")  # 12 > 10: the least recently used goes
    assert list(kept) == ["a", "c"] and kept.weight == 8
    kept.put("a", "x")  # a value replaced weighs as the new one
    assert list(kept) == ["c", "a"] and kept.weight == 5
    kept.put("d", "x" * 11)  # heavier than everything allowed: computed, never kept, nothing else lost
    assert "d" not in kept and list(kept) == ["c", "a"] and kept.weight == 5
    kept.clear()
    assert list(kept) == [] and kept.weight == 0
