"""Run the follow-up sweep (due-soon, overdue and escalation notices) now, or queue it for the worker.

From cron or a systemd timer every minute: ``manage.py followup_sweep --enqueue`` (the worker sends the
notices; the command returns at once). ``make run`` runs it with ``--every 60`` beside the worker.
"""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from followups.sweep import sweep
from followups.tasks import sweep_follow_ups


class Command(BaseCommand):
    help = "发送跟进提醒（即将到期、已超时、升级给组长）：立即执行，或 --enqueue 交给任务进程"

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true", help="queue the sweep for the task worker instead of running it"
        )
        parser.add_argument(
            "--every",
            type=int,
            metavar="SECONDS",
            help="keep going: do it again every SECONDS until stopped (make run's loop beside the worker)",
        )

    def handle(self, *args, enqueue=False, every=None, **options):
        if not every:
            self.once(enqueue)
            return
        while True:
            close_old_connections()
            try:
                self.once(enqueue)
            except Exception as error:  # a locked database one minute must not end the loop
                self.stderr.write(f"followup_sweep: {error!r}")
            time.sleep(every)

    def once(self, enqueue):
        if enqueue:
            self.stdout.write(f"queued {sweep_follow_ups.enqueue().id}")
        else:
            counts = sweep()
            self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()))
