"""What procedures offer the apps built on them: the ``run_ended`` signal and ``before_start_run``."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail import hooks

from procedures.choices import EventAction, RunStatus
from procedures.models import ProcedureRun
from procedures.runs import apply_move, mark_abandoned_runs, start_run
from procedures.signals import BEFORE_START_RUN, run_ended
from tests.procedures.conftest import login


@pytest.fixture
def endings():
    received = []

    def receiver(sender, run, ending, **kwargs):
        received.append((run.pk, ending))

    run_ended.connect(receiver)
    yield received
    run_ended.disconnect(receiver)


def move(run, user, action, **fields):
    run.refresh_from_db()
    return apply_move(run.pk, user, step=run.current_step, seq=run.next_seq, action=action, **fields)


def test_run_ended_is_sent_once_when_a_run_ends(
    missing_item, agent, endings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run(missing_item, agent)
        move(run, agent, "next")
    assert endings == []
    with django_capture_on_commit_callbacks(execute=True):
        move(run, agent, "answer", answer="1")  # 外包装破损 → an outcome step
    assert endings == [(run.pk, EventAction.OUTCOME)]
    with django_capture_on_commit_callbacks(execute=True):
        other = start_run(missing_item, agent)
        move(other, agent, "escalate")
    assert endings[1:] == [(other.pk, EventAction.ESCALATE)]


def test_run_ended_for_runs_marked_abandoned(
    missing_item, agent, endings, django_capture_on_commit_callbacks
):
    run = start_run(missing_item, agent)
    ProcedureRun.objects.filter(pk=run.pk).update(
        last_activity_at=timezone.now() - datetime.timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert mark_abandoned_runs() == 1
        assert mark_abandoned_runs() == 0
    assert endings == [(run.pk, RunStatus.ABANDONED)]


@pytest.fixture
def live_runs_refused():
    def refuse_live_runs(request, procedure, practice):
        return None if practice else f"请先练习“{procedure.title}”。"

    with hooks.register_temporarily(BEFORE_START_RUN, refuse_live_runs):
        yield


def test_before_start_run_can_refuse_a_live_run(client, agent, missing_item, live_runs_refused):
    login(client, agent)
    url = reverse("procedures:start", args=[missing_item.pk])
    response = client.post(url, {"ref": "CALL-1", "v-客户称呼": "王女士"}, follow=True)
    assert "请先练习“少货处理”。" in response.content.decode()
    assert not ProcedureRun.objects.exists()
    response = client.post(url, {"ref": "CALL-1", "v-客户称呼": "王女士", "practice": "1"})
    assert response.status_code == 302 and ProcedureRun.objects.get().practice
