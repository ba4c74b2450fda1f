"""Trainers and supervisors manage synonyms and promoted results and read the search reports."""

from django.db import migrations

from kb_site.content import roles

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

PERMISSIONS = {roles.TRAINER: MANAGE, roles.SUPERVISOR: MANAGE}


def grant(apps, schema_editor):
    roles.grant_permissions(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_synonyms_zero_results"),
        ("content", "0002_roles_and_workflow"),
        ("wagtailsearchpromotions", "0008_query_verbose_name"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
