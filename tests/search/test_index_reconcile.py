"""Failed index writes are retried, not dropped, and ``reconcile_index`` repairs the index (real Whoosh on disk).

Failures are produced honestly: another writer really holds the Whoosh write lock while ``LOCK_TIMEOUT`` is
short, so the write under test gives up waiting.
"""

import json
import logging
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import Page
from whoosh import query as wq

from kb_site.content.models import ArticlePage, Phrasing
from search.backend.documents import build_document, model_label
from search.backend.writing import IndexWrite
from tests.factories import ArticlePageFactory, PhrasingFactory, publish
from tests.search.processes import django_script, run_script

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("search_index")]

SHORT_TIMEOUT = 0.3


def indexed_pks(backend, model):
    """Primary keys of ``model`` documents in the live index, read straight from Whoosh."""
    searcher = backend.get_index_for_model(model).store.searcher()
    return {hit["pk"] for hit in searcher.search(wq.Term("ct", model_label(model)), limit=None)}


def indexed_pks_of(store):
    """Primary keys of all documents in ``store``'s live index."""
    return {fields["pk"] for fields in store.searcher().reader().all_stored_fields()}


def retry_files(store):
    return sorted(store.retry_path.glob("*.json")) if store.retry_path.is_dir() else []


def reconcile(*args):
    out = StringIO()
    call_command("reconcile_index", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def report_line(output, store):
    return next(line for line in output.splitlines() if line.startswith(store.name + ":"))


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on_commit callbacks when the block exits, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def phrasing_store(search_index):
    store = search_index.get_index_for_model(Phrasing).store
    store.ensure()
    return store


@pytest.fixture
def short_lock_timeout(settings):
    settings.WAGTAILSEARCH_BACKENDS["default"]["LOCK_TIMEOUT"] = SHORT_TIMEOUT


class WriteLock:
    """Another writer holding the Whoosh write lock of ``store``, as a long write in another process would."""

    def __init__(self, store):
        self.store = store
        self.holder = None

    def hold(self):
        self.holder = self.store.open_writer(self.store.open(self.store.ensure()))

    def release(self):
        if self.holder is not None:
            self.holder.cancel()
            self.holder = None


@pytest.fixture
def write_lock(phrasing_store, short_lock_timeout):
    """The phrasing index's write lock, for the test to hold and release; writers give up after 0.3 s."""
    lock = WriteLock(phrasing_store)
    yield lock
    lock.release()


def test_write_failing_on_a_held_lock_is_saved_and_retried_by_the_next_write(
    phrasing_store, write_lock, on_commit, caplog
):
    caplog.set_level(logging.INFO, logger="search.backend")
    write_lock.hold()
    with on_commit():
        first = PhrasingFactory(title="系统维护通知", text="系统正在维护。")
    assert Phrasing.objects.filter(pk=first.pk).exists()  # the save went through
    assert str(first.pk) not in indexed_pks_of(phrasing_store)
    [saved] = retry_files(phrasing_store)
    assert json.loads(saved.read_text()) == {
        "using": "default",
        "adds": [["content.phrasing", str(first.pk)]],
        "deletes": [],
    }
    assert "saved as" in caplog.text

    write_lock.release()
    with on_commit():
        second = PhrasingFactory(title="退款到账时间", text="三到五个工作日。")
    assert indexed_pks_of(phrasing_store) >= {str(first.pk), str(second.pk)}
    assert retry_files(phrasing_store) == []
    assert "1 failed write(s) retried" in caplog.text
    assert [p.title for p in Phrasing.objects.search("维护")] == ["系统维护通知"]


def test_failed_write_is_retried_by_reconcile_index(phrasing_store, write_lock, on_commit):
    write_lock.hold()
    with on_commit():
        phrasing = PhrasingFactory(title="快递拒收处理", text="联系物流退回。")
    assert len(retry_files(phrasing_store)) == 1
    write_lock.release()

    output = reconcile()
    assert report_line(output, phrasing_store) == f"{phrasing_store.name}: missing 0, stale 0, retried 1"
    assert str(phrasing.pk) in indexed_pks_of(phrasing_store)
    assert retry_files(phrasing_store) == []


def test_retry_is_still_pending_while_the_lock_stays_busy(phrasing_store, write_lock, on_commit):
    write_lock.hold()
    with on_commit():
        PhrasingFactory(title="第一次失败")
    with on_commit():
        PhrasingFactory(title="第二次失败")  # replays the first, fails again: both stay saved
    assert len(retry_files(phrasing_store)) == 2
    output = reconcile()  # the lock is still held: nothing replayed, nothing lost, no exception
    assert "retried 0" in report_line(output, phrasing_store)
    assert len(retry_files(phrasing_store)) >= 2


def test_retry_file_survives_the_failing_process_and_is_replayed_later(
    phrasing_store, write_lock, on_commit, django_capture_on_commit_callbacks
):
    with on_commit():
        withdrawn = PhrasingFactory(title="旧版退货话术", text="七天无理由。")
    assert str(withdrawn.pk) in indexed_pks_of(phrasing_store)

    # The row is deleted and committed by another process, whose index write then fails on the busy lock
    # and which exits. Here only the database part runs; the index part runs in that other process.
    withdrawn_pk = str(withdrawn.pk)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        withdrawn.delete()
    for callback in callbacks:
        if isinstance(callback, IndexWrite):
            callback.done = True  # the index part is the other process's
    write_lock.hold()
    script = django_script(
        f"""
        from search.backend.storage import IndexStore
        from search.backend.writing import IndexWrite
        store = IndexStore({str(phrasing_store.base_path)!r}, {phrasing_store.name!r}, lock_timeout=0.3)
        IndexWrite(store, "default", deletes=[{withdrawn_pk!r}])()
        """
    )
    result = run_script(script)
    assert result.returncode == 0, result.stderr  # the failure did not raise
    assert "saved as" in result.stderr
    [saved] = retry_files(phrasing_store)
    assert json.loads(saved.read_text())["deletes"] == [withdrawn_pk]
    assert withdrawn_pk in indexed_pks_of(phrasing_store)  # still stale until the retry

    write_lock.release()
    with on_commit():
        PhrasingFactory(title="新版退货话术", text="十五天无理由。")
    assert withdrawn_pk not in indexed_pks_of(phrasing_store)
    assert retry_files(phrasing_store) == []
    assert [p.title for p in Phrasing.objects.search("退货话术")] == ["新版退货话术"]


def test_retried_addition_indexes_the_current_database_state(phrasing_store, write_lock, on_commit):
    write_lock.hold()
    with on_commit():
        phrasing = PhrasingFactory(title="会员积分规则", text="积分一年有效。")
    assert len(retry_files(phrasing_store)) == 1
    # Edited between the failure and the retry (update() sends no signals, so no write of its own).
    Phrasing.objects.filter(pk=phrasing.pk).update(text="积分两年有效，逾期清零。")
    write_lock.release()

    output = reconcile()
    assert report_line(output, phrasing_store) == f"{phrasing_store.name}: missing 0, stale 0, retried 1"
    assert [p.title for p in Phrasing.objects.search("逾期清零")] == ["会员积分规则"]
    assert list(Phrasing.objects.search("一年有效")) == []


def test_reconcile_adds_missing_removes_stale_and_dry_run_changes_nothing(section, search_index, on_commit):
    with on_commit():
        article = ArticlePageFactory(parent=section, title="发票开具流程")
        kept = ArticlePageFactory(parent=section, title="发票抬头修改")
    store = search_index.get_index_for_model(ArticlePage).store
    assert {str(article.pk), str(kept.pk)} <= indexed_pks(search_index, ArticlePage)
    # Pages created by migrations and fixtures were saved outside ``on_commit()``: their writes never ran.
    reconcile()

    # Behind the backend's back: one page's document is lost, and a document of a row that is gone lingers.
    ghost = build_document(kept)
    ghost["pk"] = "987654"
    store.apply([("delete", str(article.pk)), ("add", ghost)])
    before = indexed_pks(search_index, ArticlePage)
    assert str(article.pk) not in before and "987654" in before

    output = reconcile("--dry-run")
    assert report_line(output, store).startswith(f"{store.name}: missing 1, stale 1, retried 0")
    assert indexed_pks(search_index, ArticlePage) == before

    output = reconcile()
    assert report_line(output, store) == f"{store.name}: missing 1, stale 1, retried 0"
    after = indexed_pks(search_index, ArticlePage)
    assert str(article.pk) in after and "987654" not in after
    assert [p.title for p in Page.objects.search("发票开具")][:1] == ["发票开具流程"]

    assert report_line(reconcile(), store) == f"{store.name}: missing 0, stale 0, retried 0"


def test_reconcile_reports_every_index_and_a_clean_index_is_left_alone(section, search_index, on_commit):
    with on_commit():
        ArticlePageFactory(parent=section, title="售后电话")
        PhrasingFactory(title="结束语")
    reconcile()  # indexes the fixture pages, saved outside ``on_commit()``
    output = reconcile()
    for index in search_index.all_indexes():
        assert report_line(output, index.store) == f"{index.store.name}: missing 0, stale 0, retried 0"


def test_editors_save_in_the_admin_succeeds_while_the_lock_is_held(
    client, supervisor, section, phrasing_store, write_lock, on_commit
):
    phrasing = publish(PhrasingFactory(title="差评回访", section=section, text="先致歉再了解原因。"))
    client.force_login(supervisor)
    write_lock.hold()
    with on_commit():
        response = client.post(
            reverse("wagtailsnippets_content_phrasing:edit", args=[phrasing.pk]),
            {
                "title": "差评回访",
                "scenario": phrasing.scenario,
                "text": "先致歉，再记录原因并升级主管。",
                "section": section.pk,
                "tags": "",
                "action-publish": "1",
            },
        )
    assert response.status_code == 302, response.content.decode()[:1000]
    assert Phrasing.objects.get(pk=phrasing.pk).text == "先致歉，再记录原因并升级主管。"
    assert retry_files(phrasing_store)  # the index write was saved, not dropped

    write_lock.release()
    reconcile()
    assert [p.title for p in Phrasing.objects.search("升级主管")] == ["差评回访"]
    assert retry_files(phrasing_store) == []


def test_autocommit_write_failing_on_the_lock_is_saved_too(phrasing_store, write_lock, on_commit):
    # Outside a transaction (a script, a management command in autocommit) the backend writes at once;
    # that write must be saved for a retry as well. Tests run inside a transaction, so a process of its
    # own does the autocommit delete, while this test holds the lock.
    with on_commit():
        gone = PhrasingFactory(title="过期话术", text="已停用。")
    gone_pk = str(gone.pk)
    write_lock.hold()
    script = django_script(
        f"""
        from django.db import connection
        from modelsearch.backends import get_search_backend
        from kb_site.content.models import Phrasing
        assert not connection.in_atomic_block
        backend = get_search_backend(
            "default", PATH={str(phrasing_store.base_path)!r}, LOCK_TIMEOUT=0.3, FSYNC=False
        )
        backend.get_index_for_model(Phrasing).delete_item(Phrasing(pk={gone_pk}))
        """
    )
    result = run_script(script)
    assert result.returncode == 0, result.stderr
    [saved] = retry_files(phrasing_store)
    assert json.loads(saved.read_text())["deletes"] == [gone_pk]

    write_lock.release()
    Phrasing.objects.filter(pk=gone.pk)._raw_delete(Phrasing.objects.db)  # as the other process did
    assert "retried 1" in report_line(reconcile(), phrasing_store)
    assert gone_pk not in indexed_pks_of(phrasing_store)


def test_a_generation_swap_keeps_pending_retries(phrasing_store):
    saved = phrasing_store.save_retry("default", [], ["123"])
    for _ in range(3):  # each swap removes the generations older than the previous one
        phrasing_store.swap(phrasing_store.new_generation())
    assert [path for path, _ in phrasing_store.pending_retries()] == [saved]


def test_rows_are_read_only_once_the_write_lock_is_held(phrasing_store, write_lock):
    # A write waiting for the lock must not carry rows read before it waited: a newer write of the same
    # rows could land first and then be overwritten with the old text.
    phrasing_store.lock_timeout = 10
    calls = []

    def build_ops():
        calls.append(time.monotonic())
        return [("delete", "no-such-pk")]

    write_lock.hold()
    writer = threading.Thread(target=phrasing_store.apply, args=(build_ops,))
    writer.start()
    time.sleep(0.5)
    assert calls == []  # still waiting for the lock, nothing read yet
    released = time.monotonic()
    write_lock.release()
    writer.join(timeout=10)
    assert len(calls) == 1 and calls[0] >= released
