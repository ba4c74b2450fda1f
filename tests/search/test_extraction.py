"""Text inside PDF, DOCX, PPTX and TXT files, read within hard limits; hostile files are refused with a
reason, and the child process that reads them is stopped by its time and memory limits.

Plain tests, no database. The builders below make the sample and hostile files for the document tests
too (``tests/content/test_document_extraction.py``) and ``bench/document_upload.py``.
"""

import io
import zipfile
import zlib

import docx
import pytest
from pptx import Presentation
from pptx.util import Inches

from search.extraction import ExtractionFailed, Limits, can_extract, extract_in_subprocess, extract_text


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


def make_pptx(text, notes="", slides=1):
    presentation = Presentation()
    for number in range(slides):
        slide = presentation.slides.add_slide(presentation.slide_layouts[5])
        slide.shapes.title.text = "培训课件" if number == 0 else f"第{number + 1}张"
        box = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(6), Inches(1))
        box.text_frame.text = text
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def make_pdf(*page_texts, content=None, shared=False):
    """A PDF in the built-in Helvetica font, one page per text (ASCII). ``content`` replaces the page
    content with raw operators, deflated; with ``shared`` every page uses the first page's stream."""
    streams = []
    for text in page_texts:
        if content is not None:
            data = zlib.compress(content, 9)
            streams.append(
                b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
            )
        else:
            raw = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
            streams.append(b"<< /Length %d >>\nstream\n" % len(raw) + raw + b"\nendstream")
        if shared:
            break
    pages = len(page_texts)
    first_page = 3
    first_stream = first_page + pages
    font = first_stream + len(streams)
    kids = b" ".join(b"%d 0 R" % (first_page + n) for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
    ]
    for n in range(pages):
        stream = first_stream + (0 if shared else n)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R"
            b" /Resources << /Font << /F1 %d 0 R >> >> >>" % (stream, font)
        )
    objects += streams
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
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


def make_pdf_bomb(megabytes=10, pages=1):
    """~30 KB of PDF whose one content stream, shared by every page, inflates to ``megabytes`` MB of
    text operators (the file of the Hardening issue: 31.7 s in the request, 84 s with three pages)."""
    unit = b"BT /F1 12 Tf 72 720 Td (Callbook) Tj ET\n"
    return make_pdf(*["x"] * pages, content=unit * (megabytes * 1_000_000 // len(unit)), shared=True)


def make_docx_bomb(paragraphs=2_000_000):
    """A valid DOCX of ~0.2 MB whose word/document.xml unpacks to ``paragraphs`` paragraphs (2 million:
    ~70 MB, the file of the Hardening issue: 56 s and 1.3 GB in the request)."""
    source = zipfile.ZipFile(io.BytesIO(make_docx("x")))
    body = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * paragraphs
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename == "word/document.xml":
                data = (
                    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
                    b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
                    + body
                    + b"</w:body></w:document>"
                )
            package.writestr(member, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def reason_of(data, filename, limits=None, extract=extract_text):
    with pytest.raises(ExtractionFailed) as failure:
        extract(data, filename, limits or Limits())
    return failure.value.reason


def test_extract_docx_paragraphs_and_tables():
    extraction = extract_text(make_docx("客户投诉受理规范", "先安抚情绪再记录"), "rules.docx")
    assert "客户投诉受理规范" in extraction.text
    assert "先安抚情绪再记录" in extraction.text
    assert "十个工作日" in extraction.text
    assert extraction.notes == []


def test_extract_pptx_slides_and_notes():
    text = extract_text(make_pptx("回访时限三天", notes="讲师备注：强调时限"), "deck.pptx").text
    assert "培训课件" in text and "回访时限三天" in text and "强调时限" in text


def test_extract_pdf():
    assert (
        "Callbook escalation matrix 95598"
        in extract_text(make_pdf("Callbook escalation matrix 95598"), "m.pdf").text
    )


def test_extract_txt_in_utf8_and_gb18030():
    assert extract_text("话术：您好".encode(), "a.txt").text == "话术：您好"
    assert extract_text("话术：您好".encode("gb18030"), "a.TXT").text == "话术：您好"


def test_only_known_types_are_extracted():
    assert (
        can_extract("a.PDF") and can_extract("b.docx") and not can_extract("c.xlsx") and not can_extract("")
    )
    assert "不支持" in reason_of(b"abc", "image.png")


def test_broken_files_fail_with_a_reason():
    assert "损坏" in reason_of(b"PK\x03\x04 not really", "broken.docx")
    assert "损坏" in reason_of(b"%PDF-garbage", "broken.pdf")
    assert "编码" in reason_of(b"\xff\xfe\x00\xd8" * 10, "weird.txt")


def test_a_pdf_without_text_fails_with_a_reason():
    assert "没有可提取的文字" in reason_of(make_pdf("x", content=b"0 0 m 10 10 l S"), "scan.pdf")


def test_docx_zip_bomb_is_refused_before_parsing():
    """The zip directory gives the unpacked size away: nothing is parsed, in or out of a child."""
    bomb = make_docx_bomb()
    assert len(bomb) < 400_000
    reason = reason_of(bomb, "bomb.docx")
    assert "word/document.xml" in reason and "压缩炸弹" in reason
    assert "压缩炸弹" in reason_of(make_docx("正文"), "small.docx", Limits(unpacked_mb=0))


def test_pdf_deflate_bomb_page_is_skipped():
    """A content stream inflating past ``stream_mb`` is left out, page by page, with a note."""
    bomb = make_pdf_bomb(10, pages=3)
    assert len(bomb) < 60_000
    assert reason_of(bomb, "bomb.pdf") == "第 1 页内容过大或无法解析，已略去"
    readable = make_pdf("first page", "second page")
    assert "second page" in extract_text(readable, "ok.pdf", Limits(stream_mb=1)).text


def test_pages_sharing_a_content_stream_are_read_once():
    extraction = extract_text(make_pdf("same text", "same text", "same text", shared=True), "s.pdf")
    assert extraction.text == "same text"


def test_page_and_slide_limits():
    extraction = extract_text(make_pdf("page one", "page two", "page three"), "p.pdf", Limits(pages=2))
    assert "page two" in extraction.text and "page three" not in extraction.text
    assert extraction.notes == ["共 3 页，只提取了前 2 页"]
    extraction = extract_text(make_pptx("内容", slides=3), "d.pptx", Limits(pages=1))
    assert "培训课件" in extraction.text and "第2张" not in extraction.text
    assert extraction.notes == ["共 3 张幻灯片，只提取了前 1 张"]


def test_character_limit():
    extraction = extract_text(make_docx(*["第一段文字很长" * 10] * 50), "long.docx", Limits(chars=100))
    assert len(extraction.text) == 100
    assert extraction.notes == ["文字超过 100 字，只保留了前 100 字"]


def test_total_pdf_content_limit():
    big_page = b"BT /F1 12 Tf 72 720 Td (Callbook) Tj ET\n" * 30_000  # ~1.2 MB per page
    pdf = make_pdf("a", "b", "c", content=big_page)
    extraction = extract_text(pdf, "big.pdf", Limits(content_mb=2))
    assert "Callbook" in extraction.text
    assert extraction.notes == ["页面内容解压后超过 2 MB，第 2 页起未提取"]


def test_oversized_file_is_refused():
    assert "超过 1 MB" in reason_of(b"x" * (1024 * 1024 + 1), "big.txt", Limits(file_mb=1))


def test_child_process_extracts_a_normal_file():
    extraction = extract_in_subprocess(make_docx("错货补发流程说明"), "rules.docx")
    assert "错货补发流程说明" in extraction.text and "十个工作日" in extraction.text


def test_child_process_reports_refusals():
    reason = reason_of(make_docx_bomb(), "bomb.docx", extract=extract_in_subprocess)
    assert "压缩炸弹" in reason
    assert "第 1 页" in reason_of(make_pdf_bomb(10, pages=3), "bomb.pdf", extract=extract_in_subprocess)


def test_child_process_is_killed_at_its_time_limit():
    """A bomb within the size limits (half a million paragraphs) that takes longer than allowed."""
    bomb = make_docx_bomb(300_000)
    reason = reason_of(bomb, "slow.docx", Limits(seconds=1), extract=extract_in_subprocess)
    assert "1 秒" in reason and "已中止" in reason


def test_child_process_is_stopped_at_its_memory_limit():
    bomb = make_docx_bomb(300_000)
    reason = reason_of(bomb, "fat.docx", Limits(memory_mb=200), extract=extract_in_subprocess)
    assert "内存" in reason and "200 MB" in reason
