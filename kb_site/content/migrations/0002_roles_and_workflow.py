"""Create the four role groups with their permissions, and the 主管 approval workflow."""

from django.db import migrations

from kb_site.content import roles

WORKFLOW_NAME = "内容审核"
TASK_NAME = "主管审核"


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Page = apps.get_model("wagtailcore", "Page")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")

    for role in roles.ALL_ROLES:
        Group.objects.get_or_create(name=role)
    roles.grant_permissions(apps, roles.CONTENT_MODEL_PERMISSIONS)

    root_page = Page.objects.filter(depth=1).first()
    if root_page is not None:
        for role, codenames in roles.PAGE_PERMISSIONS.items():
            group = Group.objects.get(name=role)
            for codename in codenames:
                GroupPagePermission.objects.get_or_create(
                    group=group,
                    page=root_page,
                    permission=roles.get_permission(apps, "wagtailcore", "page", codename),
                )

    root_collection = Collection.objects.filter(depth=1).first()
    if root_collection is not None:
        for role, models in roles.COLLECTION_PERMISSIONS.items():
            group = Group.objects.get(name=role)
            for app_label, model in models:
                for action in ("add", "change", "choose"):
                    GroupCollectionPermission.objects.get_or_create(
                        group=group,
                        collection=root_collection,
                        permission=roles.get_permission(apps, app_label, model, f"{action}_{model}"),
                    )

    create_workflow(apps, root_page)


def create_workflow(apps, root_page):
    """Trainers' changes to pages and phrasings need a 主管's approval before going live."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    WorkflowContentType = apps.get_model("wagtailcore", "WorkflowContentType")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")

    task_ct, _ = ContentType.objects.get_or_create(app_label="wagtailcore", model="groupapprovaltask")
    task, _ = GroupApprovalTask.objects.get_or_create(
        name=TASK_NAME, defaults={"content_type": task_ct, "active": True}
    )
    task.groups.set([Group.objects.get(name=roles.SUPERVISOR)])

    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME, defaults={"active": True})
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})

    if root_page is not None:
        WorkflowPage.objects.update_or_create(page=root_page, defaults={"workflow": workflow})

    phrasing_ct, _ = ContentType.objects.get_or_create(app_label="content", model="phrasing")
    WorkflowContentType.objects.update_or_create(
        content_type=phrasing_ct, defaults={"workflow": workflow}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0001_initial"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailimages", "0027_image_description"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
