from django.contrib import messages
from django.shortcuts import redirect
from wagtail import hooks

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
        messages.error(request, "这个流程（或其下的流程）已有运行记录，不能删除；如不再使用，请取消发布。")
        return redirect("wagtailadmin_pages:edit", page.pk)
    return None
