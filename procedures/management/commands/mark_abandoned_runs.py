from django.core.management.base import BaseCommand

from procedures.models import abandon_after
from procedures.runs import mark_abandoned_runs


class Command(BaseCommand):
    help = "Mark procedure runs untouched for CALLBOOK_RUN_ABANDON_AFTER_MINUTES as abandoned (run it from cron)."

    def handle(self, *args, **options):
        count = mark_abandoned_runs()
        minutes = int(abandon_after().total_seconds() // 60)
        self.stdout.write(f"Marked {count} run(s) untouched for {minutes} minutes as abandoned.")
