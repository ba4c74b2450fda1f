"""坐席 work their own and their groups' follow-ups; 主管 see and reassign all, name group leads and set
how follow-ups are chased; 培训师 keep the working-day calendar. 新员工 have none."""

from django.db import migrations

from kb_site.content import roles

PERMISSIONS = {
    roles.AGENT: [("followups", "followup", "work_followup")],
    roles.TRAINER: [
        ("followups", "workcalendarday", "add_workcalendarday"),
        ("followups", "workcalendarday", "change_workcalendarday"),
        ("followups", "workcalendarday", "delete_workcalendarday"),
        ("followups", "workcalendarday", "view_workcalendarday"),
    ],
    roles.SUPERVISOR: [
        ("followups", "followup", "work_followup"),
        ("followups", "followup", "view_all_followups"),
        ("followups", "followup", "reassign_followup"),
        ("followups", "followup", "view_followup"),
        ("followups", "workcalendarday", "add_workcalendarday"),
        ("followups", "workcalendarday", "change_workcalendarday"),
        ("followups", "workcalendarday", "delete_workcalendarday"),
        ("followups", "workcalendarday", "view_workcalendarday"),
        ("followups", "grouplead", "add_grouplead"),
        ("followups", "grouplead", "change_grouplead"),
        ("followups", "grouplead", "delete_grouplead"),
        ("followups", "grouplead", "view_grouplead"),
        ("followups", "followupsettings", "change_followupsettings"),
    ],
}


def grant(apps, schema_editor):
    roles.grant_permissions(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("followups", "0001_initial"),
        ("content", "0002_roles_and_workflow"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
