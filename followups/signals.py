"""Receivers: a run that ends leaves its follow-ups; a run worked for a follow-up closes it."""

from django.dispatch import receiver

from procedures.choices import RunStatus
from procedures.signals import run_ended

from . import handling


@receiver(run_ended, dispatch_uid="followups_from_run")
def follow_up_run(sender, run, ending, **kwargs):
    handling.finish_work(run, ending)
    if ending != RunStatus.ABANDONED:
        handling.create_for_run(run, ending)
