"""Text inside uploaded PDF, DOCX and PPTX files is extracted on save and is searchable."""

import io

import docx
import pytest
from django.core.files.base import ContentFile
from pptx import Presentation
from pptx.util import Inches
from wagtail.documents import get_document_model

from search.extraction import extract_text
from tests.search.frontend_data import refresh_index

pytestmark = pytest.mark.usefixtures("search_index")


def make_docx(*paragraphs):
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "时限"
    table.rows[0].cells[1].text = "十个工作日"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pptx(text, notes=""):
    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "培训课件"
    box = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(6), Inches(1))
    box.text_frame.text = text
    if notes:
        slide.notes_slide.notes_text_frame.text = notes
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def make_pdf(text):
    """A minimal one-page PDF with ``text`` (ASCII) in the built-in Helvetica font."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_extract_docx_paragraphs_and_tables():
    text = extract_text(io.BytesIO(make_docx("客户投诉受理规范", "先安抚情绪再记录")), "rules.docx")
    assert "客户投诉受理规范" in text
    assert "先安抚情绪再记录" in text
    assert "十个工作日" in text


def test_extract_pptx_slides_and_notes():
    text = extract_text(io.BytesIO(make_pptx("回访时限三天", notes="讲师备注：强调时限")), "deck.pptx")
    assert "培训课件" in text and "回访时限三天" in text and "强调时限" in text


def test_extract_pdf():
    text = extract_text(io.BytesIO(make_pdf("Callbook escalation matrix 95598")), "matrix.pdf")
    assert "Callbook escalation matrix 95598" in text


def test_unknown_or_broken_files_give_empty_text():
    assert extract_text(io.BytesIO(b"PK\x03\x04 not really"), "broken.docx") == ""
    assert extract_text(io.BytesIO(b"%PDF-garbage"), "broken.pdf") == ""
    assert extract_text(io.BytesIO(b"abc"), "image.png") == ""


@pytest.mark.django_db
def test_upload_fills_extracted_text_and_is_searchable(agent_client):
    Document = get_document_model()
    document = Document.objects.create(
        title="新员工培训课件", file=ContentFile(make_pptx("包裹破损先拍照留证"), name="training.pptx")
    )
    assert "包裹破损先拍照留证" in document.extracted_text
    pdf = Document.objects.create(
        title="升级矩阵", file=ContentFile(make_pdf("escalation matrix"), name="matrix.pdf")
    )
    assert "escalation matrix" in pdf.extracted_text
    refresh_index()

    results = agent_client.get("/search/api/", {"q": "破损"}).json()["results"]
    assert [(r["title"], r["type"]) for r in results] == [("新员工培训课件", "document")]
    assert "<mark>破损</mark>" in results[0]["snippet"]
    assert results[0]["url"] == document.url


@pytest.mark.django_db
def test_replacing_the_file_re_extracts():
    Document = get_document_model()
    document = Document.objects.create(title="规范", file=ContentFile(make_docx("旧内容甲"), name="a.docx"))
    assert "旧内容甲" in document.extracted_text
    document.title = "规范（改名）"
    document.save()
    assert "旧内容甲" in document.extracted_text
    document.file = ContentFile(make_docx("新内容乙"), name="b.docx")
    document.save()
    assert "新内容乙" in document.extracted_text and "旧内容甲" not in document.extracted_text


@pytest.mark.django_db
def test_admin_upload_extracts(client, trainer):
    from wagtail.models import Collection

    client.force_login(trainer)
    upload = ContentFile(make_docx("错货补发流程说明"), name="wrong-item.docx")
    response = client.post(
        "/admin/documents/add/",
        {"title": "错货补发", "file": upload, "collection": Collection.get_first_root_node().id},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "错货补发流程说明" in get_document_model().objects.get(title="错货补发").extracted_text
