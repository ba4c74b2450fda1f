"""Uploaded documents have their text extracted by a task, outside the request: an upload saves at once,
hostile files end as 未能提取 with the reason, readable ones become searchable, and the editor sees the
state in the admin. Tasks run at once here (test settings), except in the test of the worker itself."""

import importlib
import signal

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks_db.models import DBTaskResult
from wagtail import hooks
from wagtail.documents import get_document_model
from wagtail.models import Collection

from kb_site.content.models import TextExtraction
from kb_site.demo import LOADER_HOOK
from search.tasks import extract_document_text
from tests.search.frontend_data import refresh_index
from tests.search.test_extraction import make_docx, make_docx_bomb, make_pdf, make_pdf_bomb, make_pptx

pytestmark = pytest.mark.usefixtures("search_index")

DATABASE_TASKS = {DEFAULT_TASK_BACKEND_ALIAS: {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def create(title, data, name):
    return get_document_model().objects.create(title=title, file=ContentFile(data, name=name))


def upload(client, title, data, name):
    return client.post(
        "/admin/documents/add/",
        {
            "title": title,
            "file": ContentFile(data, name=name),
            "collection": Collection.get_first_root_node().id,
        },
    )


@pytest.fixture
def trainer_client(client, trainer):
    client.force_login(trainer)
    return client


@pytest.mark.django_db
def test_admin_upload_of_a_docx_zip_bomb_saves_the_document_with_the_reason(trainer_client):
    response = upload(trainer_client, "压缩炸弹", make_docx_bomb(), "bomb.docx")
    assert response.status_code == 302, response.content.decode()[:2000]
    document = get_document_model().objects.get(title="压缩炸弹")
    assert document.extraction_status == TextExtraction.FAILED
    assert "压缩炸弹" in document.extraction_note and document.extracted_text == ""
    assert document.extraction_summary.startswith("未能提取：文件中的 word/document.xml 解压后约")


@pytest.mark.django_db
def test_admin_multiple_upload_of_a_pdf_deflate_bomb(trainer_client):
    response = trainer_client.post(
        "/admin/documents/multiple/add/",
        {"files[]": ContentFile(make_pdf_bomb(10, pages=3), name="bomb.pdf")},
    )
    assert response.status_code == 200 and response.json()["success"], response.content.decode()[:2000]
    document = get_document_model().objects.get()
    assert document.extraction_status == TextExtraction.FAILED
    assert document.extraction_note == "第 1 页内容过大或无法解析，已略去"


@pytest.mark.django_db
def test_admin_upload_extracts(trainer_client):
    response = upload(trainer_client, "错货补发", make_docx("错货补发流程说明"), "wrong-item.docx")
    assert response.status_code == 302
    document = get_document_model().objects.get(title="错货补发")
    assert "错货补发流程说明" in document.extracted_text
    assert document.extraction_status == TextExtraction.DONE and document.extraction_note == ""


@pytest.mark.django_db
def test_extracted_documents_are_searchable(agent_client):
    document = create("新员工培训课件", make_pptx("包裹破损先拍照留证"), "training.pptx")
    create("升级矩阵", make_pdf("escalation matrix"), "matrix.pdf")
    document.refresh_from_db()
    assert "包裹破损先拍照留证" in document.extracted_text
    refresh_index()

    results = agent_client.get("/search/api/", {"q": "破损"}).json()["results"]
    assert [(r["title"], r["type"]) for r in results] == [("新员工培训课件", "document")]
    assert "<mark>破损</mark>" in results[0]["snippet"]
    assert results[0]["url"] == document.url
    results = agent_client.get("/search/api/", {"q": "escalation"}).json()["results"]
    assert [r["title"] for r in results] == ["升级矩阵"]


@pytest.mark.django_db
def test_replacing_the_file_re_extracts():
    document = create("规范", make_docx("旧内容甲"), "a.docx")
    document.refresh_from_db()
    assert "旧内容甲" in document.extracted_text
    document.title = "规范（改名）"
    document.save()
    document.refresh_from_db()
    assert "旧内容甲" in document.extracted_text and document.extraction_status == TextExtraction.DONE
    document.file = ContentFile(make_docx("新内容乙"), name="b.docx")
    document.save()
    document.refresh_from_db()
    assert "新内容乙" in document.extracted_text and "旧内容甲" not in document.extracted_text


@pytest.mark.django_db
def test_other_file_types_are_not_extracted():
    document = create("报表", b"a,b\n1,2\n", "report.csv")
    document.refresh_from_db()
    assert document.extraction_status == TextExtraction.NOT_APPLICABLE
    assert document.extraction_summary == "不提取正文"


@pytest.mark.django_db
def test_a_task_for_a_replaced_file_does_nothing():
    document = create("规范", make_docx("现行内容"), "a.docx")
    assert extract_document_text.call(document.pk, "documents/replaced-long-ago.docx") == "skipped"
    assert extract_document_text.call(document.pk + 1000, document.file.name) == "skipped"
    document.refresh_from_db()
    assert document.extraction_status == TextExtraction.DONE and "现行内容" in document.extracted_text


@pytest.mark.django_db
def test_listing_and_edit_page_show_the_state(trainer_client):
    upload(trainer_client, "压缩炸弹", make_docx_bomb(), "bomb.docx")
    upload(trainer_client, "正常文档", make_docx("正常内容"), "fine.docx")
    bomb, fine = (get_document_model().objects.get(title=title) for title in ("压缩炸弹", "正常文档"))

    listing = trainer_client.get("/admin/documents/").content.decode()
    assert 'data-extraction-status="failed"' in listing and "未能提取：文件中的 word/document.xml" in listing
    assert f"已提取（{len(fine.extracted_text)} 字）" in listing

    page = trainer_client.get(f"/admin/documents/edit/{bomb.pk}/").content.decode()
    assert bomb.extraction_summary in page and "更换为可读的文件后会重新提取" in page
    get_document_model().objects.filter(pk=fine.pk).update(extraction_status=TextExtraction.RUNNING)
    page = trainer_client.get(f"/admin/documents/edit/{fine.pk}/").content.decode()
    assert "正文提取中" in page and "完成后刷新本页查看" in page


@pytest.mark.django_db
def test_extract_document_text_command_queues_waiting_and_failed_documents():
    waiting = create("待提取", make_docx("迁移前的文档"), "waiting.docx")
    failed = create("失败过", make_docx("后来能读了"), "failed.docx")
    Document = get_document_model()
    Document.objects.filter(pk=waiting.pk).update(extraction_status=TextExtraction.QUEUED, extracted_text="")
    Document.objects.filter(pk=failed.pk).update(extraction_status=TextExtraction.FAILED, extracted_text="")

    call_command("extract_document_text", verbosity=0)
    waiting.refresh_from_db()
    failed.refresh_from_db()
    assert waiting.extraction_status == TextExtraction.DONE and "迁移前的文档" in waiting.extracted_text
    assert failed.extraction_status == TextExtraction.FAILED

    call_command("extract_document_text", "--failed", verbosity=0)
    failed.refresh_from_db()
    assert failed.extraction_status == TextExtraction.DONE and "后来能读了" in failed.extracted_text


@pytest.fixture
def worker_signals():
    """``db_worker`` installs its shutdown handlers in this process: give pytest its own back."""
    names = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    saved = {name: signal.getsignal(name) for name in names}
    yield
    for name, handler in saved.items():
        signal.signal(name, handler)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_uploads_return_at_once_and_the_worker_extracts(settings, trainer, client, worker_signals):
    """The database backend, as in production: the request only queues; ``db_worker`` does the work."""
    settings.TASKS = DATABASE_TASKS
    client.force_login(trainer)
    assert upload(client, "压缩炸弹", make_docx_bomb(), "bomb.docx").status_code == 302
    assert upload(client, "炸弹PDF", make_pdf_bomb(10, pages=3), "bomb.pdf").status_code == 302
    assert upload(client, "退货规范", make_docx("七天无理由退货"), "returns.docx").status_code == 302

    Document = get_document_model()
    assert set(Document.objects.values_list("extraction_status", "extracted_text")) == {
        (TextExtraction.QUEUED, "")
    }
    queued = DBTaskResult.objects.filter(task_path="search.tasks.extract_document_text")
    assert queued.count() == 3 and {task.status for task in queued} == {"READY"}

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    assert {task.status for task in DBTaskResult.objects.all()} == {"SUCCESSFUL"}
    docx_bomb, pdf_bomb, returns = (
        Document.objects.get(title=t) for t in ("压缩炸弹", "炸弹PDF", "退货规范")
    )
    assert docx_bomb.extraction_status == TextExtraction.FAILED and "压缩炸弹" in docx_bomb.extraction_note
    assert pdf_bomb.extraction_status == TextExtraction.FAILED and "第 1 页" in pdf_bomb.extraction_note
    assert returns.extraction_status == TextExtraction.DONE and "七天无理由退货" in returns.extracted_text
    refresh_index()
    assert [d.title for d in Document.objects.search("无理由")] == ["退货规范"]


@pytest.mark.django_db
def test_load_demo_leaves_no_tasks_queued(settings, monkeypatch):
    """The demo's saves run their index, reference and extraction tasks in process, not in the queue."""
    settings.TASKS = DATABASE_TASKS

    def load_a_document(update, report, **options):
        create("演示文档", make_docx("演示正文"), "demo.docx")

    get_hooks = hooks.get_hooks
    monkeypatch.setattr(
        hooks, "get_hooks", lambda name: [load_a_document] if name == LOADER_HOOK else get_hooks(name)
    )
    call_command("load_demo", "--no-users", verbosity=0)

    assert not DBTaskResult.objects.exists()
    document = get_document_model().objects.get(title="演示文档")
    assert document.extraction_status == TextExtraction.DONE and "演示正文" in document.extracted_text


@pytest.mark.django_db
def test_migration_gives_existing_documents_their_state():
    """Rows from before the state existed: text → 已提取, extractable without text → 待提取, others → 不提取正文."""
    from django.apps import apps

    migration = importlib.import_module("kb_site.content.migrations.0005_document_text_extraction")
    extracted = create("有文字", make_docx("旧文字"), "old.docx")
    empty = create("没有文字", b"%PDF-garbage", "broken.pdf")
    sheet = create("表格", b"a,b", "sheet.csv")
    Document = get_document_model()
    Document.objects.update(extraction_status=TextExtraction.QUEUED)

    migration.set_status(apps, None)
    states = dict(Document.objects.values_list("pk", "extraction_status"))
    assert states == {
        extracted.pk: TextExtraction.DONE,
        empty.pk: TextExtraction.QUEUED,
        sheet.pk: TextExtraction.NOT_APPLICABLE,
    }
