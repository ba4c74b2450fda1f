"""Trainers and supervisors read the search clicks and the links learned from them, and may undo a link.

Self-contained, like ``0002_role_permissions``: the role names are the groups content creates.
"""

from django.db import migrations

TRAINER = "培训师"
SUPERVISOR = "主管"

MANAGE = [
    ("search", "searchclick", "view_searchclick"),
    ("search", "learnedlink", "view_learnedlink"),
    ("search", "learnedlink", "change_learnedlink"),
]

PERMISSIONS = {TRAINER: MANAGE, SUPERVISOR: MANAGE}


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for role, perms in PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, model, codename in perms:
            content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type,
                codename=codename,
                defaults={"name": codename.replace("_", " ").capitalize()},
            )
            group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0004_clicks_learned_links_weak_queries"),
        ("content", "0002_roles_and_workflow"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
