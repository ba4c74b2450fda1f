"""Scored practice: starting a practice run against a scenario card, scoring it when it ends, and the
licence a new hire earns by passing practice.

The run is the real procedure's run (``procedures.runs.start_run`` with ``practice=True``): it is in the
run log like any other and, as a practice run, never counts in statistics. ``score_run`` is connected
to ``procedures.signals.run_ended``.
"""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from procedures.choices import EventAction, RunStatus, StepKind
from procedures.engine import must_say_lines
from procedures.runs import start_run

from . import progress, scoring
from .choices import ItemKind
from .models import PracticeSession, ProcedureLicence

__all__ = ["said_lines", "score_run", "start_practice"]


def start_practice(card, user, *, variables=None, ref=""):
    """Start a practice run of the card's procedure for ``user`` (start values cleaned by
    ``procedures.forms.StartForm``); returns the run."""
    page = card.procedure.specific
    with transaction.atomic():
        run = start_run(page, user, variables=variables, ref=ref, practice=True)
        PracticeSession.objects.create(
            run=run, card=card, user=user, procedure=page, started_at=run.started_at
        )
    return run


def said_lines(run, phrasings):
    """Which of ``phrasings`` (Phrasing objects) the run said. A step's 必说 lines have the agent's own
    word for it: said when an event leaving that step kept them ticked (``RunEvent.said``); any other
    phrasing of a step the run visited counts as said, as the step shows it."""
    procedure = run.get_procedure()
    ticked = defaultdict(set)
    for event in run.logged_events:
        ticked[event.step_key].update(event.said or ())
    said_titles, said_texts = set(), set()
    for key in run.visited_steps():
        for line in procedure.by_key.get(key, {}).get("phrasings") or []:
            if line.get("must_say"):
                (name,) = must_say_lines({"phrasings": [line]}) or ("",)
                if name not in ticked[key]:
                    continue
            said_titles.add(line.get("title", ""))
            said_texts.add(line.get("text", ""))
    return [p.pk for p in phrasings if p.title in said_titles or p.text in said_texts]


def score_run(run, ending):
    """Score a practice run that has just ended (a no-op for live runs and for runs scored already)."""
    if not run.practice:
        return None
    with transaction.atomic():
        session, _ = PracticeSession.objects.select_for_update().get_or_create(
            run=run,
            defaults={"user_id": run.user_id, "procedure_id": run.procedure_id, "started_at": run.started_at},
        )
        if session.scored_at is not None:
            return session
        card = session.card
        completed = run.status == RunStatus.COMPLETED and ending == EventAction.OUTCOME
        keys = run.visited_steps()
        procedure = run.get_procedure()
        interactive = [k for k in keys if procedure.by_key.get(k, {}).get("kind") != StepKind.RULE]
        if card is not None:
            must_say = list(card.must_say.all())
            golden = [k for k in card.golden_path if procedure.by_key.get(k, {}).get("kind") != StepKind.RULE]
            result = scoring.practice_score(
                golden=golden,
                actual=interactive,
                expected_outcome=card.expected_outcome,
                outcome=run.outcome if completed or ending != RunStatus.ABANDONED else "",
                seconds=run.duration_seconds,
                expected_seconds=card.expected_seconds(),
                must_say=[p.pk for p in must_say],
                said=said_lines(run, must_say),
            )
            titles = {k: procedure.by_key.get(k, {}).get("title", k) for k in set(golden) | set(interactive)}
            left = result["path"]["left_at"]
            feedback = {
                "parts": result["parts"],
                "path": result["path"],
                "left_at": left
                and {
                    **left,
                    "expected_title": titles.get(left["expected"], left["expected"]),
                    "taken_title": titles.get(left["taken"], left["taken"]) if left["taken"] else "",
                },
                "golden": [titles.get(k, k) for k in golden],
                "taken": [titles.get(k, k) for k in interactive],
                "ending_ok": result["ending_ok"],
                "expected_outcome": card.expected_outcome,
                "outcome": run.outcome,
                "seconds": round(run.duration_seconds),
                "expected_seconds": card.expected_seconds(),
                "said": [p.title for p in must_say if p.pk in result["said"]],
                "missed": [p.title for p in must_say if p.pk in result["missed"]],
            }
            total = result["total"]
        else:
            total = 100.0 if completed else 0.0
            feedback = {"outcome": run.outcome, "seconds": round(run.duration_seconds), "no_card": True}
        session.score = total
        session.passed = total >= progress.training_settings().practice_pass_score
        session.feedback = feedback
        session.scored_at = timezone.now()
        session.save()
    progress.refresh(run.user, ItemKind.PRACTICE, run.procedure_id)
    if session.passed and run.procedure_id:
        licensed, passes, needed = progress.licence_status(run.user, run.procedure_id)
        if licensed and passes is not None:
            progress.grant_licence(run.user, run.procedure, source=ProcedureLicence.Source.PRACTICE)
    return session
