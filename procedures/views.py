"""Agent-facing views: start a run, one step per screen, the summary, and the run as JSON."""

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from kb_site.content.placeholders import fill_text

from . import engine, graph
from .blocks import STEP_KINDS
from .models import EventAction, ProcedurePage, ProcedureRun, RunStatus
from .runs import MoveForm, MoveRejected, apply_move, run_summary_text, start_run
from .text import fill_rich_text

VARIABLE_PREFIX = "v-"

# A run screen is for the call in progress: no section menu beside it (it would also cost a
# page-tree query on every step).
RUN_SCREEN = {"nav_sections": None}


def _own_run(request, run_id):
    try:
        return ProcedureRun.objects.get(pk=run_id, user=request.user)
    except ProcedureRun.DoesNotExist:
        raise Http404("没有找到这次流程运行。") from None


@require_POST
def start(request, page_id):
    page = get_object_or_404(ProcedurePage.objects.live(), pk=page_id)
    variables = {
        key[len(VARIABLE_PREFIX) :]: value
        for key, value in request.POST.items()
        if key.startswith(VARIABLE_PREFIX)
    }
    try:
        run = start_run(
            page,
            request.user,
            variables=variables,
            ref=request.POST.get("ref", ""),
            practice=request.POST.get("practice") == "1",
        )
    except MoveRejected as rejected:
        messages.error(request, rejected.message)
        return redirect(page.url)
    return redirect(run.get_absolute_url())


@require_GET
def run_detail(request, run_id):
    run = _own_run(request, run_id)
    if run.is_finished:
        return render(request, "procedures/run_summary.html", summary_context(run))
    return render(request, "procedures/run_step.html", step_context(run))


@require_POST
def run_move(request, run_id):
    post = request.POST
    action = "answer" if "answer" in post else post.get("action", "")
    try:
        seq = int(post.get("seq", ""))
    except ValueError:
        seq = -1
    form = MoveForm(
        step=post.get("step", ""),
        seq=seq,
        action=action,
        answer=post.get("answer"),
        inputs={k[len(VARIABLE_PREFIX) :]: v for k, v in post.items() if k.startswith(VARIABLE_PREFIX)},
        checked=tuple(_ints(post.getlist("check"))),
        note=post.get("note", ""),
    )
    run_url = reverse("procedures:run", args=[run_id])
    try:
        apply_move(run_id, request.user, form)
    except ProcedureRun.DoesNotExist:
        raise Http404("没有找到这次流程运行。") from None
    except MoveRejected as rejected:
        messages.warning(request, rejected.message)
        return redirect(run_url)
    except engine.InputError as invalid:
        run = _own_run(request, run_id)
        context = step_context(
            run, errors=invalid.errors, entered=form.inputs, note=form.note, checked=form.checked
        )
        return render(request, "procedures/run_step.html", context, status=400)
    return redirect(run_url)


def _ints(values):
    for value in values:
        try:
            yield int(value)
        except ValueError:
            continue


@require_GET
def my_runs(request):
    ProcedureRun.objects.mark_abandoned()
    runs = ProcedureRun.objects.for_user(request.user).defer("definition")[:50]
    return render(request, "procedures/my_runs.html", {"runs": runs})


@require_GET
def run_json(request, run_id):
    """The run for a ticket system: its agent and supervisors only; anyone else gets 404."""
    run = ProcedureRun.objects.select_related("user").filter(pk=run_id).first()
    if run is None or not (
        run.user_id == request.user.pk or request.user.has_perm("procedures.view_procedurerun")
    ):
        raise Http404("没有找到这次流程运行。")
    return JsonResponse(run_as_dict(run), json_dumps_params={"ensure_ascii": False})


def run_as_dict(run):
    events = list(run.events.order_by("seq"))
    procedure = run.get_procedure()
    return {
        "id": str(run.pk),
        "procedure": {"id": run.procedure_id, "title": run.procedure_title, "revision": run.revision_id},
        "ref": run.ref,
        "agent": run.user.get_username(),
        "status": run.status,
        "outcome": run.outcome,
        "practice": run.practice,
        "variables": run.variables,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": round(run.duration_seconds),
        "current_step": run.current_step,
        "events": [
            {
                "seq": e.seq,
                "step": e.step_key,
                "title": e.step_title,
                "kind": e.kind,
                "action": e.action,
                "answer": e.answer,
                "next": e.next_key,
                "inputs": e.inputs,
                "note": e.note,
                "entered_at": e.entered_at.isoformat(),
                "left_at": e.left_at.isoformat(),
            }
            for e in events
        ],
        "summary": run_summary_text(run, procedure, events),
    }


def _display_step(step, values):
    return {
        **step,
        "title_filled": fill_text(step.get("title", ""), values),
        "text_filled": fill_rich_text(step.get("text_html", ""), values),
        "kind_label": STEP_KINDS.get(step.get("kind"), ""),
    }


def _path_items(events):
    items = []
    for event in engine.active_path(events):
        if event.action == EventAction.INPUT:
            answer = "，".join(f"{k}：{v}" for k, v in event.inputs.items() if v != "")
        elif event.action == EventAction.RULE:
            answer = f"规则：{event.answer}"
        else:
            answer = event.answer
        items.append({"title": event.step_title, "answer": answer, "kind": event.kind})
    return items


def step_context(run, errors=None, entered=None, note="", checked=()):
    procedure = run.get_procedure()
    step = procedure.step(run.current_step)
    events = list(run.events.order_by("seq"))
    path = _path_items(events)
    values = run.variables
    fields = []
    if step["kind"] == graph.INPUT:
        for name in step.get("variables", []):
            variable = procedure.variables.get(name) or engine.Variable(name=name)
            value = (entered or {}).get(name, values.get(name, ""))
            fields.append({"var": variable, "value": value, "error": (errors or {}).get(name)})
    checklist = [
        {"index": i, "label": item, "checked": i in checked}
        for i, item in enumerate(step.get("checklist") or [])
    ]
    answers = [
        {"index": i, "key": i + 1 if i < 9 else None, "label": a.get("label")}
        for i, a in enumerate(step.get("answers") or [])
    ]
    return {
        **RUN_SCREEN,
        "run": run,
        "procedure": procedure,
        "step": _display_step(step, values),
        "step_number": len([p for p in path if p["kind"] != graph.RULE]) + 1,
        "path": path,
        "values": values,
        "fields": fields,
        "checklist": checklist,
        "answers": answers,
        "errors": errors or {},
        "note": note,
        "can_go_back": engine.back_target(procedure, [e.step_key for e in engine.active_path(events)])
        is not None,
    }


def summary_context(run):
    procedure = run.get_procedure()
    events = list(run.events.order_by("seq"))
    outcome_step = None
    if run.status == RunStatus.COMPLETED and run.current_step in procedure.by_key:
        step = procedure.by_key[run.current_step]
        if step.get("kind") == graph.OUTCOME:
            outcome_step = _display_step(step, run.variables)
    summary_text = run_summary_text(run, procedure, events)
    timeline = [
        {
            "event": e,
            "seconds": engine.format_duration(e.seconds),
            "inputs": "，".join(f"{k}：{v}" for k, v in e.inputs.items() if v != ""),
        }
        for e in events
    ]
    return {
        **RUN_SCREEN,
        "run": run,
        "procedure": procedure,
        "outcome_step": outcome_step,
        "path": _path_items(events),
        "timeline": timeline,
        "summary_text": summary_text,
        "summary_rows": min(summary_text.count("\n") + 2, 30),
        "values": run.variables,
        "variables": [(v.display_label, run.variables.get(n, "")) for n, v in procedure.variables.items()],
        "now": timezone.now(),
    }
