"""The admin, assembled: the apps' viewsets in one menu (the site is the one place that knows them all)
and the 登录锁定 report (``kb_site.lockouts``)."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.snippets.views.snippets import SnippetViewSetGroup

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
