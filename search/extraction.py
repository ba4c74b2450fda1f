"""Text inside uploaded documents (PDF, DOCX, PPTX), so a search finds what a training deck says.

``extract_text(fileobj, filename)`` is plain Python. ``fill_extracted_text`` is a ``pre_save``
receiver for the document model (connected by ``connect_signals`` from ``search.apps``): it
re-extracts when the file is new or replaced, so the search index picks the text up with the
document. A file that cannot be read leaves the text empty and is logged; it never blocks the upload.
"""

import io
import logging
import os

from django.db.models.signals import pre_save

logger = logging.getLogger(__name__)

MAX_CHARS = 500_000


def _pdf_text(data):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _docx_text(data):
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _pptx_text(data):
    from pptx import Presentation

    presentation = Presentation(io.BytesIO(data))
    parts = []
    for slide in presentation.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    parts.append(" ".join(cell.text for cell in row.cells))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(parts)


def _txt_text(data):
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return ""


EXTRACTORS = {".pdf": _pdf_text, ".docx": _docx_text, ".pptx": _pptx_text, ".txt": _txt_text}


def can_extract(filename):
    return os.path.splitext(filename or "")[1].lower() in EXTRACTORS


def extract_text(fileobj, filename):
    """Plain text of a PDF, DOCX, PPTX or TXT file; ``""`` for other types or unreadable files."""
    extractor = EXTRACTORS.get(os.path.splitext(filename or "")[1].lower())
    if extractor is None:
        return ""
    try:
        if hasattr(fileobj, "seek"):
            fileobj.seek(0)
        data = fileobj.read()
        if hasattr(fileobj, "seek"):
            fileobj.seek(0)
        text = extractor(data)
    except Exception:
        logger.warning("Could not extract text from %s", filename, exc_info=True)
        return ""
    text = "\n".join(line.strip() for line in text.replace("\x00", "").splitlines() if line.strip())
    return text[:MAX_CHARS]


def _file_changed(instance):
    if instance.pk is None or not instance.extracted_text:
        return True
    previous = type(instance).objects.filter(pk=instance.pk).values_list("file", flat=True).first()
    return previous != instance.file.name or getattr(instance.file, "_committed", True) is False


def fill_extracted_text(sender, instance, **kwargs):
    """pre_save: fill ``extracted_text`` from the uploaded file when the file is new or replaced."""
    if kwargs.get("raw") or not hasattr(instance, "extracted_text") or not instance.file:
        return
    if not _file_changed(instance):
        return
    if not can_extract(instance.file.name):
        instance.extracted_text = ""
        return
    try:
        instance.file.open("rb")
        instance.extracted_text = extract_text(instance.file, instance.file.name)
    except Exception:
        logger.warning("Could not read %s for text extraction", instance.file.name, exc_info=True)
        instance.extracted_text = ""


def connect_signals():
    from wagtail.documents import get_document_model

    pre_save.connect(
        fill_extracted_text, sender=get_document_model(), dispatch_uid="search_fill_extracted_text"
    )
