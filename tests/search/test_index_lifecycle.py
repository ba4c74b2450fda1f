"""The index follows content changes, survives crashes and swaps atomically on rebuild (real Whoosh on disk)."""

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from django.core.management import call_command
from django.db import transaction
from wagtail.models import Page
from whoosh import query as wq

from kb_site.content.models import ArticlePage, HomePage, Phrasing
from search.backend.documents import build_document, model_label
from search.backend.index import WhooshRebuilder
from search.backend.storage import INDEX_NAME
from tests.factories import ArticlePageFactory, HomePageFactory, PhrasingFactory, SectionPageFactory, publish
from tests.search.processes import REPO_ROOT, django_script, run_script

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("search_index")]


def indexed_pks(backend, model):
    """Primary keys of ``model`` documents in the live index, read straight from Whoosh."""
    searcher = backend.get_index_for_model(model).store.searcher()
    return {hit["pk"] for hit in searcher.search(wq.Term("ct", model_label(model)), limit=None)}


def titles(results):
    return [r.title for r in results]


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on_commit callbacks when the block exits, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_publish_and_unpublish_update_the_index(section, search_index, on_commit):
    with on_commit():
        page = ArticlePageFactory(parent=section, title="夜间值班规定", live=False)
    assert str(page.pk) in indexed_pks(search_index, ArticlePage)
    assert titles(Page.objects.live().search("值班")) == []

    with on_commit():
        publish(page)
    assert titles(Page.objects.live().search("值班")) == ["夜间值班规定"]

    with on_commit():
        page.unpublish()
    assert titles(Page.objects.live().search("值班")) == []
    assert titles(Page.objects.search("值班")) == ["夜间值班规定"]


def test_delete_removes_the_document(section, search_index, on_commit):
    with on_commit():
        page = ArticlePageFactory(parent=section, title="临时通知")
    pk = str(page.pk)
    assert pk in indexed_pks(search_index, ArticlePage)
    with on_commit():
        page.delete()
    assert pk not in indexed_pks(search_index, ArticlePage)
    assert pk not in indexed_pks(search_index, Page)


def test_move_reindexes_the_moved_subtree(home, section, search_index, on_commit):
    with on_commit():
        article = ArticlePageFactory(parent=section, title="跨部门转接规范")
        other_home = HomePageFactory(parent=Page.get_first_root_node(), slug="other-home", title="分中心")
        other_section = SectionPageFactory(parent=other_home, title="分中心业务", slug="branch")

    # Move a single page between sections.
    with on_commit():
        Page.objects.get(pk=article.pk).move(other_section, pos="last-child")
    assert titles(ArticlePage.objects.descendant_of(other_section).search("转接")) == ["跨部门转接规范"]
    assert titles(ArticlePage.objects.descendant_of(section).search("转接")) == []

    # Move a whole section: its article's path changes without a post_save of its own.
    with on_commit():
        Page.objects.get(pk=other_section.pk).move(home, pos="last-child")
    moved = ArticlePage.objects.descendant_of(home).search("转接")
    assert titles(moved) == ["跨部门转接规范"]
    assert moved.count() == 1
    assert (
        titles(ArticlePage.objects.descendant_of(HomePage.objects.get(pk=other_home.pk)).search("转接")) == []
    )


def test_snippet_save_and_delete(section, search_index, on_commit):
    with on_commit():
        phrasing = PhrasingFactory(title="催单安抚", text="非常理解您着急的心情。")
    assert titles(Phrasing.objects.search("催单")) == ["催单安抚"]

    with on_commit():
        phrasing.title = "物流延误安抚"
        phrasing.save()
    assert titles(Phrasing.objects.search("催单")) == []
    assert titles(Phrasing.objects.search("延误")) == ["物流延误安抚"]

    pk = str(phrasing.pk)
    with on_commit():
        phrasing.delete()
    assert pk not in indexed_pks(search_index, Phrasing)


def test_rolled_back_save_leaves_no_phantom(search_index, on_commit):
    before = indexed_pks(search_index, Phrasing)
    with on_commit(), pytest.raises(RuntimeError), transaction.atomic():
        PhrasingFactory(title="幽灵话术", text="不应出现在索引里。")
        raise RuntimeError("editor's save failed")
    assert indexed_pks(search_index, Phrasing) == before
    assert titles(Phrasing.objects.search("幽灵")) == []


def test_refresh_skips_the_writes_of_a_rolled_back_savepoint(search_index, on_commit):
    with on_commit():
        phrasing = PhrasingFactory(title="保留话术", text="删除失败后仍应可搜索。")
    pk = str(phrasing.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        phrasing.delete()
        raise RuntimeError("editor's delete failed")
    search_index.refresh_indexes()  # applies the writes still pending in this transaction
    assert pk in indexed_pks(search_index, Phrasing)
    assert titles(Phrasing.objects.search("保留话术")) == ["保留话术"]


def test_refresh_applies_the_pending_writes_of_a_store_in_one_commit_in_their_order(search_index):
    kept = PhrasingFactory(title="待修订话术", text="稍后修订标题。")
    dropped = PhrasingFactory(title="待删除话术", text="稍后被删除。")
    search_index.refresh_indexes()
    store = search_index.get_index_for_model(Phrasing).store
    generation = store.open(store.current_generation()).latest_generation()

    # Three writes waiting in this transaction for the same index: an addition, a deletion, an addition.
    PhrasingFactory(title="新增话术一", text="第一条。")
    dropped_pk = str(dropped.pk)
    dropped.delete()
    kept.title = "待修订话术（修订）"
    kept.save()
    search_index.refresh_indexes()

    assert store.open(store.current_generation()).latest_generation() == generation + 1
    assert dropped_pk not in indexed_pks(search_index, Phrasing)
    assert titles(Phrasing.objects.search("新增话术一")) == ["新增话术一"]
    assert titles(Phrasing.objects.search("修订")) == ["待修订话术（修订）"]
    assert titles(Phrasing.objects.search("待删除")) == []


def test_tags_saved_after_the_row_are_indexed(section, search_index, on_commit):
    # ClusterTaggableManager commits tags after the page row (after post_save): the deferred write
    # re-reads the committed state.
    with on_commit():
        page = ArticlePageFactory(parent=section, title="会员权益说明")
        page.tags.add("积分兑换")
        page.save()
    assert titles(ArticlePage.objects.search("积分兑换")) == ["会员权益说明"]


def test_update_index_swaps_atomically_and_old_index_keeps_serving(search_index, on_commit):
    with on_commit():
        PhrasingFactory(title="开场问候", text="您好，很高兴为您服务。")
    index = search_index.get_index_for_model(Phrasing)
    store = index.store
    old_generation = store.current_generation()
    old_searcher = store.open(old_generation).searcher()  # e.g. another worker process

    rebuilder = WhooshRebuilder(index)
    new_index = rebuilder.start()
    new_index.add_model(Phrasing)
    new_index.add_items(Phrasing, list(Phrasing.objects.all()))
    # Mid-rebuild: the pointer is unchanged and searches use the old generation.
    assert store.current_generation() == old_generation
    with on_commit():
        PhrasingFactory(title="结束语", text="感谢来电，再见。")
    assert titles(Phrasing.objects.search("再见")) == ["结束语"]

    rebuilder.finish()
    new_generation = store.current_generation()
    assert new_generation != old_generation
    assert titles(Phrasing.objects.search("问候")) == ["开场问候"]
    # The save made during the rebuild was journaled and replayed into the new generation.
    assert titles(Phrasing.objects.search("再见")) == ["结束语"]
    assert not store.journal_path.exists()
    # The old generation is kept for searchers that still have it open.
    assert (store.base_path / old_generation).is_dir()
    assert [hit["pk"] for hit in old_searcher.search(wq.Every(), limit=None)]

    # The full command builds yet another generation and drops the oldest.
    call_command("update_index", verbosity=0)
    assert store.current_generation() not in (old_generation, new_generation)
    assert not (store.base_path / old_generation).exists()
    assert titles(Phrasing.objects.search("再见")) == ["结束语"]


def test_update_index_reads_every_object_in_pages_by_primary_key(search_index, on_commit):
    """Pages of ``--chunk_size`` objects after the last one read (``pk > last``), no ``OFFSET`` slices,
    which make the database skip every row already read; every object is indexed once."""
    from io import StringIO

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with on_commit():
        for n in range(7):
            PhrasingFactory(title=f"分页话术{n}", text=f"分页索引第{n}条")
    with CaptureQueriesContext(connection) as queries:
        call_command("update_index", backend_name="default", chunk_size=3, verbosity=0, stdout=StringIO())
    phrasing_reads = [
        q["sql"] for q in queries if 'FROM "content_phrasing"' in q["sql"] and "COUNT" not in q["sql"]
    ]
    assert len(phrasing_reads) == 4  # 3 + 3 + 1, then an empty page
    assert not any("OFFSET" in sql for sql in phrasing_reads)
    assert indexed_pks(search_index, Phrasing) == {
        str(pk) for pk in Phrasing.objects.values_list("pk", flat=True)
    }
    assert len(Phrasing.objects.search("分页")) == 7


def test_abandoned_rebuild_leaves_the_live_index_working(search_index, on_commit):
    with on_commit():
        PhrasingFactory(title="退货流程", text="七天无理由退货。")
    index = search_index.get_index_for_model(Phrasing)
    live_generation = index.store.current_generation()
    rebuilder = WhooshRebuilder(index)
    half_built = rebuilder.start()
    half_built.add_items(Phrasing, list(Phrasing.objects.all()))
    half_built.writer.cancel()  # the process "dies" before finish()

    assert index.store.current_generation() == live_generation
    assert titles(Phrasing.objects.search("退货")) == ["退货流程"]
    call_command("update_index", verbosity=0)
    assert not (index.store.base_path / half_built.generation).exists()
    assert titles(Phrasing.objects.search("退货")) == ["退货流程"]


def test_writer_killed_mid_write_leaves_an_openable_index(search_index, on_commit):
    with on_commit():
        phrasing = PhrasingFactory(title="投诉升级", text="转接值班主管。")
    store = search_index.get_index_for_model(Phrasing).store
    path = store.generation_path(store.current_generation())
    script = textwrap.dedent(
        f"""
        import os
        from whoosh import index
        ix = index.open_dir({str(path)!r}, indexname={INDEX_NAME!r})
        writer = ix.writer()
        for i in range(200):
            writer.add_document(pk=str(100000 + i), ct="content.phrasing", s_title="半截写入")
        os._exit(1)  # killed before commit, still holding the write lock
        """
    )
    result = run_script(script, timeout=60)
    assert result.returncode == 1

    # The lock died with the process, the index opens, and the next write succeeds.
    with on_commit():
        phrasing.text = "转接值班主管并记录工单。"
        phrasing.save()
    assert titles(Phrasing.objects.search("工单")) == ["投诉升级"]
    assert titles(Phrasing.objects.search("半截写入")) == []


def test_second_writer_waits_for_the_lock_and_succeeds(search_index):
    phrasing = Phrasing.objects.create(title="占线提示", text="线路繁忙，请稍候。", live=True)
    store = search_index.get_index_for_model(Phrasing).store
    ix = store.open(store.ensure())
    holder = store.open_writer(ix)  # an editor's save in another thread/process holds the lock

    outcome = {}

    def second_writer():
        started = time.monotonic()
        try:
            store.apply([("add", build_document(phrasing))])
            outcome["ok"] = True
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            outcome["error"] = exc
        outcome["waited"] = time.monotonic() - started

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.6)
    assert thread.is_alive()  # still waiting for the lock
    holder.commit()
    thread.join(timeout=15)
    assert outcome.get("ok"), outcome
    assert outcome["waited"] >= 0.5
    assert titles(Phrasing.objects.search("占线")) == ["占线提示"]


def test_lock_timeout_does_not_fail_the_editors_save(settings, search_index, on_commit, caplog):
    settings.WAGTAILSEARCH_BACKENDS["default"]["LOCK_TIMEOUT"] = 0.3
    store = search_index.get_index_for_model(Phrasing).store
    holder = store.open_writer(store.open(store.ensure()))
    try:
        with on_commit():
            phrasing = PhrasingFactory(title="系统故障说明", text="系统正在维护。")
    finally:
        holder.cancel()
    assert Phrasing.objects.filter(pk=phrasing.pk).exists()  # the save went through
    assert os.path.isdir(store.generation_path(store.current_generation()))


def test_rebuild_removes_indexes_of_other_analyzer_versions(search_index):
    store = search_index.get_index_for_model(Phrasing).store
    store.ensure()
    old_dir = store.base_path / "content_phrasing__a0oldvers1.20200101000000-deadbeef"
    old_dir.mkdir()
    (store.base_path / "content_phrasing__a0oldvers1.current").write_text(old_dir.name)
    call_command("update_index", verbosity=0)
    assert not old_dir.exists()
    assert not (store.base_path / "content_phrasing__a0oldvers1.current").exists()
    assert store.generation_path(store.current_generation()).is_dir()


def test_concurrent_writer_processes_all_succeed(search_index):
    store = search_index.get_index_for_model(Phrasing).store
    store.ensure()
    script = django_script(
        f"""
        from search.backend.storage import IndexStore
        store = IndexStore({str(store.base_path)!r}, {store.name!r}, lock_timeout=60)
        worker = int(sys.argv[1])
        for i in range(20):
            pk = str(worker * 1000 + i)
            store.apply([("add", {{"pk": pk, "ct": "content.phrasing", "s_title": "并发写入"}})])
        """
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(n)], cwd=REPO_ROOT, stderr=subprocess.PIPE)
        for n in range(1, 3)
    ]
    for worker in workers:
        _out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err.decode()
    expected = {str(n * 1000 + i) for n in range(1, 3) for i in range(20)}
    assert indexed_pks(search_index, Phrasing) == expected
