"""Each run event names the page revision it was made on, step 2 of 2: ``RunEvent.revision`` NOT NULL.

PostgreSQL sets the constraint in place (no rewrite, no UPDATE of events). SQLite rebuilds the table,
which drops its append-only triggers: they are created again from ``0005_run_log_append_only``'s
frozen SQL after the rebuild, both ways.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

append_only = importlib.import_module("procedures.migrations.0005_run_log_append_only")


def recreate_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        append_only.drop_triggers(apps, schema_editor)
        append_only.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0007_runevent_revision"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, recreate_sqlite_triggers, elidable=False),
        migrations.AlterField(
            model_name="runevent",
            name="revision",
            field=models.ForeignKey(
                help_text="写下这条记录时运行所用的流程版本（运行开始时固定的版本）",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="wagtailcore.revision",
                verbose_name="流程版本",
            ),
        ),
        migrations.RunPython(recreate_sqlite_triggers, migrations.RunPython.noop, elidable=False),
    ]
