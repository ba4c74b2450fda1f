"""Each run event names the page revision it was made on (``RunEvent.revision``), step 1 of 2.

The column is added nullable and the events already logged are backfilled from their run's revision:
a run is pinned to the revision live when it started and every move is computed from that revision's
snapshot, so it is the revision each of the run's events was made on.

The backfill UPDATEs events, which the append-only triggers of ``0005_run_log_append_only`` refuse
(on PostgreSQL even inside ``run_log_unlocked``, which lifts DELETE only). They are dropped around
that one statement and created again from 0005's own frozen SQL, inside this migration's transaction:
DDL is transactional on SQLite and PostgreSQL, so no other connection ever sees the log unguarded
(PostgreSQL's DROP TRIGGER holds a lock on the table until commit; SQLite has one writer at a time).

``0008_runevent_revision_required`` then makes the column NOT NULL. It is a migration of its own
because PostgreSQL may refuse to ALTER a table in the transaction that has just updated it
("pending trigger events").
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

append_only = importlib.import_module("procedures.migrations.0005_run_log_append_only")


def backfill_event_revisions(apps, schema_editor):
    RunEvent = apps.get_model("procedures", "RunEvent")
    ProcedureRun = apps.get_model("procedures", "ProcedureRun")
    events = RunEvent.objects.using(schema_editor.connection.alias).filter(revision__isnull=True)
    if not events.exists():
        return
    run_revision = ProcedureRun.objects.filter(pk=OuterRef("run_id")).values("revision_id")[:1]
    append_only.drop_triggers(apps, schema_editor)
    events.update(revision_id=Subquery(run_revision))
    if schema_editor.connection.vendor == "postgresql":
        # Check the deferred foreign keys now, so no trigger event is pending when the table is altered.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)
    append_only.create_triggers(apps, schema_editor)


def recreate_sqlite_triggers(apps, schema_editor):
    """SQLite drops a table's triggers when Django rebuilds it (here: removing the column again)."""
    if schema_editor.connection.vendor == "sqlite":
        append_only.drop_triggers(apps, schema_editor)
        append_only.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0006_sanitised_rich_text"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, recreate_sqlite_triggers, elidable=False),
        migrations.AddField(
            model_name="runevent",
            name="revision",
            field=models.ForeignKey(
                null=True,
                help_text="写下这条记录时运行所用的流程版本（运行开始时固定的版本）",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="wagtailcore.revision",
                verbose_name="流程版本",
            ),
        ),
        migrations.RunPython(backfill_event_revisions, migrations.RunPython.noop, elidable=False),
    ]
