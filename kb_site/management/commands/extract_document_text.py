from django.core.management.base import BaseCommand

from kb_site.content.models import CallbookDocument, TextExtraction
from search import tasks
from search.extraction import can_extract


class Command(BaseCommand):
    help = (
        "Queue the text extraction of documents for the task worker: those waiting (待提取, e.g. after an "
        "upgrade) or left running by a stopped worker; with --failed also those that failed (after raising "
        "CALLBOOK_TEXT_EXTRACTION_LIMITS); with --all every document."
    )

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="Also retry documents that failed")
        parser.add_argument("--all", action="store_true", help="Extract every document again")

    def handle(self, *args, **options):
        documents = CallbookDocument.objects.all()
        if not options["all"]:
            statuses = [TextExtraction.QUEUED, TextExtraction.RUNNING]
            if options["failed"]:
                statuses.append(TextExtraction.FAILED)
            documents = documents.filter(extraction_status__in=statuses)
        documents = [document for document in documents if can_extract(document.file.name)]
        CallbookDocument.objects.filter(pk__in=[document.pk for document in documents]).update(
            extraction_status=TextExtraction.QUEUED, extraction_note=""
        )
        for document in documents:
            tasks.queue(document)
        self.stdout.write(f"Queued the text extraction of {len(documents)} document(s).")
