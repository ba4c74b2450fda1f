"""Supervisors see and lift login lockouts (the admin's 登录锁定 report).

An agent locked out mid-shift asks the 主管 on the floor, who knows the agent and can check it is
really them; waiting for an administrator (or the 30-minute cool-off) would leave a seat idle. Lifting
a lockout only lets the username try again at that address, five more attempts at most, and gives no
access to the account itself.
"""

from django.db import migrations

from kb_site.content import roles

PERMISSIONS = {
    roles.SUPERVISOR: [
        ("axes", "accessattempt", "view_accessattempt"),
        ("axes", "accessattempt", "delete_accessattempt"),
    ],
}


def grant(apps, schema_editor):
    roles.grant_permissions(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("axes", "0010_accessattemptexpiration"),
        ("content", "0002_roles_and_workflow"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
