"""The chain original run → callback run → 重办, on each run's summary, its admin timeline and its JSON,
and on the follow-ups' own pages."""

import pytest
from django.urls import reverse

from followups import handling
from followups.models import FollowUp
from procedures.runs import start_run
from tests.training.journeys import START_VALUES, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(agent, missing_item_with_callback, callback_procedure, django_capture_on_commit_callbacks):
    """An original run that left a callback, the callback worked as a run answered 不满意, and its 重办."""
    original = start_run(missing_item_with_callback, agent, variables=dict(START_VALUES))
    with django_capture_on_commit_callbacks(execute=True):
        original = walk(original, agent)
    callback = FollowUp.objects.get(source_run=original, procedure=callback_procedure)
    work = handling.start_work(callback, agent)
    with django_capture_on_commit_callbacks(execute=True):
        work = walk(work, agent, inputs={"rate": {"满意度": "不满意"}})
    redo = FollowUp.objects.get(kind="redo")
    return original, callback, work, redo


def test_the_summaries_show_the_chain(client, agent, chain):
    original, callback, work, redo = chain
    client.force_login(agent)
    page = client.get(original.get_absolute_url()).content.decode()
    assert "这次运行留下的跟进" in page and callback.title in page
    assert reverse("followups:detail", args=[callback.pk]) in page
    page = client.get(work.get_absolute_url()).content.decode()
    assert "这次运行处理的跟进" in page
    assert reverse("followups:detail", args=[callback.pk]) in page
    assert reverse("procedures:replay_start", args=[original.pk]) in page
    assert reverse("followups:detail", args=[redo.pk]) in page and "重办" in page


def test_the_run_json_carries_the_chain(client, agent, chain):
    original, callback, work, redo = chain
    client.force_login(agent)
    data = client.get(reverse("procedures:run_json", args=[original.pk])).json()
    assert str(callback.pk) in [f["id"] for f in data["follow_ups"]]
    assert data["worked_follow_up"] is None
    data = client.get(reverse("procedures:run_json", args=[work.pk])).json()
    assert data["worked_follow_up"]["id"] == str(callback.pk)
    assert data["worked_follow_up"]["source_run"] == str(original.pk)
    assert data["worked_follow_up"]["status"] == "done"
    assert [(f["kind"], f["parent"]) for f in data["follow_ups"]] == [("redo", str(callback.pk))]
    # The run's own keys are still there.
    assert data["id"] == str(work.pk) and data["outcome"] == "回访不满意"


def test_the_admin_timeline_shows_the_chain(client, supervisor, chain):
    original, callback, work, redo = chain
    client.force_login(supervisor)
    page = client.get(reverse("procedures_runs:timeline", args=[work.pk])).content.decode()
    assert "这次运行处理的跟进" in page and redo.title in page


def test_the_follow_up_pages_show_parent_work_run_and_children(client, agent, supervisor, chain):
    original, callback, work, redo = chain
    client.force_login(agent)
    page = client.get(callback.get_absolute_url()).content.decode()
    assert "处理运行" in page and work.get_absolute_url() in page
    assert "后续跟进" in page and redo.get_absolute_url() in page
    assert reverse("procedures:replay_start", args=[original.pk]) in page
    client.force_login(supervisor)
    page = client.get(redo.get_absolute_url()).content.decode()
    assert "上一个跟进" in page and callback.get_absolute_url() in page
