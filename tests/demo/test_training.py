"""The training demo (``training.demo``, fixtures/demo/training): two learning paths with their question
banks and scenario cards, and a cohort of new hires at different stages with real evidence behind
their progress."""

from django.contrib.auth import get_user_model
from django.core.management import call_command
from wagtail.models import Revision

from procedures.models import ProcedureRun, RunEvent
from training import progress, scoring
from training.choices import FINISHED, Gate, ItemKind, QuestionType, Status
from training.models import (
    AttemptAnswer,
    Cohort,
    ItemProgress,
    LearningPath,
    PathAssignment,
    PracticeSession,
    ProcedureLicence,
    Question,
    Quiz,
    QuizAttempt,
    ReadConfirmation,
    ScenarioCard,
    StatusChange,
)

PATH_95598 = "95598 投诉处理上岗路径"
PATH_ECOMMERCE = "电商售后上岗路径"


def counts():
    models = [
        LearningPath,
        Question,
        Quiz,
        ScenarioCard,
        Cohort,
        PathAssignment,
        ItemProgress,
        ReadConfirmation,
        QuizAttempt,
        AttemptAnswer,
        PracticeSession,
        ProcedureLicence,
        StatusChange,
        ProcedureRun,
        RunEvent,
        Revision,
    ]
    return {
        "users": get_user_model().objects.count(),
        **{model.__name__: model.objects.count() for model in models},
        "finished": ItemProgress.objects.filter(status__in=FINISHED).count(),
    }


def test_paths_question_banks_and_scenario_cards(demo):
    paths = {path.title: path for path in LearningPath.objects.all()}
    assert {PATH_95598, PATH_ECOMMERCE} <= set(paths)
    stages = paths[PATH_95598].plan()
    assert [stage.title for stage in stages] == ["业务培训", "跟岗", "试接", "独立上岗"]
    assert [stage.gate for stage in stages] == [Gate.ALL_DONE, Gate.MENTOR, Gate.MENTOR, Gate.ALL_DONE]
    kinds = {item.kind for stage in stages for item in stage.items}
    assert kinds == set(ItemKind.values)
    assert all(item.target_id for item in paths[PATH_95598].items() if item.kind != ItemKind.OFFLINE)
    assert len(paths[PATH_ECOMMERCE].plan()) >= 2
    practice_targets = {i.target_id for i in paths[PATH_ECOMMERCE].items() if i.kind == ItemKind.PRACTICE}
    assert len(practice_targets) == 3  # 少货, 错货, 运输破损

    # A bank per section with every question type, and every option citing where its answer comes from.
    for section_slug, least in (("power-95598", 12), ("ecommerce", 8)):
        bank = Question.objects.filter(section__slug=section_slug)
        assert bank.count() >= least
        assert set(bank.values_list("type", flat=True)) == set(QuestionType.values), section_slug
    for question in Question.objects.prefetch_related("options"):
        options = [{"text": o.text, "correct": o.correct} for o in question.options.all()]
        assert question.check_options(options) is None, question.stem
        question.full_clean()  # a scenario question's step exists in its procedure
        for option in question.options.all():
            assert option.explanation and option.cite_url(), (question.stem, option.text)
        if question.type == QuestionType.SCENARIO:
            assert question.procedure_id and question.step_key

    cards = list(ScenarioCard.objects.select_related("procedure"))
    assert {card.procedure.slug for card in cards} >= {
        "complaint-five-steps",
        "missing-item-flow",
        "wrong-item-flow",
        "transit-damage-flow",
    }
    for card in cards:
        keys = [step["key"] for step in card.live_steps()]
        assert card.golden_path and set(card.golden_path) <= set(keys), card.title
        assert card.expected_outcome in card.procedure.specific.outcome_choices()
        assert card.must_say.exists()
        card.full_clean()


def test_cohort_members_have_real_evidence_at_different_stages(demo):
    cohort = Cohort.objects.get(path__title=PATH_95598)
    assert cohort.mentor.username == "trainer"
    members = list(cohort.members.all())
    assert len(members) >= 4 and "newhire" in {m.username for m in members}
    assignments = PathAssignment.objects.filter(cohort=cohort)
    assert assignments.count() == len(members)
    assert len({a.current_stage for a in assignments}) >= 3
    assert all(a.user.groups.filter(name="新员工").exists() for a in assignments)

    rows = ItemProgress.objects.filter(assignment__path__title__in=[PATH_95598, PATH_ECOMMERCE])
    assert any(row.shown_status() == Status.OVERDUE for row in rows)
    assert rows.filter(status=Status.RELEARN, changes__reason__gt="").exists()
    trainer = get_user_model().objects.get(username="trainer")
    waiting = progress.sign_off_queue(trainer)
    assert waiting.filter(kind=ItemKind.OFFLINE, sign_off_requested_at__isnull=False).exists()

    # Read confirmations name a revision of the article; quiz attempts score as their snapshot says.
    for confirmation in ReadConfirmation.objects.all():
        assert confirmation.revision.object_id == str(confirmation.page_id)
    attempts = list(QuizAttempt.objects.prefetch_related("answer_rows"))
    assert any(a.passed for a in attempts) and any(a.passed is False for a in attempts)
    for attempt in attempts:
        results = [scoring.answer_is_correct(q, attempt.answers[str(q["id"])]) for q in attempt.drawn]
        assert attempt.score == scoring.quiz_percent(results)
        assert [r.correct for r in attempt.answer_rows.order_by("pk")] == results

    # Practice went through the engine: practice runs, scored when they ended, passing and failing.
    sessions = PracticeSession.objects.select_related("run", "card")
    assert sessions.filter(passed=True).count() >= 5 and sessions.filter(passed=False).exists()
    for session in sessions:
        assert session.run.practice and session.run.status == "completed" and session.scored_at
        assert session.run.events.exists()
    passing = sessions.filter(passed=True).first()
    assert passing.run.outcome == passing.card.expected_outcome
    # Statistics see none of training's runs (the follow-up demo's agents make live ones).
    assert not ProcedureRun.objects.filter(practice=False, user__groups__name="新员工").exists()
    assert ProcedureLicence.objects.filter(source=ProcedureLicence.Source.PRACTICE).exists()
    done_practice = rows.filter(kind=ItemKind.PRACTICE, status=Status.DONE).first()
    assert done_practice.passes >= done_practice.needed_passes


def test_update_keeps_progress(demo):
    """``load_demo --update`` republishes the content and keeps every learner's progress."""
    before = counts()
    assert before["PathAssignment"] >= 5 and before["QuizAttempt"] and before["PracticeSession"]
    call_command("load_demo", "--demo-users", "--update", verbosity=0)
    after = counts()
    assert after["finished"] == before["finished"]  # the paths' block ids did not change
    assert after["ItemProgress"] == before["ItemProgress"] and after["Question"] == before["Question"]
