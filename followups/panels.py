"""What follow-ups show on others' pages: the chain on a run's summary and timeline (and in its JSON), my
overdue and due-today follow-ups on the home page, and the header's counts."""

import datetime

from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .choices import OPEN_STATUSES
from .models import FollowUp

__all__ = ["home_panel", "my_due", "run_chain", "run_json_extra", "run_summary_panel"]


def end_of_today(now=None):
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0) + datetime.timedelta(days=1)


def may_use(user):
    return user.is_authenticated and (user.is_superuser or user.has_perm("followups.work_followup"))


def my_due(user, now=None):
    """My open follow-ups due today or already overdue, by due time."""
    return FollowUp.objects.filter(assignee=user, status__in=OPEN_STATUSES, due_at__lt=end_of_today(now))


def home_panel(request):
    if not may_use(request.user):
        return ""
    now = timezone.now()
    rows = list(my_due(request.user, now).select_related("group").order_by("due_at")[:20])
    if not rows:
        return ""
    return render_to_string(
        "followups/includes/home_panel.html",
        {"rows": rows, "now": now, "overdue": sum(1 for f in rows if f.due_at < now)},
        request=request,
    )


def run_chain(run):
    """``(left, worked)``: the follow-ups ``run`` left, and the follow-up it was run to work (or None);
    read in one statement (every finished run's summary shows them)."""
    if not run.pk:
        return [], None
    found = list(
        FollowUp.objects.filter(Q(source_run=run) | Q(work_run=run))
        .select_related("assignee", "group", "source_run", "parent")
        .defer("source_run__definition")  # the source run is named (its title and time), not walked
        .order_by("due_at", "pk")
    )
    left = [follow_up for follow_up in found if follow_up.source_run_id == run.pk]
    worked = next((follow_up for follow_up in found if follow_up.work_run_id == run.pk), None)
    return left, worked


def run_summary_panel(request, run):
    """On a finished run's summary (and its admin timeline): the chain original run → callback → 重办."""
    left, worked = run_chain(run)
    if not left and worked is None:
        return ""
    return render_to_string(
        "followups/includes/run_chain.html",
        {"left": left, "worked": worked, "run": run, "now": timezone.now()},
        request=request,
    )


def _local_iso(moment):
    return timezone.localtime(moment).isoformat() if moment else None


def _as_dict(follow_up):
    return {
        "id": str(follow_up.pk),
        "kind": follow_up.kind,
        "kind_label": follow_up.get_kind_display(),
        "title": follow_up.title,
        "status": follow_up.status,
        "status_label": follow_up.get_status_display(),
        "due_at": _local_iso(follow_up.due_at),
        "original_due_at": _local_iso(follow_up.original_due_at),
        "assignee": follow_up.assignee.get_username() if follow_up.assignee_id else None,
        "group": follow_up.group.name if follow_up.group_id else None,
        "result": follow_up.result,
        "parent": str(follow_up.parent_id) if follow_up.parent_id else None,
        "source_run": str(follow_up.source_run_id),
        "work_run": str(follow_up.work_run_id) if follow_up.work_run_id else None,
        "url": reverse("followups:detail", args=[follow_up.pk]),
    }


def run_json_extra(run):
    """The chain in the run's JSON: ``follow_ups`` it left and the ``worked_follow_up`` it was run for."""
    left, worked = run_chain(run)
    return {
        "follow_ups": [_as_dict(f) for f in left],
        "worked_follow_up": _as_dict(worked) if worked else None,
    }
