"""The admin, assembled: the apps' viewsets in one menu (the site is the one place that knows them all),
the 登录锁定 report (``kb_site.lockouts``), one-click approval with a message (``kb_site.approvals``), and the
内容健康 page (``kb_site.health``) in the Reports menu, whose links open the editor at a step."""

from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.snippets.views.snippets import SnippetViewSetGroup

from kb_site import approvals, health, health_demo
from kb_site.content.viewsets import PhrasingViewSet
from kb_site.lockouts import LoginLockoutViewSet
from search.viewsets import SynonymGroupViewSet


class KnowledgeViewSetGroup(SnippetViewSetGroup):
    """The 话术库 admin menu: standard phrasings, and the synonyms search expands them with."""

    menu_label = _("话术库")
    menu_icon = "openquote"
    menu_name = "knowledge"
    menu_order = 200
    items = [PhrasingViewSet, SynonymGroupViewSet]


@hooks.register("register_admin_viewset")
def register_knowledge_viewsets():
    return KnowledgeViewSetGroup()


@hooks.register("register_admin_viewset")
def register_login_lockouts():
    return LoginLockoutViewSet("login_lockouts", url_prefix="reports/login-lockouts", menu_order=900)


class HealthMenuItem(MenuItem):
    """内容健康 (a front-end page) in the Reports menu, for those who may see it."""

    def is_shown(self, request):
        return health.can_view(request.user)


@hooks.register("register_reports_menu_item")
def register_health_menu_item():
    return HealthMenuItem(_("内容健康"), reverse("health"), icon_name="tasks", order=50)


@hooks.register("register_demo_loader", order=95)
def load_health_demo(update, report, **options):
    """The demo's zero-result searches and page views, for 内容健康 to rank (``kb_site.health_demo``)."""
    health_demo.load(update=update, report=report)


@hooks.register("insert_editor_js")
def editor_step_link():
    """``/admin/pages/<id>/edit/#step-<key>`` opens that step's block (``static/js/editor-step-link.js``)."""
    return format_html('<script src="{}" defer></script>', static("js/editor-step-link.js"))


# A reviewer approves from the editor in one click, and is told what an approval did, in the editor and
# from the dashboard (kb_site.approvals).
for hook_name, function in [
    ("construct_page_action_menu", approvals.promote_approve),
    ("construct_snippet_action_menu", approvals.promote_approve),
    ("before_edit_page", approvals.remember_task_under_review),
    ("before_edit_snippet", approvals.remember_task_under_review),
    ("after_edit_page", approvals.confirm_approval),
    ("after_edit_snippet", approvals.confirm_approval),
    ("construct_homepage_panels", approvals.replace_review_panel),
    ("register_admin_urls", approvals.admin_urls),
]:
    hooks.register(hook_name, function)
