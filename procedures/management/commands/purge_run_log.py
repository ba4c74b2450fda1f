"""Retention purge of the run log: the one sanctioned way to delete runs and their events.

    manage.py purge_run_log --before 2025-01-01 [--dry-run]

Deletes the runs that are finished (stored status completed or abandoned; runs still marked in
progress are always kept) and started before the given day (local time, ``TIME_ZONE``), with all
their events, in one transaction. The database refuses deleting run events otherwise (see
``procedures.models.run_log``): the DELETE trigger is lifted for that transaction only, by
``run_log_unlocked``. What is deleted is logged (logger ``procedures.purge_run_log``, WARNING).
"""

import argparse
import datetime
import logging

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from procedures.models import ProcedureRun, RunEvent
from procedures.models.run_log import run_log_unlocked

logger = logging.getLogger("procedures.purge_run_log")

BATCH = 500


def _day(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a date as YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = (
        "Delete finished procedure runs started before a day, with their events (retention purge). "
        "The only way run events are ever deleted; logged."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--before", required=True, type=_day, help="YYYY-MM-DD, local time: runs started earlier"
        )
        parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, before, dry_run, database, **options):
        cutoff = timezone.make_aware(datetime.datetime.combine(before, datetime.time.min))
        runs = ProcedureRun.objects.using(database).purgeable(cutoff)
        if dry_run:
            run_count = runs.count()
            event_count = RunEvent.objects.using(database).filter(run__in=runs).count()
            self.stdout.write(
                f"Dry run: would delete {run_count} finished run(s) started before {before} "
                f"and their {event_count} event(s)."
            )
            return
        run_count = event_count = 0
        with transaction.atomic(using=database), run_log_unlocked(database):
            while ids := list(runs.values_list("pk", flat=True)[:BATCH]):
                # The plain base manager: RunEvent.objects refuses delete() on purpose.
                events = RunEvent._base_manager.using(database).filter(run_id__in=ids)
                event_count += events.delete()[1].get(RunEvent._meta.label, 0)
                deleted = ProcedureRun.objects.using(database).filter(pk__in=ids).delete()[1]
                run_count += deleted.get(ProcedureRun._meta.label, 0)
        logger.warning(
            "purge_run_log: deleted %d finished run(s) started before %s and their %d event(s)",
            run_count,
            before,
            event_count,
        )
        self.stdout.write(
            f"Deleted {run_count} finished run(s) started before {before} and their {event_count} event(s)."
        )
