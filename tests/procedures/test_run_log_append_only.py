"""The run log is append-only in the database, not only in the UI: the ORM refuses changing or deleting
events, triggers reject raw UPDATE / DELETE, a run with events cannot be deleted, and the one way to
delete is the logged retention purge (``purge_run_log``), after which the triggers hold again."""

import datetime
import io
import logging

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from procedures.models import ProcedureRun, RunEvent, RunStatus
from procedures.models.run_log import RunLogIsAppendOnly, run_log_unlocked
from procedures.runs import apply_move, mark_abandoned_runs, start_run

TABLE = RunEvent._meta.db_table
OLD = timezone.make_aware(datetime.datetime(2020, 6, 1, 10, 0))
MINUTE = datetime.timedelta(minutes=1)


def move(run, user, action, now=None, **fields):
    run.refresh_from_db()
    return apply_move(run.pk, user, step=run.current_step, seq=run.next_seq, action=action, now=now, **fields)


def finished_run(page, user, when):
    """A run of 少货处理 ended at its 外包装破损 outcome: two events."""
    run = start_run(page, user, now=when)
    move(run, user, "next", now=when + MINUTE)
    move(run, user, "answer", answer="1", now=when + 2 * MINUTE)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.events.count() >= 2
    return run


@pytest.fixture
def run(missing_item, agent):
    return finished_run(missing_item, agent, timezone.now())


def logged(run):
    return list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", "step_key", "note"))


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def sqlite_triggers():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE]
        )
        return sorted(cursor.fetchall())


def test_saving_a_logged_event_again_is_refused(run):
    before = logged(run)
    event = RunEvent.objects.get(run=run, seq=1)
    event.note = "事后补写"
    with pytest.raises(RunLogIsAppendOnly):
        event.save()
    with pytest.raises(RunLogIsAppendOnly):
        event.save(update_fields=["note"])
    # A new object carrying an existing id is inserted (and fails), never turned into an UPDATE.
    copy = RunEvent.objects.get(pk=event.pk)
    copy._state.adding = True
    copy.note = "冒名顶替"
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    assert logged(run) == before


def test_queryset_update_and_bulk_update_are_refused(run):
    before = logged(run)
    with pytest.raises(RunLogIsAppendOnly):
        RunEvent.objects.filter(run=run).update(note="改写")
    with pytest.raises(RunLogIsAppendOnly):
        RunEvent.objects.update(seq=99)
    events = list(RunEvent.objects.filter(run=run))
    for event in events:
        event.note = "批量改写"
    with pytest.raises(RunLogIsAppendOnly):
        RunEvent.objects.bulk_update(events, ["note"])
    with pytest.raises(RunLogIsAppendOnly):
        RunEvent.objects.update_or_create(run=run, seq=1, defaults={"note": "改写"})
    assert logged(run) == before


def test_deleting_events_through_the_orm_is_refused(run):
    before = logged(run)
    with pytest.raises(RunLogIsAppendOnly):
        RunEvent.objects.get(run=run, seq=1).delete()
    with pytest.raises(RunLogIsAppendOnly):
        RunEvent.objects.filter(run=run).delete()
    with pytest.raises(RunLogIsAppendOnly):
        run.events.all().delete()
    assert logged(run) == before


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {TABLE} SET seq = seq + 100",
        f"UPDATE {TABLE} SET note = 'rewritten' WHERE seq = 1",
        # Repointing an event at another version of the procedure (or none) is rewriting it too.
        f"UPDATE {TABLE} SET revision_id = (SELECT MAX(id) FROM wagtailcore_revision)",
        f"UPDATE {TABLE} SET revision_id = NULL",
        f"DELETE FROM {TABLE} WHERE seq = 2",
        f"DELETE FROM {TABLE}",
    ],
)
def test_the_database_rejects_raw_update_and_delete_of_events(run, sql):
    before = logged(run)
    with pytest.raises(IntegrityError, match="append-only"):
        raw(sql)
    assert logged(run) == before


def test_a_run_with_events_cannot_be_deleted(run):
    with pytest.raises(ProtectedError):
        run.delete()
    with pytest.raises(ProtectedError):
        ProcedureRun.objects.filter(pk=run.pk).delete()
    assert ProcedureRun.objects.filter(pk=run.pk).exists() and len(logged(run)) >= 2


@pytest.fixture
def runs_to_purge(missing_item, agent):
    """Two old finished runs (one completed, one abandoned) and two runs to keep, each with events."""
    old_completed = finished_run(missing_item, agent, OLD)
    old_abandoned = start_run(missing_item, agent, now=OLD)
    move(old_abandoned, agent, "next", now=OLD + MINUTE)
    assert mark_abandoned_runs() == 1
    old_in_progress = start_run(missing_item, agent, now=OLD)  # started long ago, still being worked on
    move(old_in_progress, agent, "next", now=OLD + MINUTE)
    ProcedureRun.objects.filter(pk=old_in_progress.pk).update(last_activity_at=timezone.now())
    recent = finished_run(missing_item, agent, timezone.now())
    return {"purged": [old_completed, old_abandoned], "kept": [old_in_progress, recent]}


def test_purge_removes_old_finished_runs_with_their_events_and_keeps_the_rest(runs_to_purge, caplog):
    purged = [r.pk for r in runs_to_purge["purged"]]
    kept = {r.pk: logged(r) for r in runs_to_purge["kept"]}
    event_count = RunEvent.objects.filter(run_id__in=purged).count()
    triggers = sqlite_triggers() if connection.vendor == "sqlite" else None
    out = io.StringIO()
    with caplog.at_level(logging.WARNING, logger="procedures.purge_run_log"):
        call_command("purge_run_log", "--before", "2021-01-01", stdout=out)
    assert f"Deleted 2 finished run(s) started before 2021-01-01 and their {event_count} event(s)." in (
        out.getvalue()
    )
    assert f"deleted 2 finished run(s) started before 2021-01-01 and their {event_count} event(s)" in (
        caplog.text
    )
    assert set(ProcedureRun.objects.values_list("pk", flat=True)) == set(kept)
    assert not RunEvent.objects.filter(run_id__in=purged).exists()
    assert {pk: logged(ProcedureRun(pk=pk)) for pk in kept} == kept
    # The triggers hold again after the purge.
    if triggers is not None:
        assert sqlite_triggers() == triggers
    with pytest.raises(IntegrityError, match="append-only"):
        raw(f"DELETE FROM {TABLE}")
    with pytest.raises(IntegrityError, match="append-only"):
        raw(f"UPDATE {TABLE} SET seq = seq + 100")
    assert {pk: logged(ProcedureRun(pk=pk)) for pk in kept} == kept


def test_purge_dry_run_deletes_nothing(runs_to_purge):
    before = sorted(RunEvent.objects.values_list("pk", flat=True))
    out = io.StringIO()
    call_command("purge_run_log", "--before", "2021-01-01", "--dry-run", stdout=out)
    assert "would delete 2 finished run(s)" in out.getvalue()
    assert ProcedureRun.objects.count() == 4
    assert sorted(RunEvent.objects.values_list("pk", flat=True)) == before


def test_a_failed_purge_leaves_the_triggers_in_place(run):
    with transaction.atomic():
        with pytest.raises(RuntimeError), run_log_unlocked():
            raise RuntimeError("the purge failed halfway")
        with pytest.raises(IntegrityError, match="append-only"):
            raw(f"DELETE FROM {TABLE}")
    assert len(logged(run)) >= 2


def test_unlocking_keeps_refusing_updates(run):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), run_log_unlocked():
        raw(f"UPDATE {TABLE} SET seq = seq + 100")
