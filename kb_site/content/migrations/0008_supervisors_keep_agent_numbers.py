"""主管 keep the agents' 工号 and the company name that runs speak (fresh databases get the same grants
from ``roles.py`` through 0002)."""

from django.db import migrations

from kb_site.content import roles

GRANTS = {
    roles.SUPERVISOR: [
        ("content", "agentprofile", "add_agentprofile"),
        ("content", "agentprofile", "change_agentprofile"),
        ("content", "agentprofile", "delete_agentprofile"),
        ("content", "agentprofile", "view_agentprofile"),
        ("content", "companysettings", "change_companysettings"),
    ]
}


def grant(apps, schema_editor):
    roles.grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0007_agent_profile_company_settings"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
