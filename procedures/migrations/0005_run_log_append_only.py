"""The run log is append-only in the database: triggers reject every UPDATE and DELETE of run events.

- SQLite: two triggers, ``procedures_runevent_no_update`` and ``procedures_runevent_no_delete``, that
  ``RAISE(ABORT, ...)`` (Django raises ``IntegrityError``).
- PostgreSQL: the function ``procedures_runevent_append_only()`` raises (SQLSTATE 23000, Django's
  ``IntegrityError``) from a BEFORE UPDATE OR DELETE row trigger, except for a DELETE in a
  transaction that set ``callbook.purge_run_log`` to ``on`` (only ``purge_run_log`` does, through
  ``procedures.models.run_log.run_log_unlocked``). TRUNCATE is not refused (``flush`` uses it).
- Other databases: nothing (the ORM refusals of ``RunEvent`` are the only guard).

Also: a run with events cannot be deleted (``RunEvent.run`` becomes ``on_delete=PROTECT``; a Python-level
change, the table is not rebuilt). The SQL is frozen here on purpose; the names are those
``run_log_unlocked`` uses.
"""

from django.db import migrations, models

MESSAGE = "run events are append-only"
PURGE_SETTING = "callbook.purge_run_log"


def _names(apps, schema_editor):
    table = apps.get_model("procedures", "RunEvent")._meta.db_table
    return table, schema_editor.quote_name(table)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    table, quoted = _names(apps, schema_editor)
    if vendor == "sqlite":
        for event, suffix in (("UPDATE", "no_update"), ("DELETE", "no_delete")):
            trigger = schema_editor.quote_name(f"{table}_{suffix}")
            schema_editor.execute(
                f"CREATE TRIGGER {trigger} BEFORE {event} ON {quoted} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
                params=None,
            )
    elif vendor == "postgresql":
        function = schema_editor.quote_name(f"{table}_append_only")
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                IF TG_OP = 'DELETE' AND current_setting('{PURGE_SETTING}', true) = 'on' THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION '{MESSAGE}'
                    USING ERRCODE = 'integrity_constraint_violation',
                          DETAIL = TG_OP || ' on ' || TG_TABLE_NAME || ' refused';
            END;
            $body$;
            """,
            params=None,
        )
        schema_editor.execute(
            f"CREATE TRIGGER {function} BEFORE UPDATE OR DELETE ON {quoted} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}();",
            params=None,
        )


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    table, quoted = _names(apps, schema_editor)
    if vendor == "sqlite":
        for suffix in ("no_update", "no_delete"):
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {schema_editor.quote_name(f'{table}_{suffix}')};", params=None
            )
    elif vendor == "postgresql":
        function = schema_editor.quote_name(f"{table}_append_only")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {function} ON {quoted};", params=None)
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}();", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0004_step_blocks_share_a_base"),
    ]

    operations = [
        migrations.AlterField(
            model_name="runevent",
            name="run",
            field=models.ForeignKey(
                on_delete=models.PROTECT,
                related_name="events",
                to="procedures.procedurerun",
                verbose_name="运行",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
