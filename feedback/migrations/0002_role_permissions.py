"""培训师 and 主管 handle content feedback (roles.FEEDBACK_PERMISSIONS)."""

from django.db import migrations

from kb_site.content import roles


def grant(apps, schema_editor):
    roles.grant_permissions(apps, roles.FEEDBACK_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0001_initial"),
        ("content", "0002_roles_and_workflow"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
