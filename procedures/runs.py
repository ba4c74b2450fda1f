"""Starting runs and applying agents' moves: the Django side of ``procedures.engine``.

Every move happens in one short transaction (SQLite runs them IMMEDIATE, so writers queue
instead of failing): the run is re-read, the move checked against the run's current step and
expected event number, and the events and run updated together, so they never disagree.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import engine
from .models import EventAction, ProcedureRun, RunEvent, RunStatus, current_procedure


class MoveRejected(Exception):
    """A move that cannot be applied; ``message`` is shown to the agent, no event is written."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class MoveForm:
    """What the step form posts: the step it was shown for, the expected event number, the action."""

    step: str
    seq: int
    action: str
    answer: str | None = None
    inputs: dict | None = None
    checked: tuple = ()
    note: str = ""


def clean_prefill(procedure, raw):
    """Variables given when starting (e.g. from the query string): declared names only, and
    values of the wrong type are dropped rather than trusted."""
    values = {}
    for name, variable in procedure.variables.items():
        if name not in raw:
            continue
        try:
            value = engine.clean_value(
                engine.Variable(name=name, type=variable.type, choices=variable.choices), raw[name]
            )
        except ValueError:
            continue
        if value != "":
            values[name] = value
    return values


def start_run(page, user, *, variables=None, ref="", practice=False, now=None):
    """Create a run of ``page``'s live revision and make any automatic first moves."""
    now = now or timezone.now()
    revision = page.live_revision
    if revision is None:
        raise MoveRejected("not_live", "这个流程还没有发布，不能开始。")
    procedure = current_procedure(revision)  # the snapshot holds today's phrasing texts
    values = clean_prefill(procedure, variables or {})
    with transaction.atomic():
        run = ProcedureRun(
            procedure=page,
            procedure_title=revision.content.get("title", page.title)[:255],
            revision=revision,
            definition=procedure.to_dict(),
            user=user,
            ref=(ref or "").strip()[:100],
            variables=values,
            practice=bool(practice),
            started_at=now,
            last_activity_at=now,
            step_entered_at=now,
        )
        moves, landing = engine.follow(procedure, procedure.start_key, values, timezone.localdate(now))
        _record(run, procedure, moves, landing, now, note="", save_run_first=True)
    return run


def apply_move(run_id, user, form, now=None):
    """Apply one posted move. Returns the updated run; raises MoveRejected / engine.InputError."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            run = ProcedureRun.objects.select_for_update().get(pk=run_id, user=user)
            if run.is_finished:
                if run.status == RunStatus.ABANDONED:
                    raise MoveRejected(
                        "finished", "本次流程长时间未操作，已经中断，不能再操作；请重新开始流程。"
                    )
                raise MoveRejected("finished", f"本次流程已经结束（{run.outcome}），不能再操作。")
            if form.seq != run.next_seq or form.step != run.current_step:
                raise MoveRejected(
                    "stale",
                    f"这一步已经处理过了（可能是重复提交或在另一个窗口中操作），当前步骤是“{run.current_step_title}”。",
                )
            procedure = run.get_procedure()
            note = (form.note or "").strip()[:2000]
            if form.action == "back":
                _go_back(run, procedure, now, note)
                return run
            try:
                moves, landing, values = engine.act(
                    procedure,
                    run.current_step,
                    form.action,
                    values=run.variables,
                    today=timezone.localdate(now),
                    answer=form.answer,
                    inputs=form.inputs,
                    checked=form.checked,
                )
            except engine.MoveError as error:
                raise MoveRejected(error.code, error.message) from None
            run.variables = values
            _record(run, procedure, moves, landing, now, note=note)
            return run
    except IntegrityError:
        # Two requests raced past the checks on a database without IMMEDIATE transactions:
        # the unique (run, seq) constraint let exactly one of them write.
        raise MoveRejected("stale", "这一步已经处理过了（重复提交），请看当前步骤。") from None


def _record(run, procedure, moves, landing, now, note, save_run_first=False):
    """Write one RunEvent per move and bring the run to where the moves lead."""
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
                seq=run.next_seq + index,
                step_key=move.key,
                step_title=(move.title or "")[:200],
                kind=move.kind,
                action=move.action,
                answer=(move.answer or "")[:255],
                next_key=move.next_key or "",
                inputs=move.inputs or {},
                note=note if index == 0 else "",
                entered_at=run.step_entered_at if index == 0 else now,
                left_at=now,
            )
        )
    RunEvent.objects.bulk_create(events)
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
    run.save()


def _go_back(run, procedure, now, note):
    path = engine.active_path(run.events.order_by("seq"))
    target = engine.back_target(procedure, [e.step_key for e in path])
    if target is None:
        raise MoveRejected("no_back", "已经是第一步，不能再返回。")
    current = procedure.step(run.current_step)
    RunEvent.objects.create(
        run=run,
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
    run.save()


def run_path(run):
    """The events on the run's path (Back removes what it undid), oldest first."""
    return engine.active_path(list(run.events.order_by("seq")))


def run_summary_text(run, procedure, events=None):
    """The 小结 for the ticket system."""
    events = events if events is not None else list(run.events.order_by("seq"))
    path = []
    for event in engine.active_path(events):
        if event.action == EventAction.RULE:
            continue
        if event.action == EventAction.INPUT:
            answer = "，".join(f"{k}：{v}" for k, v in event.inputs.items() if v != "")
        else:
            answer = event.answer if event.action == EventAction.ANSWER else ""
        path.append((event.step_title, answer))
    ending = [e for e in events if e.action in (EventAction.OUTCOME, *engine.END_ACTIONS)]
    if ending:
        last = ending[-1]
        path.append(
            (last.step_title, "" if last.action == EventAction.OUTCOME else last.get_action_display())
        )
    variables = [(v.display_label, run.variables.get(name)) for name, v in procedure.variables.items()]
    outcome = run.outcome or run.get_status_display()
    return engine.call_summary(
        title=run.procedure_title,
        ref=run.ref,
        variables=variables,
        path=path,
        outcome=outcome,
        seconds=run.duration_seconds,
        notes=[e.note for e in events if e.note],
    )
