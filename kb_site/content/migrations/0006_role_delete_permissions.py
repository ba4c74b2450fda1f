"""主管 may delete images as they may delete documents (deleting both now needs the permission, see
``kb_site.content.permissions``); the page permission "delete_page", which Wagtail never reads, goes."""

from django.db import migrations

from kb_site.content import roles


def update_grants(apps, schema_editor):
    roles.grant_permissions(apps, {roles.SUPERVISOR: [("wagtailimages", "image", "delete_image")]})
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupPagePermission.objects.filter(
        group__name__in=roles.ALL_ROLES,
        permission__content_type__app_label="wagtailcore",
        permission__codename="delete_page",
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0005_document_text_extraction"),
    ]

    operations = [migrations.RunPython(update_grants, migrations.RunPython.noop)]
