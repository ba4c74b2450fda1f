"""Helpers for the trainee-journey tests: a demo procedure, a path over it, and walking a run."""

from django.utils import timezone

from procedures.choices import EventAction, StepKind
from procedures.models import ProcedureRun
from procedures.runs import apply_move
from tests.procedures.conftest import load_demo_procedure
from training.models import LearningPath, ScenarioCard

# The golden path of the demo 少货处理 for a small shortage: refund at once.
MISSING_ITEM_GOLDEN = ["greet", "ask-package", "collect", "verify", "confirmed", "by-amount", "refund"]
START_VALUES = {"客户称呼": "王女士", "订单号": "A1001", "商品名称": "保温杯", "少货金额": "30", "天数": "3"}


def missing_item_procedure():
    return load_demo_procedure("30-missing-item.yaml")


def stage(title, *items, gate="all_done"):
    return {"type": "stage", "value": {"title": title, "gate": gate, "items": list(items)}}


def item(kind, **value):
    return {"type": kind, "value": value}


def make_path(*stages, title="上岗路径", **fields):
    return LearningPath.objects.create(title=title, stages=list(stages), **fields)


def missing_item_card(procedure, **fields):
    card = ScenarioCard.objects.create(
        procedure=procedure,
        title=fields.pop("title", "少货 30 元"),
        persona="老客户，语气着急",
        facts="订单 A1001\n少了一个保温杯，30 元",
        expected_outcome="已解决",
        golden_path=MISSING_ITEM_GOLDEN,
        expected_minutes=fields.pop("expected_minutes", 30),
        **fields,
    )
    return card


def walk(run, user, answers=None, inputs=None):
    """Move ``run`` forward until it ends: question steps take ``answers[key]`` (an index, default 0),
    input steps ``inputs[key]`` (default: the start values), instructions tick their whole checklist."""
    answers = answers or {}
    inputs = inputs or {}
    for _ in range(50):
        run = ProcedureRun.objects.get(pk=run.pk)
        if run.is_finished:
            return run
        step = run.get_procedure().by_key[run.current_step]
        move = {"step": run.current_step, "seq": run.next_seq, "now": timezone.now()}
        if step["kind"] == StepKind.QUESTION:
            move.update(action=EventAction.ANSWER, answer=str(answers.get(run.current_step, 0)))
        elif step["kind"] == StepKind.INPUT:
            values = inputs.get(run.current_step) or {
                n: START_VALUES.get(n, "1") for n in step.get("variables", [])
            }
            move.update(action=EventAction.NEXT, inputs=values)
        else:
            move.update(action=EventAction.NEXT, checked=tuple(range(len(step.get("checklist") or []))))
        apply_move(run.pk, user, **move)
    raise AssertionError("the run did not end")
