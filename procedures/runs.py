"""Starting runs and applying agents' moves: the Django side of ``procedures.engine``.

Every move happens in one short transaction (SQLite runs them IMMEDIATE, so writers queue
instead of failing): the run is re-read, the move checked against the run's current step and
expected event number, and the events and run updated together, so they never disagree.
"""

import functools

from django.db import IntegrityError, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import engine
from .choices import ENDING_ACTIONS, EventAction, RunStatus, StepKind
from .engine import MoveRejected
from .models import ProcedurePage, ProcedureRun, RunEvent, current_procedure
from .signals import run_ended
from .statements import Insert, Update

__all__ = [
    "MoveRejected",
    "apply_move",
    "continued_run",
    "mark_abandoned_runs",
    "record_move",
    "run_path",
    "run_summary_text",
    "start_run",
]


def start_run(page, user, *, variables=None, ref="", practice=False, now=None, came_from=None):
    """Create a run of ``page``'s live revision and make any automatic first moves.

    ``variables`` are values already cleaned (``forms.StartForm``); names the procedure does not
    declare are left out. ``came_from`` is the agent's finished run whose outcome leads into ``page``
    (``continue_with``): the new run notes it, and a second start from the same run (a double submit)
    returns the run the first one started instead of starting another.
    """
    now = now or timezone.now()
    revision = page.live_revision
    if revision is None:
        raise MoveRejected("not_live", _("这个流程还没有发布，不能开始。"))
    # the snapshot holds today's phrasing texts; a copy, as entering a sub-procedure adds to it
    procedure = current_procedure(revision).copy()
    procedure.page = page.pk
    values = {name: value for name, value in (variables or {}).items() if name in procedure.variables}
    with transaction.atomic():
        if came_from is not None:
            # Locked (on SQLite the transaction itself is exclusive), so two starts queue.
            ProcedureRun.objects.select_for_update().filter(pk=came_from.pk).first()
            existing = continued_run(came_from)
            if existing is not None:
                return existing
        origin = (
            {"came_from": {"run": str(came_from.pk), "title": came_from.procedure_title}} if came_from else {}
        )
        run = ProcedureRun(
            procedure=page,
            procedure_title=revision.content.get("title", page.title)[:255],
            revision=revision,
            definition={**procedure.to_dict(), **origin},
            user=user,
            ref=(ref or "").strip()[:100],
            variables=values,
            start_variables=values,
            practice=bool(practice),
            started_at=now,
            last_activity_at=now,
            step_entered_at=now,
        )
        moves, landing = engine.follow(
            procedure, procedure.start_key, values, timezone.localdate(now), load=load_subprocedure
        )
        _record(run, procedure, moves, landing, now, note="", save_run_first=True)
    return run


def continued_run(run):
    """The run the agent started from ``run``'s outcome (``接着处理``), or None."""
    return (
        ProcedureRun.objects.filter(user_id=run.user_id, definition__came_from__run=str(run.pk))
        .order_by("started_at")
        .first()
    )


def load_subprocedure(page_id):
    """``(revision id, title, procedure)`` of a called procedure's live revision, or None when the page
    is not live or gone (``engine.Procedure.enter`` tells the agent)."""
    page = ProcedurePage.objects.live().filter(pk=page_id).first()
    revision = page.live_revision if page is not None else None
    if revision is None:
        return None
    return revision.pk, revision.content.get("title", page.title), current_procedure(revision)


def apply_move(run_id, user, *, now=None, **move):
    """Apply one move (as ``forms.MoveForm.move()`` cleans it) to the user's run ``run_id``, in a
    transaction of its own. Returns the updated run.

    Raises MoveRejected (nothing written, except that a run found idle past the limit is marked
    abandoned) or engine.InputError.
    """
    try:
        with transaction.atomic():
            run = ProcedureRun.objects.select_for_update().get(pk=run_id, user=user)
            rejected = record_move(run, now=now, **move)
    except IntegrityError:
        raise lost_race() from None
    if rejected is not None:
        raise rejected
    return run


def lost_race():
    """The refusal of a move that lost a race: two requests got past the checks on a database without
    IMMEDIATE transactions, and the unique (run, seq) constraint let exactly one of them write."""
    return MoveRejected("stale", _("这一步已经处理过了（重复提交），请看当前步骤。"))


def record_move(
    run,
    *,
    step,
    seq,
    action,
    answer=None,
    inputs=None,
    checked=(),
    note="",
    handoff=None,
    said=None,
    now=None,
):
    """Apply one move to ``run``, read with ``select_for_update()`` in the caller's transaction (the
    move view reads the run once, locked, and validates its form against it).

    ``said`` are the titles of the step's 必说 lines the agent ticked as 已说: kept on the event that
    leaves the step (only the step's own must-say lines; ``[]`` when it has some and none was ticked).

    Returns None once recorded, or the MoveRejected to show when the run refuses the move: nothing
    written then, except that a run found idle past the limit is marked abandoned, so the caller lets
    its transaction commit. Raises MoveRejected or engine.InputError when the move cannot be made
    (roll back), or IntegrityError when it lost a race.
    """
    now = now or timezone.now()
    rejected = run.refusal(step, seq, now)
    if rejected is None:
        if action in ENDING_ACTIONS and handoff:
            run.ending_reason = (handoff.get("reason") or "")[:2000]
            run.handoff_group = handoff.get("group")
            run.handoff_user = handoff.get("user")
        _apply(run, action, answer, inputs, checked, (note or "").strip()[:2000], now, said)
        return None
    if run.is_idle(now):
        run.status = RunStatus.ABANDONED
        run.save(update_fields=["status"])
        _announce_end(run, RunStatus.ABANDONED)
    return rejected


def _apply(run, action, answer, inputs, checked, note, now, said=None):
    procedure = run.get_procedure()
    if action == EventAction.BACK:
        _go_back(run, procedure, now, note)
        return
    said = engine.clean_said(procedure.step(run.current_step), said)
    moves, landing, values = engine.act(
        procedure,
        run.current_step,
        action,
        values=run.variables,
        today=timezone.localdate(now),
        answer=answer,
        inputs=inputs,
        checked=checked,
        load=load_subprocedure,
    )
    run.variables = values
    _record(run, procedure, moves, landing, now, note=note, said=said)


def mark_abandoned_runs(now=None):
    """Mark runs idle past ``CALLBOOK_RUN_ABANDON_AFTER_MINUTES`` abandoned; returns how many.

    The scheduled ``mark_abandoned_runs`` command's work: the only place that status is written for
    runs nobody touches (listings only show idle runs as abandoned).
    """
    with transaction.atomic():
        runs = list(ProcedureRun.objects.idle(now).select_for_update().defer("definition"))
        ProcedureRun.objects.filter(pk__in=[run.pk for run in runs]).update(status=RunStatus.ABANDONED)
        for run in runs:
            run.status = RunStatus.ABANDONED
            _announce_end(run, RunStatus.ABANDONED)
    return len(runs)


def _announce_end(run, ending):
    """Send ``signals.run_ended`` once the ending is committed (never for a rolled-back move)."""
    transaction.on_commit(functools.partial(run_ended.send, sender=ProcedureRun, run=run, ending=ending))


# The run's columns a move may change (``record_move``, ``_record``, ``_go_back``).
MOVED_FIELDS = [
    "variables",
    "ending_reason",
    "handoff_group",
    "handoff_user",
    "next_seq",
    "last_activity_at",
    "step_entered_at",
    "current_step",
    "current_step_title",
    "status",
    "outcome",
    "finished_at",
]
# A move's writes, written out once per process (``procedures.statements``): its events, as
# ``bulk_create`` inserts them, and the run's moved columns, as ``save(update_fields=...)`` updates them.
NEW_EVENTS = Insert(RunEvent)
SAVE_MOVED = Update(ProcedureRun, MOVED_FIELDS)
SAVE_MOVED_AND_DEFINITION = Update(ProcedureRun, [*MOVED_FIELDS, "definition"])


def _record(run, procedure, moves, landing, now, note, save_run_first=False, said=None):
    """Write one RunEvent per move and bring the run to where the moves lead.

    Every event names the revision its step came from: the run's pinned revision, or for a step of a
    sub-procedure the revision pinned when the run entered it (``procedure`` holds those snapshots, so
    it is the revision the move was computed from, whatever is live by now). Entering a sub-procedure
    adds its snapshot to the run's ``definition``.
    """
    if save_run_first:
        first_step = procedure.step(procedure.start_key)
        run.current_step = procedure.start_key
        run.current_step_title = first_step.get("title", "")[:200]
        run.save()
    events = []
    for index, move in enumerate(moves):
        events.append(
            RunEvent(
                run=run,
                revision_id=procedure.revision_of(move.key, run.revision_id),
                seq=run.next_seq + index,
                step_key=move.key,
                step_title=(move.title or "")[:200],
                kind=move.kind,
                action=move.action,
                answer=(move.answer or "")[:255],
                next_key=move.next_key or "",
                inputs=move.inputs or {},
                note=note if index == 0 else "",
                said=said if index == 0 else None,
                entered_at=run.step_entered_at if index == 0 else now,
                left_at=now,
            )
        )
    NEW_EVENTS.create(events, using=router.db_for_write(RunEvent))
    if procedure.subprocedures:
        run.definition = {**run.definition, **procedure.to_dict()}
    run.next_seq += len(events)
    run.last_activity_at = now
    run.step_entered_at = now
    last = moves[-1] if moves else None
    if landing is not None:
        run.current_step = landing
        run.current_step_title = procedure.step(landing).get("title", "")[:200]
    elif last is not None:
        run.status = RunStatus.COMPLETED
        run.outcome = last.outcome or ""
        run.finished_at = now
        if last.action == EventAction.OUTCOME:
            run.current_step = last.key
            run.current_step_title = (last.title or "")[:200]
    # Only what a move changes: the definition (a large JSON snapshot) only when a sub-procedure was entered.
    (SAVE_MOVED_AND_DEFINITION if procedure.subprocedures else SAVE_MOVED).save(run)
    run.__dict__.pop("logged_events", None)
    if run.status == RunStatus.COMPLETED:
        _announce_end(run, EventAction(last.action))


def _go_back(run, procedure, now, note):
    path = engine.active_path(run.logged_events)
    target = engine.back_target(procedure, [e.step_key for e in path])
    if target is None:
        raise MoveRejected("no_back", _("已经是第一步，不能再返回。"))
    current = procedure.step(run.current_step)
    RunEvent.objects.create(
        run=run,
        revision_id=procedure.revision_of(run.current_step, run.revision_id),
        seq=run.next_seq,
        step_key=run.current_step,
        step_title=current.get("title", "")[:200],
        kind=current.get("kind"),
        action=EventAction.BACK,
        answer="返回上一步",
        next_key=target,
        note=note,
        entered_at=run.step_entered_at,
        left_at=now,
    )
    run.next_seq += 1
    run.current_step = target
    run.current_step_title = procedure.step(target).get("title", "")[:200]
    run.step_entered_at = now
    run.last_activity_at = now
    SAVE_MOVED.save(run)
    run.__dict__.pop("logged_events", None)


def run_path(run):
    """The events on the run's path (Back removes what it undid), oldest first."""
    return engine.active_path(run.logged_events)


def run_summary_text(run):
    """The 小结 for the ticket system."""
    procedure = run.get_procedure()
    labels = procedure.labels()  # one label per value, at the top and in the steps
    events = run.logged_events
    path = []
    for event in engine.active_path(events):
        if event.action == EventAction.RULE:
            continue
        if event.action == EventAction.INPUT:
            answer = engine.inputs_text(event.inputs, labels)
        elif event.action == EventAction.ANSWER or event.kind == StepKind.SUBPROCEDURE:
            answer = event.answer  # a 子流程 step's answer is the called procedure's outcome
        else:
            answer = ""
        path.append((procedure.display_title(event.step_key, event.step_title), answer))
    ending = [e for e in events if e.action in (EventAction.OUTCOME, *ENDING_ACTIONS)]
    if ending:
        last = ending[-1]
        path.append(
            (
                procedure.display_title(last.step_key, last.step_title),
                "" if last.action == EventAction.OUTCOME else last.get_action_display(),
            )
        )
    variables = [(v.display_label, run.variables.get(name)) for name, v in procedure.variables.items()]
    outcome = run.outcome or run.get_shown_status_display()
    return engine.call_summary(
        title=run.procedure_title,
        ref=run.ref,
        variables=variables,
        path=path,
        outcome=outcome,
        seconds=run.duration_seconds,
        notes=[e.note for e in events if e.note],
        came_from=(run.definition.get("came_from") or {}).get("title", ""),
    )
