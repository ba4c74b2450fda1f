"""Template context shared by every front-end page: the section navigation and the user menu's links."""

from django.db.models import Count, Q
from django.urls import reverse_lazy
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from wagtail.models import Site

from followups import panels as followup_panels
from kb_site import fragments, health, inbox
from kb_site.content.models import SectionPage
from training.models import PathAssignment

# The user menu's links: the site knows every app, so this is where they meet.
HEADER_LINKS = [{"label": _("我的流程记录"), "url": reverse_lazy("procedures:my_runs")}]


def header_links(user):
    """The menu's links for ``user``: training's only for trainees, their mentors, trainers and supervisors;
    follow-ups' (with how many of mine are due today or overdue) for those who work follow-ups; the bell
    (the site-wide inbox, with my unread notices of every app) for everyone; 我的反馈, and 内容反馈 for
    those who handle it, and 内容健康 (what to fix next) for them too."""
    links = list(HEADER_LINKS)
    due = followup_panels.header_due_count(user)
    if due is not None:
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
    # Whether I am a trainee or a mentor of anyone: one query for both.
    assigned = PathAssignment.objects.filter(Q(user=user) | Q(mentor=user)).aggregate(
        trainee=Count("pk", filter=Q(user=user)), mentor=Count("pk", filter=Q(mentor=user))
    )
    if assigned["trainee"]:
        links.append({"label": _("我的培训"), "url": reverse_lazy("training:home")})
    if user.has_perm("training.view_all_training") or assigned["mentor"]:
        links.append({"label": _("培训看板"), "url": reverse_lazy("training:dashboard")})
    unread = inbox.unread_count(user)
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
