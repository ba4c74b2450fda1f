"""Background work of follow-ups: the sweep that sends due-soon, overdue and escalation notices
(``followups.sweep``), run by the task worker (``manage.py db_worker``).

Nothing in the app schedules it: cron or a systemd timer runs ``manage.py followup_sweep --enqueue``
every minute in production, and ``make run`` a loop beside the worker (README).
"""

from django_tasks import task

from . import sweep


@task()
def sweep_follow_ups():
    """Run the sweep now; the task result keeps how many notices of each kind it sent."""
    return sweep.sweep()
