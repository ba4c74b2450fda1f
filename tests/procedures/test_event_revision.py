"""Each run event records the page revision it was made on (``RunEvent.revision``).

A run is pinned to the revision live when it started and every move is computed from that revision's
snapshot, so the revision an event was made on is the run's pinned one, even after a newer revision
is published mid-run: that newer revision was never shown to the agent, and naming it would make the
log claim steps the agent never saw. The revision is ``PROTECT``: ``purge_revisions`` leaves it while
the log names it, and nothing can UPDATE an event to forget it.
"""

import io
import re

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Revision

from procedures.models import ProcedurePage, ProcedureRun, RunEvent, RunStatus
from tests.procedures.conftest import login


def form_state(response):
    html = response.content.decode()
    return {
        "step": re.search(r'name="step" value="([^"]*)"', html).group(1),
        "seq": re.search(r'name="seq" value="(\d+)"', html).group(1),
    }


def start(client, page, **post):
    response = client.post(reverse("procedures:start", args=[page.pk]), post)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ProcedureRun.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[-1])


def step(client, run, **data):
    shown = client.get(reverse("procedures:run", args=[run.pk]))
    assert shown.status_code == 200
    response = client.post(reverse("procedures:move", args=[run.pk]), {**form_state(shown), **data})
    assert response.status_code == 302, response.content.decode()[:2000]


def event_revisions(run):
    return list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", "action", "revision_id"))


def publish_new_version(page, trainer, supervisor, title):
    """The trainer rewrites the package question; the supervisor publishes it (trainers cannot)."""
    page = ProcedurePage.objects.get(pk=page.pk)
    raw = list(page.steps.raw_data)
    for block in raw:
        if block["value"]["key"] == "ask-package":
            block["value"]["title"] = title
    page.steps = raw
    revision = page.save_revision(user=trainer)
    revision.publish(user=supervisor)
    return revision


def test_every_event_written_through_the_views_names_the_revision_it_was_made_on(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item, **{"v-客户称呼": "王女士"})
    step(client, run, action="next", note="客户很着急")
    step(client, run, answer="0")  # 完好 → collect
    step(client, run, action="back")
    step(client, run, answer="0")
    step(client, run, action="next", **{"v-订单号": "A100", "v-商品名称": "保温杯", "v-少货金额": "30"})
    step(client, run, action="escalate", confirm="1", reason="客户要求找主管", handoff_user=str(agent.pk))
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.outcome == "已升级"
    assert run.revision_id == missing_item.live_revision_id
    pinned = run.revision_id
    assert event_revisions(run) == [
        (1, "next", pinned),
        (2, "answer", pinned),
        (3, "back", pinned),
        (4, "answer", pinned),
        (5, "input", pinned),
        (6, "escalate", pinned),
    ]


def test_events_written_at_start_name_the_revision(client, agent, rule_first):
    login(client, agent)
    small = start(client, rule_first, **{"v-金额": "10"})  # rule and outcome at once: the run ends at start
    large = start(client, rule_first, **{"v-金额": "100"})
    step(client, large, answer="0")
    for run in (small, large):
        run.refresh_from_db()
        assert run.status == RunStatus.COMPLETED
    live = rule_first.live_revision_id
    assert event_revisions(small) == [(1, "rule", live), (2, "outcome", live)]
    assert event_revisions(large) == [(1, "rule", live), (2, "answer", live), (3, "outcome", live)]


def test_a_version_published_mid_run_is_not_what_the_runs_events_record(
    client, agent, trainer, supervisor, missing_item
):
    """The run goes on with the version it started on, and its events say so; new runs get the new one."""
    login(client, agent)
    run = start(client, missing_item, **{"v-客户称呼": "王女士"})
    step(client, run, action="next")
    pinned = run.revision_id

    newer = publish_new_version(missing_item, trainer, supervisor, "新版：包装怎么样？")
    assert ProcedurePage.objects.get(pk=missing_item.pk).live_revision_id == newer.pk != pinned

    step(client, run, answer="0")
    step(client, run, action="next", **{"v-订单号": "A1", "v-商品名称": "杯", "v-少货金额": "10"})
    step(client, run, action="next", check=["0", "1", "2"])
    step(client, run, answer="0")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.revision_id == pinned
    assert {revision for _, _, revision in event_revisions(run)} == {pinned}
    assert RunEvent.objects.get(run=run, step_key="ask-package").step_title == "外包装是否完好？"

    new_run = start(client, missing_item, **{"v-客户称呼": "李先生"})
    step(client, new_run, action="next")
    step(client, new_run, answer="0")
    assert new_run.revision_id == newer.pk
    assert {revision for _, _, revision in event_revisions(new_run)} == {newer.pk}
    assert RunEvent.objects.get(run=new_run, step_key="ask-package").step_title == "新版：包装怎么样？"

    # The supervisors' timeline marks no event: every one was made on the run's own version.
    login(client, supervisor)
    html = client.get(reverse("procedures_runs:timeline", args=[run.pk])).content.decode()
    assert f"#{pinned}" in html and "修订 #" not in html


def test_the_timeline_marks_an_event_made_on_another_revision(
    client, agent, supervisor, trainer, missing_item
):
    """Runs never switch version today; should one ever do, its timeline shows where (修订 #N)."""
    login(client, agent)
    run = start(client, missing_item, **{"v-客户称呼": "王女士"})
    step(client, run, action="next")
    other = publish_new_version(missing_item, trainer, supervisor, "新版：包装怎么样？")
    now = timezone.now()
    RunEvent(
        run=run,
        revision=other,
        seq=2,
        step_key="ask-package",
        step_title="新版：包装怎么样？",
        kind="question",
        action="answer",
        answer="完好",
        entered_at=now,
        left_at=now,
    ).save()
    login(client, supervisor)
    html = client.get(reverse("procedures_runs:timeline", args=[run.pk])).content.decode()
    assert html.count("修订 #") == 1 and f"修订 #{other.pk}" in html
    assert reverse("wagtailadmin_pages:revisions_view", args=[missing_item.pk, other.pk]) in html


def test_a_revision_the_log_names_survives_purge_revisions(client, agent, trainer, supervisor, missing_item):
    """Wagtail's purge_revisions skips protected revisions; SET_NULL would UPDATE events instead."""
    login(client, agent)
    run = start(client, missing_item, **{"v-客户称呼": "王女士"})
    step(client, run, action="next")
    # A revision only an event names (the run names another): PROTECT on the event alone keeps it.
    named_by_event = publish_new_version(missing_item, trainer, supervisor, "第二版")
    now = timezone.now()
    RunEvent(
        run=run,
        revision=named_by_event,
        seq=2,
        step_key="ask-package",
        step_title="第二版",
        kind="question",
        action="answer",
        answer="完好",
        entered_at=now,
        left_at=now,
    ).save()
    unnamed = publish_new_version(missing_item, trainer, supervisor, "第三版")
    publish_new_version(missing_item, trainer, supervisor, "第四版")  # the live, latest one
    assert Revision.objects.filter(pk__in=[run.revision_id, named_by_event.pk, unnamed.pk]).count() == 3
    before = event_revisions(run)

    with pytest.raises(ProtectedError), transaction.atomic():
        named_by_event.delete()
    call_command("purge_revisions", stdout=io.StringIO())

    assert Revision.objects.filter(pk=run.revision_id).exists()
    assert Revision.objects.filter(pk=named_by_event.pk).exists()
    assert not Revision.objects.filter(pk=unnamed.pk).exists()
    assert event_revisions(run) == before == [(1, "next", run.revision_id), (2, "answer", named_by_event.pk)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_backfills_logged_events_from_their_run_and_keeps_the_log_append_only(
    agent, missing_item
):
    """0007 fills in the revision of events logged before it (their run's); triggers hold both ways."""
    from procedures.runs import apply_move, start_run

    runs = []
    for _ in range(2):
        run = start_run(missing_item, agent)
        apply_move(run.pk, agent, step=run.current_step, seq=run.next_seq, action="next")
        runs.append(run)
    expected = {run.pk: run.revision_id for run in runs}
    executor = MigrationExecutor(connection)
    # Every app's latest: going back in procedures also unapplies the apps built on it (training).
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([("procedures", "0006_sanitised_rich_text")])
        with connection.cursor() as cursor:
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, "procedures_runevent")
            ]
        assert "revision_id" not in columns
        assert_append_only()
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    finally:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(latest):
            executor.migrate(latest)
    events = RunEvent.objects.filter(run__in=runs).values_list("run_id", "revision_id")
    assert len(events) == 2 and all(revision == expected[run_id] for run_id, revision in events)
    assert_append_only()


def assert_append_only():
    table = RunEvent._meta.db_table
    for sql in (f"UPDATE {table} SET note = 'rewritten'", f"DELETE FROM {table}"):
        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
