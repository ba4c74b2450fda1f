"""Creating and working follow-ups.

- ``create_for_run(run, ending)``: when a run ends (``procedures.signals.run_ended``), the rules of the
  steps it went through (its outcome step's included) and a handoff ending (升级 / 转接, to the group or
  person the agent chose) become follow-ups. Practice runs create none. A run worked for a follow-up
  links what it creates to that follow-up (``parent``): original run → callback run → 重办.
- ``log_attempt``: one attempt to reach the customer; enough failed ones over enough days end the
  follow-up as 无法联系 and tell the group lead; 约定时间再联系 moves ``due_at`` (never
  ``original_due_at``).
- ``start_work``: work a follow-up by running its procedure, pre-filled from the source run.
- ``close``, ``reassign``: by hand, with the checks a tampered form would get past the page.
"""

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kb_site.content.models import SectionPage
from kb_site.content.profiles import person_name
from procedures.choices import (
    ENDING_FOLLOW_UP_KINDS,
    AssignTo,
    EventAction,
    FollowUpKind,
    Priority,
    RunStatus,
)
from procedures.models import ProcedurePage, current_procedure
from procedures.runs import start_run

from . import duetime
from .calendar import Calendar
from .choices import CLOSED_STATUSES, FAILED_ATTEMPTS, OPEN_STATUSES, AttemptResult, NoticeKind, Status
from .models import FollowUp, FollowUpAttempt, FollowUpSettings
from .notices import send

__all__ = [
    "NotAllowed",
    "close",
    "create_for_run",
    "finish_work",
    "log_attempt",
    "may_work",
    "notify_assigned",
    "reassign",
    "start_work",
]

# Variables a callback procedure reads from the original run, when it declares one of the same name.
SATISFACTION_VARIABLE = "满意度"


class NotAllowed(Exception):
    """A refused action on a follow-up: the message says why."""


def _section_of(run):
    page = run.procedure
    if page is None:
        return None
    return SectionPage.objects.ancestor_of(page).order_by("-depth").first()


def _due(rule, start):
    local = timezone.localtime(start)
    return duetime.due_at(
        local,
        rule["amount"],
        rule["unit"],
        before_hour=rule.get("before_hour"),
        is_workday=Calendar(local.date()),
    )


def create_for_run(run, ending, now=None):
    """Create the follow-ups ``run`` leaves (see the module docstring); returns them."""
    if run.practice:
        return []
    procedure, keys = run.get_procedure(), run.visited_steps()
    if ending not in ENDING_FOLLOW_UP_KINDS and not any(
        procedure.by_key.get(key, {}).get("follow_ups") for key in keys
    ):
        return []  # nothing to leave: its section and agent are not read
    now = now or run.finished_at or timezone.now()
    parent = getattr(run, "worked_follow_up", None)
    common = {
        "source_run": run,
        "source_revision_id": run.revision_id,
        "section": _section_of(run),
        "ref": run.ref,
        "customer": dict(run.variables),
        "created_by": run.user,
        "created_at": now,
        "parent": parent,
    }
    created = []
    with transaction.atomic():
        if FollowUp.objects.filter(source_run=run).exists():
            return []  # the signal came twice: the run's follow-ups are there already
        for key in keys:
            for rule in procedure.by_key.get(key, {}).get("follow_ups") or []:
                try:
                    due = _due(rule, now)
                except duetime.DueTimeError:
                    continue  # the procedure's validation refuses such rules; an old snapshot is skipped
                group = None
                if rule.get("assign_to") == AssignTo.GROUP:
                    group = Group.objects.filter(name=rule.get("group")).first()
                created.append(
                    FollowUp.objects.create(
                        kind=rule.get("kind") or FollowUpKind.CALLBACK,
                        title=(rule.get("title") or FollowUpKind(rule.get("kind")).label)[:200],
                        priority=rule.get("priority") or Priority.NORMAL,
                        source_step=key,
                        procedure=ProcedurePage.objects.filter(pk=rule.get("procedure")).first()
                        if rule.get("procedure")
                        else None,
                        assignee=run.user if group is None else None,
                        group=group,
                        due_at=due,
                        original_due_at=due,
                        **common,
                    )
                )
        kind = ENDING_FOLLOW_UP_KINDS.get(ending)
        if kind is not None:
            created.append(
                FollowUp.objects.create(
                    kind=kind,
                    title=_("%(ending)s：%(procedure)s")
                    % {"ending": EventAction(ending).label, "procedure": run.procedure_title},
                    priority=Priority.URGENT if kind == FollowUpKind.ESCALATION else Priority.NORMAL,
                    source_step=run.current_step,
                    reason=run.ending_reason,
                    assignee=run.handoff_user,
                    group=run.handoff_group,
                    due_at=now + timezone.timedelta(hours=2),
                    original_due_at=now + timezone.timedelta(hours=2),
                    **common,
                )
            )
        for follow_up in created:
            notify_assigned(follow_up, now)
        if created:
            type(run).objects.filter(pk=run.pk).update(awaiting_follow_up=True)
            run.awaiting_follow_up = True
    return created


def notify_assigned(follow_up, now=None, level=0):
    """Tell the assignee (or, for a group, its lead) that a follow-up is theirs."""
    recipients = [follow_up.assignee] if follow_up.assignee_id else []
    if not recipients and follow_up.group_id:
        lead = getattr(follow_up.group, "lead", None)
        recipients = [lead.user] if lead else []
    for user in recipients:
        send(user, follow_up, NoticeKind.ASSIGNED, level=level, now=now)


def _lock(follow_up_id):
    return FollowUp.objects.select_for_update().get(pk=follow_up_id)


def may_work(user, follow_up):
    return FollowUp.objects.visible_to(user).filter(pk=follow_up.pk).exists()


def log_attempt(follow_up, user, result, note="", next_at=None, now=None):
    """Record one attempt to reach the customer; returns the follow-up as it now is."""
    now = now or timezone.now()
    if result not in AttemptResult.values:
        raise NotAllowed(_("无法识别的联系结果。"))
    with transaction.atomic():
        follow_up = _lock(follow_up.pk)
        if not may_work(user, follow_up):
            raise NotAllowed(_("这个跟进不是你或你所在组的。"))
        if follow_up.status in CLOSED_STATUSES:
            raise NotAllowed(
                _("这个跟进已经%(status)s，不能再记录。") % {"status": follow_up.get_status_display()}
            )
        if result == AttemptResult.RESCHEDULE:
            if next_at is None or next_at <= now:
                raise NotAllowed(_("约定时间要晚于现在。"))
            if next_at > now + timezone.timedelta(days=90):
                raise NotAllowed(_("约定时间不能超过 90 天以后。"))
        FollowUpAttempt.objects.create(
            follow_up=follow_up, user=user, at=now, result=result, note=(note or "")[:2000], next_at=next_at
        )
        fields = ["status"]
        follow_up.status = Status.IN_PROGRESS
        if result == AttemptResult.RESCHEDULE:
            follow_up.due_at = next_at
            fields.append("due_at")
        if result in FAILED_ATTEMPTS and _unreachable(follow_up):
            follow_up.status = Status.UNREACHABLE
            follow_up.closed_at, follow_up.closed_by = now, user
            follow_up.result = Status.UNREACHABLE.label
            fields += ["closed_at", "closed_by", "result"]
        follow_up.save(update_fields=fields)
        if follow_up.status == Status.UNREACHABLE:
            _tell_lead(follow_up, NoticeKind.UNREACHABLE, now)
            _after_close(follow_up)
    return follow_up


def _unreachable(follow_up):
    settings = FollowUpSettings.load()
    failed = list(
        follow_up.attempts.filter(result__in=FAILED_ATTEMPTS).order_by("at").values_list("at", flat=True)
    )
    if len(failed) < settings.unreachable_attempts:
        return False
    days = {timezone.localtime(at).date() for at in failed}
    return (max(days) - min(days)).days + 1 >= settings.unreachable_days


def _tell_lead(follow_up, kind, now, level=0):
    group = follow_up.group or (
        follow_up.assignee.groups.filter(lead__isnull=False).first() if follow_up.assignee_id else None
    )
    lead = getattr(group, "lead", None) if group else None
    if lead is not None:
        send(lead.user, follow_up, kind, level=level, now=now)


def start_work(follow_up, user):
    """Open the follow-up's procedure as a run pre-filled from the source run; returns the run (the one
    already started when the follow-up is being worked)."""
    with transaction.atomic():
        follow_up = _lock(follow_up.pk)
        if not may_work(user, follow_up):
            raise NotAllowed(_("这个跟进不是你或你所在组的。"))
        if follow_up.status in CLOSED_STATUSES:
            raise NotAllowed(_("这个跟进已经%(status)s。") % {"status": follow_up.get_status_display()})
        if follow_up.work_run_id and not follow_up.work_run.is_finished:
            return follow_up.work_run
        page = follow_up.procedure.specific if follow_up.procedure_id else None
        if page is None or not page.live:
            raise NotAllowed(_("这个跟进没有可运行的流程，请直接记录联系结果并关闭。"))
        procedure = current_procedure(page.live_revision)
        # The callback reads what the original call collected, for the variables it declares too.
        values = {k: v for k, v in follow_up.customer.items() if k in procedure.variables}
        run = start_run(page, user, variables=values, ref=follow_up.ref)
        follow_up.work_run = run
        follow_up.status = Status.IN_PROGRESS
        if follow_up.assignee_id is None:
            follow_up.assignee = user
        follow_up.save(update_fields=["work_run", "status", "assignee"])
    return run


def finish_work(run, ending):
    """A run worked for a follow-up has ended: the follow-up is done with the run's outcome."""
    follow_up = getattr(run, "worked_follow_up", None)
    if follow_up is None:
        return None
    with transaction.atomic():
        follow_up = _lock(follow_up.pk)
        if follow_up.status in CLOSED_STATUSES:
            return follow_up
        if ending == RunStatus.ABANDONED:
            follow_up.status = Status.OPEN  # the call was left half-way: the follow-up is still to do
            follow_up.work_run = None
            follow_up.save(update_fields=["status", "work_run"])
            return follow_up
        follow_up.status = Status.ESCALATED if ending == EventAction.ESCALATE else Status.DONE
        follow_up.result = run.outcome[:50]
        follow_up.satisfaction = str(run.variables.get(SATISFACTION_VARIABLE, ""))[:20]
        follow_up.closed_at, follow_up.closed_by = run.finished_at or timezone.now(), run.user
        follow_up.save(update_fields=["status", "result", "satisfaction", "closed_at", "closed_by"])
        _after_close(follow_up)
    return follow_up


def close(follow_up, user, status, result="", notes=""):
    """Close by hand (已完成 with a result, 已取消 with a reason)."""
    if status not in (Status.DONE, Status.CANCELLED):
        raise NotAllowed(_("只能标记为已完成或已取消。"))
    if not (result or notes).strip():
        raise NotAllowed(_("请填写处理结果或原因。"))
    with transaction.atomic():
        follow_up = _lock(follow_up.pk)
        if not may_work(user, follow_up):
            raise NotAllowed(_("这个跟进不是你或你所在组的。"))
        if follow_up.status in CLOSED_STATUSES:
            raise NotAllowed(
                _("这个跟进已经由%(who)s标记为%(status)s。")
                % {"who": _display(follow_up.closed_by), "status": follow_up.get_status_display()}
            )
        follow_up.status = status
        follow_up.result = (result or "").strip()[:50]
        follow_up.notes = (notes or "").strip()[:2000]
        follow_up.closed_at, follow_up.closed_by = timezone.now(), user
        follow_up.save(update_fields=["status", "result", "notes", "closed_at", "closed_by"])
        _after_close(follow_up)
    return follow_up


def _display(user):
    if user is None:
        return _("他人")
    return person_name(user)


def _after_close(follow_up):
    """The source run waits (等待回访) until every follow-up it left is closed."""
    run = follow_up.source_run
    if not FollowUp.objects.filter(source_run=run, status__in=OPEN_STATUSES).exists():
        type(run).objects.filter(pk=run.pk).update(awaiting_follow_up=False)


def reassign(follow_ups, by, *, user=None, group=None, now=None):
    """A supervisor hands follow-ups to a person and/or a group; returns how many changed."""
    if not (by.is_superuser or by.has_perm("followups.reassign_followup")):
        raise NotAllowed(_("你没有重新分配跟进的权限。"))
    if user is None and group is None:
        raise NotAllowed(_("请选择交给谁（一个人或一个组）。"))
    if user is not None and not (user.is_active and user.has_perm("followups.work_followup")):
        raise NotAllowed(_("%(name)s 不能处理跟进（没有权限或已停用）。") % {"name": _display(user)})
    changed = 0
    with transaction.atomic():
        for follow_up in FollowUp.objects.select_for_update().filter(pk__in=[f.pk for f in follow_ups]):
            if follow_up.status in CLOSED_STATUSES:
                continue
            follow_up.assignee, follow_up.group = user, group
            follow_up.save(update_fields=["assignee", "group"])
            notify_assigned(follow_up, now)
            changed += 1
    return changed
