"""Supervisors see every run (timelines, JSON for tickets) and the statistics; trainers see the
statistics (where agents abandon a procedure), not individual agents' runs."""

from django.db import migrations

from kb_site.content import roles

PERMISSIONS = {
    roles.SUPERVISOR: [
        ("procedures", "procedurerun", "view_procedurerun"),
        ("procedures", "runevent", "view_runevent"),
        ("procedures", "procedurerun", "view_procedure_stats"),
    ],
    roles.TRAINER: [
        ("procedures", "procedurerun", "view_procedure_stats"),
    ],
}


def grant(apps, schema_editor):
    roles.grant_permissions(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0001_initial"),
        ("content", "0002_roles_and_workflow"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
