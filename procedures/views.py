"""Agent-facing views: start a run, one step per screen, the summary, and the run as JSON.

The two views that take input route a Django form (``procedures.forms``) the way
``wagtail.contrib.forms`` does: ``form.is_valid()`` → ``form_valid()``, a small method to override,
records the result; ``form_invalid()`` shows the form again or refuses the move.
"""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_GET
from wagtail import hooks

from kb_site.content.placeholders import fill_text

from . import engine
from .choices import ENDING_ACTIONS, EventAction, RunStatus, StepKind
from .forms import VARIABLE_PREFIX, MoveForm, StartForm
from .models import ProcedurePage, ProcedureRun, current_procedure
from .runs import MoveRejected, continued_run, lost_race, record_move, run_summary_text, start_run
from .screen_cache import agent_values, procedure_link
from .signals import BEFORE_START_RUN, MAY_VIEW_RUN, RUN_JSON_EXTRA, RUN_SUMMARY_PANEL
from .statements import Rows
from .text import fill_rich_text, speech_values, spoken_values

# A run screen is for the call in progress: no section menu beside it (it would also cost a
# page-tree query on every step).
RUN_SCREEN = {"nav_sections": None}


# The agent's own run, read on every step page and every move (locked for a move): written out once
# (``procedures.statements``), as the ORM's ``get(pk=..., user=...)`` would read it.
OWN_RUN = Rows(ProcedureRun, ("id", "user"), kept_json=("definition",))
OWN_RUN_LOCKED = Rows(ProcedureRun, ("id", "user"), for_update=True, kept_json=("definition",))


def _own_run(request, run_id, lock=False):
    run = (OWN_RUN_LOCKED if lock else OWN_RUN).first(run_id, request.user.pk)
    if run is None:
        raise Http404(_("没有找到这次流程运行。"))
    return run


class StartRunView(View):
    """The start form of a procedure page: a new run, or the page again showing what does not fit."""

    http_method_names = ["post"]

    def post(self, request, page_id):
        self.page = get_object_or_404(ProcedurePage.objects.live(), pk=page_id)
        form = self.get_form()
        if form.is_valid():
            return self.form_valid(form)
        return self.form_invalid(form)

    def get_form(self):
        revision = self.page.live_revision
        procedure = current_procedure(revision) if revision else self.page.to_procedure()
        return StartForm(procedure, self.request.POST)

    def form_valid(self, form):
        practice = form.cleaned_data["practice"]
        refused = self.before_start(practice)
        if refused is not None:
            return refused
        try:
            run = self.start(form, practice)
        except MoveRejected as rejected:
            return self.refuse(rejected.message)
        return redirect(run.get_absolute_url())

    came_from = None  # the finished run a 接着处理 start continues (ContinueRunView)

    def start(self, form, practice):
        return start_run(
            self.page,
            self.request.user,
            variables=form.start_values(),
            ref=form.cleaned_data["ref"],
            practice=practice,
            came_from=self.came_from,
        )

    def form_invalid(self, form):
        context = self.page.get_context(self.request, start_form=form)
        return TemplateResponse(self.request, self.page.get_template(self.request), context, status=400)

    def before_start(self, practice):
        """Ask the ``before_start_run`` hooks (see ``procedures.signals``); a refusal is returned as is."""
        for hook in hooks.get_hooks(BEFORE_START_RUN):
            result = hook(self.request, self.page, practice)
            if isinstance(result, HttpResponse):
                return result
            if result:
                return self.refuse(str(result))
        return None

    def refuse(self, message):
        messages.error(self.request, message)
        return redirect(self.page.url)


@require_GET
def run_detail(request, run_id):
    run = _own_run(request, run_id)
    if run.is_finished:
        context = summary_context(run)
        context["summary_panels"] = [
            html for fn in hooks.get_hooks(RUN_SUMMARY_PANEL) if (html := fn(request, run))
        ]
        return render(request, "procedures/run_summary.html", context)
    return render(request, "procedures/run_step.html", step_context(run))


class RunMoveView(View):
    """One action on the step a run is at; a refused move shows the current step with a warning.

    The run is read once, locked, in the transaction that records the move (SQLite runs it IMMEDIATE,
    so moves on one run queue): the form's checks against it are the ones that count.
    """

    http_method_names = ["post"]

    def post(self, request, run_id):
        try:
            with transaction.atomic():
                self.run = _own_run(request, run_id, lock=True)
                form = MoveForm(self.run, request.POST)
                if form.is_valid() and not form.needs_confirmation:
                    return self.form_valid(form)
        except MoveRejected as rejected:  # nothing written
            return self.refuse(rejected)
        except IntegrityError:  # lost a race on a database without IMMEDIATE transactions: nothing written
            return self.refuse(lost_race())
        except engine.InputError as error:  # the form checks the same values; should it ever miss one
            for name, message in error.errors.items():
                form.add_error(None, f"{name}：{message}")
            return self.form_invalid(form)
        if form.is_valid():
            return self.confirm_ending(form)
        return self.form_invalid(form)

    def confirm_ending(self, form):
        """升级 / 转接 / 客户放弃 asked for: the step again with the confirming form; nothing recorded yet."""
        return render(self.request, "procedures/run_step.html", step_context(self.run, form))

    def form_valid(self, form):
        """Record the move on the locked run; a refusal (the run moved on, or went idle) is shown with
        the current step."""
        rejected = record_move(self.run, **form.move())
        if rejected is not None:
            return self.refuse(rejected)
        return redirect(self.run.get_absolute_url())

    def form_invalid(self, form):
        rejected = form.rejection()
        if rejected is not None:
            return self.refuse(rejected)
        return render(self.request, "procedures/run_step.html", step_context(self.run, form), status=400)

    def refuse(self, rejected):
        messages.warning(self.request, rejected.message)
        return redirect(self.run.get_absolute_url())


class ContinueRunView(StartRunView):
    """接着处理: the procedure a finished run's outcome leads into (``continue_with``), started through the
    start flow (its hooks and checks) with the run's values carried over by name and its ``ref``.

    Posted with the agent's own finished run (another's is a 404); a second post (a double submit)
    leads to the run the first one started. Values the new procedure requires at start and the run did
    not collect: its page is shown with the start form to complete, as a start that does not validate.
    """

    def post(self, request, run_id):
        self.source = self.came_from = _own_run(request, run_id)
        self.page = continuation_page(self.source)
        if self.page is None:
            messages.error(
                request, _("这次运行没有可以接着处理的流程（未以带后续流程的结果结束，或该流程已下线）。")
            )
            return redirect(self.source.get_absolute_url())
        existing = continued_run(self.source)
        if existing is not None:
            return redirect(existing.get_absolute_url())
        form = self.get_form()
        if form.is_valid():
            return self.form_valid(form)
        return self.form_invalid(form)

    def get_form(self):
        procedure = current_procedure(self.page.live_revision)
        data = {f"{VARIABLE_PREFIX}{name}": value for name, value in self.source.variables.items()}
        data.update(ref=self.source.ref, practice="on" if self.source.practice else "")
        return StartForm(procedure, data)


def continuation_page(run):
    """The live procedure ``run``'s outcome step leads into (``continue_with``), or None."""
    if run.status != RunStatus.COMPLETED:
        return None
    step = run.get_procedure().by_key.get(run.current_step) or {}
    if step.get("kind") != StepKind.OUTCOME or not step.get("continue_with"):
        return None
    return ProcedurePage.objects.live().filter(pk=step["continue_with"]).first()


start = StartRunView.as_view()
run_move = RunMoveView.as_view()
continue_run = ContinueRunView.as_view()


@require_GET
def my_runs(request):
    runs = ProcedureRun.objects.for_user(request.user).defer("definition")[:50]
    return render(request, "procedures/my_runs.html", {"runs": runs})


@require_GET
def run_json(request, run_id):
    """The run for a ticket system: its agent and supervisors only; anyone else gets 404."""
    run = (
        ProcedureRun.objects.select_related("user", "handoff_group", "handoff_user").filter(pk=run_id).first()
    )
    if run is None or not (
        run.user_id == request.user.pk or request.user.has_perm("procedures.view_procedurerun")
    ):
        raise Http404(_("没有找到这次流程运行。"))
    data = run_as_dict(run)
    for fn in hooks.get_hooks(RUN_JSON_EXTRA):  # what the apps built on runs add (procedures.signals)
        data.update(fn(run) or {})
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


def _local_iso(moment):
    """ISO 8601 in the site's time zone (``2026-03-01T14:05:09+08:00``), as every time the site shows."""
    return timezone.localtime(moment).isoformat() if moment else None


def run_as_dict(run):
    return {
        "id": str(run.pk),
        "procedure": {"id": run.procedure_id, "title": run.procedure_title, "revision": run.revision_id},
        "ref": run.ref,
        "agent": run.user.get_username(),
        "status": run.shown_status.value,
        "outcome": run.outcome,
        "ending": run.ending_display,
        "ending_reason": run.ending_reason,
        "handoff": {
            "group": run.handoff_group.name if run.handoff_group else None,
            "user": run.handoff_user.get_username() if run.handoff_user else None,
        },
        "practice": run.practice,
        "variables": run.variables,
        "started_at": _local_iso(run.started_at),
        "finished_at": _local_iso(run.finished_at),
        "duration_seconds": round(run.duration_seconds),
        "current_step": run.current_step,
        "came_from": (run.definition.get("came_from") or {}).get("run"),
        "subprocedures": [
            {"step": scope, "procedure": sub.page, "title": sub.title, "revision": sub.revision}
            for scope, sub in run.get_procedure().subprocedures.items()
        ],
        "events": [
            {
                "seq": e.seq,
                "step": e.step_key,
                "title": e.step_title,
                "kind": e.kind,
                "revision": e.revision_id,
                "action": e.action,
                "answer": e.answer,
                "next": e.next_key,
                "inputs": e.inputs,
                "note": e.note,
                "said": e.said,  # the 必说 lines ticked as 已说 (None: the step had none)
                "entered_at": _local_iso(e.entered_at),
                "left_at": _local_iso(e.left_at),
            }
            for e in run.logged_events
        ],
        "summary": run_summary_text(run),
        "replay_url": reverse("procedures:replay", args=[run.pk, run.logged_events[0].seq])
        if run.logged_events
        else None,
    }


def _display_step(step, values):
    kind = step.get("kind")
    return {
        **step,
        "title_filled": fill_text(step.get("title", ""), values),
        "text_filled": fill_rich_text(step.get("text_html", ""), values),
        "kind_label": StepKind(kind).label if kind in StepKind.values else "",
    }


def _path_items(events, labels, procedure=None):
    items = []
    for event in engine.active_path(events):
        if event.action == EventAction.INPUT:
            answer = engine.inputs_text(event.inputs, labels)
        elif event.action == EventAction.RULE:
            answer = f"规则：{event.answer}"
        else:
            answer = event.answer
        title = procedure.display_title(event.step_key, event.step_title) if procedure else event.step_title
        items.append({"title": title, "answer": answer, "kind": event.kind})
    return items


def step_context(run, form=None):
    form = form or MoveForm(run)
    procedure = run.get_procedure()
    events = run.logged_events
    path = _path_items(events, procedure.labels(), procedure)
    values = speech_values(run, procedure)
    return {
        **RUN_SCREEN,
        "run": run,
        "procedure": procedure,
        "form": form,
        "step": _display_step(form.step_def, values),
        "step_number": len([p for p in path if p["kind"] != StepKind.RULE]) + 1,
        "path": path,
        "values": values,
        "fields": form.variable_fields(),
        "checklist": form.checklist_items(),
        "checklist_errors": form.errors.get("check"),
        "answers": form.answer_buttons(),
        "actions": EventAction,
        "end_actions": ENDING_ACTIONS,
        "can_go_back": engine.back_target(procedure, [e.step_key for e in engine.active_path(events)])
        is not None,
        "scope": _scope(procedure, events, run.current_step),
    }


def _scope(procedure, events, key):
    """Where in a sub-procedure the agent is (``子流程：身份核验 · 第 2 步``), or None outside one."""
    titles = procedure.scope_titles(key)
    if not titles:
        return None
    keys = [e.step_key for e in engine.active_path(events)]
    return {"title": " › ".join(titles), "number": engine.scope_step_number(procedure, keys, key)}


def summary_context(run):
    procedure = run.get_procedure()
    events = run.logged_events
    values = speech_values(run, procedure)
    outcome_step = None
    if run.status == RunStatus.COMPLETED and run.current_step in procedure.by_key:
        step = procedure.by_key[run.current_step]
        if step.get("kind") == StepKind.OUTCOME:
            outcome_step = _display_step(step, values)
    summary_text = run_summary_text(run)
    continue_with = continuation_page(run)
    return {
        **RUN_SCREEN,
        "run": run,
        "procedure": procedure,
        "outcome_step": outcome_step,
        "path": _path_items(events, procedure.labels(), procedure),
        "timeline": [
            {
                "event": e,
                "title": procedure.display_title(e.step_key, e.step_title),
                "inputs": engine.inputs_text(e.inputs, procedure.labels()),
            }
            for e in events
        ],
        "summary_text": summary_text,
        "summary_rows": min(summary_text.count("\n") + 2, 30),
        "values": values,
        "variables": [(v.display_label, run.variables.get(n, "")) for n, v in procedure.variables.items()],
        "now": timezone.now(),
        "came_from": run.definition.get("came_from"),
        "continue_with": continue_with,
        "continued_run": continued_run(run) if continue_with else None,
        # 回到流程: whether the page is there and its url, kept (the page's row read on every summary)
        "procedure_link": procedure_link(run.procedure_id) if run.procedure_id else (False, None),
    }


def _visible_run(request, run_id):
    """A run its agent, a supervisor (``view_procedurerun``) or someone an app above lets see it
    (``may_view_run``) may look at; anyone else gets 404, as ``run_json`` answers."""
    run = ProcedureRun.objects.select_related("user").filter(pk=run_id).first()
    if run is None or not (
        run.user_id == request.user.pk
        or request.user.has_perm("procedures.view_procedurerun")
        or any(fn(request.user, run) for fn in hooks.get_hooks(MAY_VIEW_RUN))
    ):
        raise Http404(_("没有找到这次流程运行。"))
    return run


def _values_before(run, procedure, events, seq):
    """What the run's texts were filled with when event ``seq`` was on screen: the system values, the
    values given at start, then what input events before it collected (never what came later).

    Runs keep the values given at start (``start_variables``); for runs started before they did, a value
    is taken as given at start when no event collected it.
    """
    if run.start_variables:
        known = dict(run.start_variables)
    else:
        collected = {name for event in events for name in event.inputs or {}}
        known = {name: value for name, value in run.variables.items() if name not in collected}
    for event in events:
        if event.seq >= seq:
            break
        known.update(event.inputs or {})
    return {**agent_values(run.user_id), **spoken_values(procedure, known)}


def _replayed_action(event, step_def, procedure):
    """What the agent (or a rule, or an outcome step) did on the replayed step, for the template."""
    chosen = event.action == EventAction.ANSWER
    titles = {key: step.get("title", "") or key for key, step in procedure.by_key.items()}
    labels = procedure.labels()
    return {
        "answers": [
            (
                answer.get("label", ""),
                chosen and answer.get("label", "") == event.answer and answer.get("next") == event.next_key,
            )
            for answer in step_def.get("answers") or []
        ],
        "checklist": [(item, event.action == EventAction.NEXT) for item in step_def.get("checklist") or []],
        "inputs": [
            (labels.get(name) or name, value)
            for name, value in (event.inputs or {}).items()
            if event.action == EventAction.INPUT
        ],
        "next_title": titles.get(event.next_key, event.next_key) if event.next_key else "",
    }


@require_GET
def run_replay(request, run_id, seq=None):
    """One event of a run stepped through as its agent saw it (the run's snapshot of the procedure and
    the values known at that moment), for quality checks and disputes. Read-only: nothing here posts."""
    run = _visible_run(request, run_id)
    events = run.logged_events
    if seq is None:
        if not events:
            raise Http404(_("这次流程运行还没有操作记录。"))
        return redirect("procedures:replay", run.pk, events[0].seq)
    position = next((i for i, event in enumerate(events) if event.seq == seq), None)
    if position is None:
        raise Http404(_("这次流程运行没有这条记录。"))
    event = events[position]
    procedure = run.get_procedure()
    step_def = procedure.by_key.get(event.step_key) or {"key": event.step_key, "kind": event.kind}
    values = _values_before(run, procedure, events, seq)
    labels = procedure.labels()
    return render(
        request,
        "procedures/run_replay.html",
        {
            **RUN_SCREEN,
            "run": run,
            "event": event,
            "step": _display_step(step_def, values),
            "values": values,
            "path": _path_items(events[:position], labels, procedure),
            "replayed": _replayed_action(event, step_def, procedure),
            "previous": events[position - 1] if position else None,
            "next": events[position + 1] if position + 1 < len(events) else None,
            "timeline": [
                {"event": e, "answer": engine.inputs_text(e.inputs, labels) or e.answer} for e in events
            ],
            "is_supervisor": request.user.has_perm("procedures.view_procedurerun"),
            "actions": EventAction,
        },
    )
