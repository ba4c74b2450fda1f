"""The four roles of Callbook as Django groups, and the permissions each one holds.

Used by data migrations: each app's migration grants its own permissions through
``grant_permissions`` so that a role's rights live next to the models they are about.

In short: 坐席 and 新员工 read and run procedures (no admin); 培训师 write (add and edit pages,
phrasings, documents and images) but neither publish nor delete; 主管 also publish, approve and
delete. ``tests/site/test_permission_matrix.py`` checks every role against the real admin.
"""

AGENT = "坐席"
TRAINER = "培训师"
SUPERVISOR = "主管"
NEW_HIRE = "新员工"
ALL_ROLES = [AGENT, TRAINER, SUPERVISOR, NEW_HIRE]

# Permissions on models: {role: [(app_label, model, codename), ...]}
CONTENT_MODEL_PERMISSIONS = {
    TRAINER: [
        ("wagtailadmin", "admin", "access_admin"),
        ("content", "phrasing", "add_phrasing"),
        ("content", "phrasing", "change_phrasing"),
        ("content", "phrasing", "view_phrasing"),
        ("content", "phrasing", "lock_phrasing"),
        ("content", "phrasing", "unlock_phrasing"),
        ("wagtaildocs", "document", "add_document"),
        ("wagtaildocs", "document", "change_document"),
        ("wagtaildocs", "document", "choose_document"),
        ("wagtailimages", "image", "add_image"),
        ("wagtailimages", "image", "change_image"),
        ("wagtailimages", "image", "choose_image"),
    ],
    SUPERVISOR: [
        ("wagtailadmin", "admin", "access_admin"),
        ("content", "phrasing", "add_phrasing"),
        ("content", "phrasing", "change_phrasing"),
        ("content", "phrasing", "delete_phrasing"),
        ("content", "phrasing", "view_phrasing"),
        ("content", "phrasing", "publish_phrasing"),
        ("content", "phrasing", "lock_phrasing"),
        ("content", "phrasing", "unlock_phrasing"),
        ("wagtaildocs", "document", "add_document"),
        ("wagtaildocs", "document", "change_document"),
        ("wagtaildocs", "document", "delete_document"),
        # The floor's own people and name: 工号 (``{工号}``) and 公司信息 (``{公司名称}``), see profiles.py.
        ("content", "agentprofile", "add_agentprofile"),
        ("content", "agentprofile", "change_agentprofile"),
        ("content", "agentprofile", "delete_agentprofile"),
        ("content", "agentprofile", "view_agentprofile"),
        ("content", "companysettings", "change_companysettings"),
        ("wagtaildocs", "document", "choose_document"),
        ("wagtailimages", "image", "add_image"),
        ("wagtailimages", "image", "change_image"),
        ("wagtailimages", "image", "delete_image"),
        ("wagtailimages", "image", "choose_image"),
    ],
}
# Content feedback from agents (the ``feedback`` app, granted by its migration): 培训师 and 主管 handle
# the feedback on content they own or their group owns, at /feedback/.
FEEDBACK_PERMISSIONS = {
    TRAINER: [("feedback", "feedback", "handle_feedback")],
    SUPERVISOR: [("feedback", "feedback", "handle_feedback")],
}

# Wagtail lets whoever may edit a document or image delete it too; ``permissions.py`` makes deleting
# need ``delete_document`` / ``delete_image`` as well, which only 主管 hold.

# Page permissions on the root page, hence the whole tree. Wagtail has no page "delete" permission:
# deleting or moving a live page needs "publish", so only 主管 remove what agents see; a page that is
# not live (a draft, or unpublished) can be deleted by whoever may edit it; a page with subpages needs
# "bulk_delete", which no role holds (a superuser's job).
PAGE_PERMISSIONS = {
    TRAINER: ["add_page", "change_page", "lock_page", "unlock_page"],
    SUPERVISOR: ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"],
}

COLLECTION_PERMISSIONS = {
    TRAINER: [
        ("wagtaildocs", "document"),
        ("wagtailimages", "image"),
    ],
    SUPERVISOR: [
        ("wagtaildocs", "document"),
        ("wagtailimages", "image"),
    ],
}


def get_permission(apps, app_label, model, codename):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename=codename,
        defaults={"name": codename.replace("_", " ").capitalize()},
    )
    return permission


def grant_permissions(apps, model_permissions):
    """Give each role the listed model permissions (idempotent)."""
    Group = apps.get_model("auth", "Group")
    for role, perms in model_permissions.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*(get_permission(apps, *perm) for perm in perms))
