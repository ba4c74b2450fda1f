"""Template context shared by every front-end page: the section navigation and the user menu's links."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.urls import reverse_lazy
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from wagtail.models import Site

from feedback.models import FeedbackNotice
from followups import panels as followup_panels
from followups.choices import OPEN_STATUSES
from followups.models import FollowUp, Notice
from kb_site import fragments, health
from kb_site.content.models import SectionPage
from search.caches import forget_now_and_after_commit, generations
from training.models import PathAssignment

# The user menu's links: the site knows every app, so this is where they meet.
HEADER_LINKS = [{"label": _("我的流程记录"), "url": reverse_lazy("procedures:my_runs")}]

# Which of the menu's links a user's permissions show, kept in Django's cache per user: reading the
# permissions was most of the header's cost, on every page (a run's step page needs them for nothing
# else). A new version of HEADER_ROLES (``search.caches.generations``) when a user, group or permission
# row, a user's groups or permissions, or a group's permissions change; other processes without a shared
# cache catch up after ROLES_SECONDS. The links only show the way: each view checks the permission itself.
HEADER_ROLES = "header_roles"
ROLES_SECONDS = 60
generations.register(HEADER_ROLES)


def header_roles(user):
    """``(works follow-ups, handles feedback, sees 内容健康, sees every trainee's training, may open the
    admin)`` for ``user``."""
    key = f"callbook:header_roles:{user.pk}:{generations.current(HEADER_ROLES)}"
    roles = cache.get(key)
    if roles is None:
        roles = (
            followup_panels.may_use(user),
            user.has_perm("feedback.handle_feedback"),
            health.can_view(user),
            user.has_perm("training.view_all_training"),
            user.has_perm("wagtailadmin.access_admin"),
        )
        cache.set(key, roles, ROLES_SECONDS)
    return roles


def _roles_changed(sender, update_fields=None, **kwargs):
    if sender is get_user_model() and update_fields and set(update_fields) <= {"last_login"}:
        return  # a login
    forget_now_and_after_commit(lambda: generations.bump(HEADER_ROLES))


def connect_signals():
    User = get_user_model()
    for model in (User, Group, Permission):
        post_save.connect(
            _roles_changed, sender=model, dispatch_uid=f"callbook-header-roles-save-{model.__name__}"
        )
        post_delete.connect(
            _roles_changed, sender=model, dispatch_uid=f"callbook-header-roles-delete-{model.__name__}"
        )
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(
            _roles_changed, sender=through, dispatch_uid=f"callbook-header-roles-{through.__name__}"
        )


def header_counts(user, due):
    """``(due, trainee, mentor, unread)`` for the header in one statement written out (every page shows
    them; building the ORM's three queries cost more than running them): my open follow-ups due today or
    overdue (0 unless ``due``: I work follow-ups), my learning paths, the trainees I mentor, my unread
    notices of both kinds. The same rows ``followups.panels.my_due``, ``PathAssignment`` and
    ``inbox.unread_count`` read."""
    ops = connection.ops
    assignments = PathAssignment._meta.db_table
    statuses = [str(status) for status in OPEN_STATUSES]
    due_sql = (
        f"(SELECT COUNT(*) FROM {FollowUp._meta.db_table} WHERE assignee_id = %s AND due_at < %s"
        f" AND status IN ({', '.join(['%s'] * len(statuses))}))"
        if due
        else "0"
    )
    params = (
        [user.pk, ops.adapt_datetimefield_value(followup_panels.end_of_today()), *statuses] if due else []
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {due_sql},"
            f" (SELECT COUNT(*) FROM {assignments} WHERE user_id = %s),"
            f" (SELECT COUNT(*) FROM {assignments} WHERE mentor_id = %s),"
            f" (SELECT COUNT(*) FROM {Notice._meta.db_table} WHERE user_id = %s AND read_at IS NULL)"
            f" + (SELECT COUNT(*) FROM {FeedbackNotice._meta.db_table} WHERE user_id = %s AND read_at IS NULL)",
            [*params, user.pk, user.pk, user.pk, user.pk],
        )
        return cursor.fetchone()


def header_state(user):
    """``(roles, counts)``: ``header_roles`` and ``header_counts`` of ``user``, all the menu's links
    depend on (read once per request: the header's kept markup is looked up by them)."""
    roles = header_roles(user)
    return roles, tuple(header_counts(user, roles[0]))


def header_links(user, state=None):
    """The menu's links for ``user``: training's only for trainees, their mentors, trainers and supervisors;
    follow-ups' (with how many of mine are due today or overdue) for those who work follow-ups; the bell
    (the site-wide inbox, with my unread notices of every app) for everyone; 我的反馈, and 内容反馈 for
    those who handle it, and 内容健康 (what to fix next) for them too. ``state``: ``header_state(user)``
    when already read."""
    links = list(HEADER_LINKS)
    roles, counts = state or header_state(user)
    works_followups, handles_feedback, sees_health, sees_all_training, _admin = roles
    due, trainee, mentor, unread = counts
    if works_followups:
        links.append(
            {
                "label": _("我的跟进 (%(n)d)") % {"n": due} if due else _("我的跟进"),
                "url": reverse_lazy("followups:queue"),
                "css": "header-followups" + (" has-due" if due else ""),
            }
        )
    links.append({"label": _("我的反馈"), "url": reverse_lazy("feedback:mine")})
    if handles_feedback:
        links.append({"label": _("内容反馈"), "url": reverse_lazy("feedback:list")})
    if sees_health:
        links.append({"label": _("内容健康"), "url": reverse_lazy("health")})
    if trainee:
        links.append({"label": _("我的培训"), "url": reverse_lazy("training:home")})
    if sees_all_training or mentor:
        links.append({"label": _("培训看板"), "url": reverse_lazy("training:dashboard")})
    links.append(
        {
            "label": f"🔔 {unread}" if unread else "🔔",
            "url": reverse_lazy("inbox"),
            "css": "header-bell" + (" has-unread" if unread else ""),
            "title": _("提醒：%(n)d 条未读") % {"n": unread},
        }
    )
    return links


def section_links(site, request):
    """The menu's business lines: live sections without view restrictions (the same for every reader)."""
    sections = SectionPage.objects.live().public().descendant_of(site.root_page).order_by("path")
    return [{"title": s.title, "url": s.get_url(request), "path": s.path, "depth": s.depth} for s in sections]


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    if request.path.startswith("/admin/"):
        return {"may_access_admin": True}  # a page previewed in the admin: Wagtail's user bar checks itself

    def sections():
        site = Site.find_for_request(request)
        if site is None:
            return []
        return fragments.get_or_render("nav", [site.pk], lambda: section_links(site, request))

    state = SimpleLazyObject(lambda: header_state(request.user))
    # Lazy: pages that do not show the menu (run screens) pay no query; pages that do pay one the first
    # time (``kb_site.fragments`` keeps the menu until a page changes).
    return {
        "nav_sections": SimpleLazyObject(sections),
        # what the header's links depend on (``{% site_header %}`` keeps its markup by them), the links
        "header_state": state,
        "header_links": SimpleLazyObject(lambda: header_links(request.user, state)),
        # the 管理后台 link and Wagtail's user bar (which reads the permissions again only when shown)
        "may_access_admin": SimpleLazyObject(lambda: state[0][4]),
    }
