"""Template context shared by every front-end page: the section navigation and the user menu's links."""

from django.db import connection
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
from training.models import PathAssignment

# The user menu's links: the site knows every app, so this is where they meet.
HEADER_LINKS = [{"label": _("我的流程记录"), "url": reverse_lazy("procedures:my_runs")}]


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


def header_links(user):
    """The menu's links for ``user``: training's only for trainees, their mentors, trainers and supervisors;
    follow-ups' (with how many of mine are due today or overdue) for those who work follow-ups; the bell
    (the site-wide inbox, with my unread notices of every app) for everyone; 我的反馈, and 内容反馈 for
    those who handle it, and 内容健康 (what to fix next) for them too."""
    links = list(HEADER_LINKS)
    works_followups = followup_panels.may_use(user)
    due, trainee, mentor, unread = header_counts(user, works_followups)
    if works_followups:
        links.append(
            {
                "label": _("我的跟进 (%(n)d)") % {"n": due} if due else _("我的跟进"),
                "url": reverse_lazy("followups:queue"),
                "css": "header-followups" + (" has-due" if due else ""),
            }
        )
    links.append({"label": _("我的反馈"), "url": reverse_lazy("feedback:mine")})
    if user.has_perm("feedback.handle_feedback"):
        links.append({"label": _("内容反馈"), "url": reverse_lazy("feedback:list")})
    if health.can_view(user):
        links.append({"label": _("内容健康"), "url": reverse_lazy("health")})
    if trainee:
        links.append({"label": _("我的培训"), "url": reverse_lazy("training:home")})
    if user.has_perm("training.view_all_training") or mentor:
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
    if request.path.startswith("/admin/") or not getattr(request, "user", None):
        return {}
    if not request.user.is_authenticated:
        return {}

    def sections():
        site = Site.find_for_request(request)
        if site is None:
            return []
        return fragments.get_or_render("nav", [site.pk], lambda: section_links(site, request))

    # Lazy: pages that do not show the menu (run screens) pay no query; pages that do pay one the first
    # time (``kb_site.fragments`` keeps the menu until a page changes).
    return {
        "nav_sections": SimpleLazyObject(sections),
        "header_links": SimpleLazyObject(lambda: header_links(request.user)),
    }
