"""Background work of search: extracting the text of uploaded documents (``extract_document_text``).

An upload or a file replacement only marks the document 待提取 and queues the task (``pre_save`` /
``post_save`` receivers, connected by ``connect_signals`` from ``search.apps``); the task worker
(``manage.py db_worker``) reads the file in a child process under ``search.extraction.Limits`` and
records the outcome on the document, then re-indexes it so its text is found. The document model is
Wagtail's (``get_document_model()``); search knows it only through the ``*_text_extraction`` methods
it offers (``kb_site.content.models.CallbookDocument``).
"""

import logging

from django.conf import settings
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext
from django_tasks import task
from modelsearch import index
from wagtail.documents import get_document_model

from .extraction import ExtractionFailed, Limits, can_extract, extract_in_subprocess

logger = logging.getLogger(__name__)

# Index and reference updates take milliseconds and run first; an extraction may take a minute.
EXTRACTION_PRIORITY = -10


def extraction_limits():
    return Limits(**getattr(settings, "CALLBOOK_TEXT_EXTRACTION_LIMITS", {}))


@task(priority=EXTRACTION_PRIORITY)
def extract_document_text(document_id, file_name):
    """Extract the text of document ``document_id``'s file ``file_name`` and re-index the document.

    Does nothing when the document is gone or its file has been replaced since (the replacement
    queued a task of its own). Returns the outcome, which the task result keeps.
    """
    document = get_document_model().objects.filter(pk=document_id).first()
    if document is None or not document.start_text_extraction(file_name):
        return "skipped"
    limits = extraction_limits()
    try:
        data = _read(document, limits)
        extraction = extract_in_subprocess(data, file_name, limits)
    except ExtractionFailed as failure:
        document.fail_text_extraction(file_name, failure.reason)
        outcome = "failed"
    else:
        document.finish_text_extraction(file_name, extraction.text, "；".join(extraction.notes))
        outcome = "done"
    index.insert_or_update_object(document)
    return outcome


def _read(document, limits):
    limit = limits.file_mb * 1024 * 1024
    try:
        with document.file.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as error:
        logger.warning("Could not read %s for text extraction", document.file.name, exc_info=True)
        raise ExtractionFailed(gettext("找不到文件或无法读取")) from error
    if len(data) > limit:
        raise ExtractionFailed(gettext("文件超过 %(mb)s MB，未提取") % {"mb": limits.file_mb})
    return data


def _file_changed(instance):
    if instance.pk is None or getattr(instance.file, "_committed", True) is False:
        return True
    stored = type(instance).objects.filter(pk=instance.pk).values_list("file", flat=True).first()
    return stored != instance.file.name


def mark_text_extraction(sender, instance, raw=False, **kwargs):
    """pre_save: a new or replaced file forgets the old text and waits for its extraction."""
    if raw or not instance.file or not _file_changed(instance):
        return
    extractable = can_extract(instance.file.name)
    instance.queue_text_extraction(extractable)
    instance._queue_text_extraction = extractable


def queue_text_extraction(sender, instance, raw=False, **kwargs):
    """post_save: queue the extraction marked by ``mark_text_extraction``, now the file has its stored name.

    The database backend writes the task in the transaction of the save, so the worker sees it only
    once the document is committed.
    """
    if raw or not getattr(instance, "_queue_text_extraction", False):
        return
    instance._queue_text_extraction = False
    queue(instance)


def queue(document):
    """Queue the extraction of ``document``'s current file."""
    extract_document_text.enqueue(document.pk, document.file.name)


def connect_signals():
    Document = get_document_model()
    if not hasattr(Document, "queue_text_extraction"):
        return  # a document model without the extraction protocol keeps no text
    pre_save.connect(mark_text_extraction, sender=Document, dispatch_uid="search_mark_text_extraction")
    post_save.connect(queue_text_extraction, sender=Document, dispatch_uid="search_queue_text_extraction")
