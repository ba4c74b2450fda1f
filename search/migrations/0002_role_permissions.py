"""Trainers and supervisors manage synonyms and promoted results and read the search reports.

Self-contained (search imports no project module): the role names are the groups that
``content.0002_roles_and_workflow`` creates.
"""

from django.db import migrations

TRAINER = "培训师"
SUPERVISOR = "主管"

MANAGE = [
    ("search", "synonymgroup", "add_synonymgroup"),
    ("search", "synonymgroup", "change_synonymgroup"),
    ("search", "synonymgroup", "delete_synonymgroup"),
    ("search", "synonymgroup", "view_synonymgroup"),
    ("search", "zeroresultquery", "view_zeroresultquery"),
    ("wagtailsearchpromotions", "searchpromotion", "add_searchpromotion"),
    ("wagtailsearchpromotions", "searchpromotion", "change_searchpromotion"),
    ("wagtailsearchpromotions", "searchpromotion", "delete_searchpromotion"),
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
        ("search", "0001_synonyms_zero_results"),
        ("content", "0002_roles_and_workflow"),
        ("wagtailsearchpromotions", "0008_query_verbose_name"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
