from django.contrib import messages
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from . import demo
from .hits import step_anchor
from .models import ProcedurePage, ProcedureRun
from .reports import report_viewsets


@hooks.register("register_admin_viewset")
def register_procedure_reports():
    """The supervisors' and trainers' reports on runs (see ``procedures.reports``)."""
    return report_viewsets()


@hooks.register("before_delete_page")
def keep_procedures_that_have_runs(request, page):
    """Runs point at the exact revision the agent saw: a procedure with runs is unpublished, not deleted."""
    if request.method != "POST":
        return None
    procedures = page.get_descendants(inclusive=True).type(ProcedurePage).values_list("id", flat=True)
    if ProcedureRun.objects.filter(procedure_id__in=list(procedures)).exists():
        messages.error(
            request, gettext("这个流程（或其下的流程）已有运行记录，不能删除；如不再使用，请取消发布。")
        )
        return redirect("wagtailadmin_pages:edit", page.pk)
    return None


@hooks.register("register_search_kind")
def procedure_search_kind():
    """Procedures are searched like articles; a hit links to the step that matches best."""
    return {
        "name": "procedure",
        "label": _("流程"),
        "model": ProcedurePage,
        "order": 10,
        "anchor": step_anchor,
    }


@hooks.register("register_home_panel")
def unfinished_runs_panel(request):
    """The agent's unfinished runs, to resume, on the home page."""
    return render_to_string("procedures/includes/home_runs.html", request=request)


@hooks.register("register_demo_loader", order=20)
def load_procedures_demo(update, report, **options):
    demo.load(update=update, report=report)
