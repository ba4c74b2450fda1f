from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.models import Page

from . import admin_views, demo, interchange_views
from .hits import step_anchor, step_anchor_texts
from .models import ProcedurePage, ProcedureRun
from .reports import report_viewsets


@hooks.register("register_admin_viewset")
def register_procedure_reports():
    """The supervisors' and trainers' reports on runs (see ``procedures.reports``)."""
    return report_viewsets()


@hooks.register("register_admin_urls")
def register_flow_map_url():
    """The flow map the procedure editor shows beside the steps (``procedures.flow_map``)."""
    return [path("procedures/flow-map/", admin_views.flow_map, name="procedures_flow_map")]


@hooks.register("before_delete_page")
def keep_procedures_that_have_runs(request, page):
    """Runs point at the exact revision the agent saw: a procedure with runs is unpublished, not deleted."""
    if request.method != "POST":
        return None
    if procedures_with_runs([page]):
        messages.error(
            request, gettext("这个流程（或其下的流程）已有运行记录，不能删除；如不再使用，请取消发布。")
        )
        return redirect("wagtailadmin_pages:edit", page.pk)
    return None


def procedures_with_runs(pages):
    """Whether any of ``pages`` or a page below them is a procedure with runs (one query, however many
    pages a bulk delete selects: a subtree is the pages whose path starts with its root's)."""
    subtrees = Q()
    for page in pages:
        subtrees |= Q(procedure__path__startswith=page.path)
    return bool(subtrees) and ProcedureRun.objects.filter(subtrees).exists()


@hooks.register("before_delete_user")
def keep_users_who_have_runs(request, user):
    """An agent's runs are the log of their calls: a user with runs is deactivated, not deleted."""
    if request.method != "POST" or not ProcedureRun.objects.filter(user=user).exists():
        return None
    messages.error(
        request, gettext("这个用户已有流程记录，不能删除；如已离职，请在编辑页取消“激活”以停用账号。")
    )
    return redirect("wagtailusers_users:edit", user.pk)


@hooks.register("before_bulk_action")
def keep_what_runs_point_at_in_bulk(request, action_type, objects, action_class_instance):
    """The bulk delete of pages and users keeps the same rule as deleting one (it skipped the hooks)."""
    if action_type != "delete" or request.method != "POST":
        return None
    model = action_class_instance.model
    if issubclass(model, Page) and procedures_with_runs(objects):
        messages.error(
            request, gettext("所选页面中有已有运行记录的流程（或其下有），不能删除；如不再使用，请取消发布。")
        )
    elif issubclass(model, get_user_model()) and ProcedureRun.objects.filter(user__in=objects).exists():
        messages.error(request, gettext("所选用户中有人已有流程记录，不能删除；如已离职，请停用账号。"))
    else:
        return None
    return redirect(get_valid_next_url_from_request(request) or "wagtailadmin_home")


@hooks.register("register_search_kind")
def procedure_search_kind():
    """Procedures are searched like articles; a hit links to the step that matches best."""
    return {
        "name": "procedure",
        "label": _("流程"),
        "model": ProcedurePage,
        "order": 10,
        "anchor": step_anchor,
        "anchor_texts": step_anchor_texts,
    }


@hooks.register("register_home_panel")
def unfinished_runs_panel(request):
    """The agent's unfinished runs, to resume, on the home page."""
    return render_to_string("procedures/includes/home_runs.html", request=request)


hooks.register("register_admin_urls", interchange_views.admin_urls)
hooks.register("register_page_header_buttons", interchange_views.page_buttons)
hooks.register("register_page_listing_more_buttons", interchange_views.page_buttons)


@hooks.register("register_article_related_pages")
def procedures_naming_article(article):
    """Under an article, 相关内容 also lists the procedures whose 相关规范 name it."""
    return (
        ProcedurePage.objects.filter(related_articles__article=article)
        .order_by("path")
        .values_list("pk", flat=True)
    )


@hooks.register("register_related_page_type")
def procedures_may_be_related():
    """An article's 相关页面 may name procedures."""
    return ProcedurePage


@hooks.register("register_demo_loader", order=20)
def load_procedures_demo(update, report, **options):
    demo.load(update=update, report=report)
