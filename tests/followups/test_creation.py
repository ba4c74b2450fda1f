"""Follow-ups from runs: a rule on a visited step, a handoff ending, none from practice; working a
callback as a guided run pre-filled from the original; 不满意 creates a 重办; the chain is kept."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from followups import handling
from followups.choices import Status
from followups.models import FollowUp
from procedures.choices import EventAction
from procedures.models import ProcedureRun
from procedures.runs import apply_move, start_run
from tests.training.journeys import walk

pytestmark = pytest.mark.django_db


def test_a_rule_on_the_outcome_creates_a_callback_due_in_working_days(
    agent, missing_item_with_callback, django_capture_on_commit_callbacks
):
    run = start_run(missing_item_with_callback, agent, variables={"客户称呼": "王女士"}, ref="CALL-1")
    with django_capture_on_commit_callbacks(execute=True):
        run = walk(run, agent)
    follow_up = FollowUp.objects.get()
    assert (follow_up.kind, follow_up.assignee, follow_up.status, follow_up.source_step) == (
        "callback",
        agent,
        Status.OPEN,
        "refund",
    )
    assert follow_up.customer["客户称呼"] == "王女士" and follow_up.ref == "CALL-1"
    assert follow_up.due_at > run.finished_at + timezone.timedelta(days=2)
    assert follow_up.due_at == follow_up.original_due_at
    run.refresh_from_db()
    assert run.awaiting_follow_up and "等待回访" in run.ending_display


def test_practice_runs_create_no_follow_ups(
    agent, missing_item_with_callback, django_capture_on_commit_callbacks
):
    run = start_run(missing_item_with_callback, agent, variables={"客户称呼": "王女士"}, practice=True)
    with django_capture_on_commit_callbacks(execute=True):
        walk(run, agent)
    assert not FollowUp.objects.exists()


def test_escalating_hands_the_case_to_the_chosen_group(
    agent, supervisor, missing_item, django_capture_on_commit_callbacks
):
    group = Group.objects.get(name="主管")
    run = start_run(missing_item, agent, variables={"客户称呼": "王女士"})
    with django_capture_on_commit_callbacks(execute=True):
        apply_move(
            run.pk,
            agent,
            step=run.current_step,
            seq=run.next_seq,
            action=EventAction.ESCALATE,
            note="客户要求主管处理",
            handoff={"reason": "客户要求主管处理", "group": group, "user": None},
        )
    follow_up = FollowUp.objects.get()
    assert (follow_up.kind, follow_up.group, follow_up.assignee, follow_up.reason) == (
        "escalation",
        group,
        None,
        "客户要求主管处理",
    )
    assert follow_up in FollowUp.objects.visible_to(supervisor)
    assert follow_up not in FollowUp.objects.visible_to(agent)


def test_working_a_callback_runs_its_procedure_prefilled_and_unsatisfied_creates_a_redo(
    agent, missing_item_with_callback, callback_procedure, django_capture_on_commit_callbacks
):
    run = start_run(missing_item_with_callback, agent, variables={"客户称呼": "王女士"})
    with django_capture_on_commit_callbacks(execute=True):
        walk(run, agent)
    callback = FollowUp.objects.get()
    work = handling.start_work(callback, agent)
    assert work.procedure_id == callback_procedure.pk and work.variables["客户称呼"] == "王女士"
    assert handling.start_work(callback, agent) == work  # a second click resumes the same run
    with django_capture_on_commit_callbacks(execute=True):
        walk(work, agent, inputs={"rate": {"满意度": "不满意"}})
    callback.refresh_from_db()
    assert (callback.status, callback.result, callback.satisfaction) == (Status.DONE, "回访不满意", "不满意")
    redo = FollowUp.objects.get(kind="redo")
    assert redo.parent == callback and redo.source_run == work and redo.group.name == "售后组"
    run.refresh_from_db()
    assert not run.awaiting_follow_up  # its own follow-up, the callback, is closed


def test_attempts_reschedule_and_three_failures_over_two_days_end_unreachable(
    agent, other_agent, missing_item_with_callback, django_capture_on_commit_callbacks
):
    run = start_run(missing_item_with_callback, agent, variables={"客户称呼": "王女士"})
    with django_capture_on_commit_callbacks(execute=True):
        walk(run, agent)
    follow_up = FollowUp.objects.get()
    now = timezone.now()
    with pytest.raises(handling.NotAllowed):
        handling.log_attempt(follow_up, other_agent, "no_answer")  # not theirs
    later = now + timezone.timedelta(days=5)
    handling.log_attempt(follow_up, agent, "reschedule", note="客户说周五再打", next_at=later, now=now)
    follow_up.refresh_from_db()
    assert follow_up.due_at == later and follow_up.original_due_at != later
    handling.log_attempt(follow_up, agent, "no_answer", now=now)
    handling.log_attempt(follow_up, agent, "switched_off", now=now + timezone.timedelta(hours=1))
    follow_up.refresh_from_db()
    assert follow_up.status == Status.IN_PROGRESS  # three tries needed, on two days
    handling.log_attempt(follow_up, agent, "no_answer", now=now + timezone.timedelta(days=1))
    follow_up.refresh_from_db()
    assert follow_up.status == Status.UNREACHABLE
    with pytest.raises(handling.NotAllowed, match="已经无法联系"):
        handling.log_attempt(follow_up, agent, "no_answer")


def test_closing_twice_says_who_closed_it(
    agent, supervisor, missing_item_with_callback, django_capture_on_commit_callbacks
):
    run = start_run(missing_item_with_callback, agent, variables={"客户称呼": "王女士"})
    with django_capture_on_commit_callbacks(execute=True):
        walk(run, agent)
    follow_up = FollowUp.objects.get()
    handling.close(follow_up, supervisor, Status.DONE, result="已电话确认")
    with pytest.raises(handling.NotAllowed, match="已经由"):
        handling.close(follow_up, agent, Status.DONE, result="again")
    assert ProcedureRun.objects.get(pk=run.pk).awaiting_follow_up is False


def test_reassigning_needs_the_permission_and_a_user_who_may_work(
    agent, other_agent, newhire, supervisor, missing_item_with_callback, django_capture_on_commit_callbacks
):
    run = start_run(missing_item_with_callback, agent, variables={"客户称呼": "王女士"})
    with django_capture_on_commit_callbacks(execute=True):
        walk(run, agent)
    follow_up = FollowUp.objects.get()
    with pytest.raises(handling.NotAllowed):
        handling.reassign([follow_up], agent, user=other_agent)
    with pytest.raises(handling.NotAllowed):
        handling.reassign([follow_up], supervisor, user=newhire)
    assert handling.reassign([follow_up], supervisor, user=other_agent) == 1
    follow_up.refresh_from_db()
    assert follow_up.assignee == other_agent
    assert other_agent.notices.filter(follow_up=follow_up, kind="assigned").exists()
