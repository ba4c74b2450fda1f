"""Trainers write learning paths, question banks, quizzes, scenario cards and cohorts, and follow every
trainee; supervisors also delete them, change the training settings and grant licences. A mentor is
whoever an assignment names: they follow their own trainees without any of these permissions."""

from django.db import migrations

from kb_site.content import roles

AUTHORED = ["learningpath", "question", "quiz", "scenariocard", "cohort", "pathassignment"]


def _perms(actions):
    return [("training", model, f"{action}_{model}") for model in AUTHORED for action in actions]


PERMISSIONS = {
    roles.TRAINER: [
        *_perms(["add", "change", "view"]),
        ("training", "learningpath", "view_all_training"),
    ],
    roles.SUPERVISOR: [
        *_perms(["add", "change", "delete", "view"]),
        ("training", "learningpath", "view_all_training"),
        ("training", "trainingsettings", "change_trainingsettings"),
    ],
}


def grant(apps, schema_editor):
    roles.grant_permissions(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0001_initial"),
        ("content", "0002_roles_and_workflow"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
