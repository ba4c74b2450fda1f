"""The admin side of ``procedures.interchange``: 导出 YAML on a procedure, 导入流程 (YAML) on a section.

Both are in the page's header and in the page listing's 更多 menu; export needs the right to edit the
procedure, import the right to add pages to the section (and to edit the procedure it would revise).
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin import messages
from wagtail.admin.ui.menus.pages import PageMenuItem

from kb_site.content.models import SectionPage

from . import interchange
from .models import ProcedurePage


class ProcedureImportForm(forms.Form):
    """One YAML file in the fixture format; ``clean_file`` reads it into ``cleaned_data["spec"]``."""

    file = forms.FileField(
        label=gettext_lazy("流程文件（YAML）"),
        help_text=gettext_lazy(
            "“导出 YAML”得到的文件，或按 fixtures/README.md 的格式编写，UTF-8 编码，最大 512 KB"
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > interchange.MAX_BYTES:
            raise forms.ValidationError(
                _("文件太大：最多 %(kb)s KB。") % {"kb": interchange.MAX_BYTES // 1024}
            )
        try:
            self.cleaned_data["spec"] = interchange.parse(upload.read(interchange.MAX_BYTES + 1))
        except interchange.ImportProblems as problems:
            raise forms.ValidationError(problems.problems) from None
        return upload


def _may_import(section, user):
    return section.permissions_for_user(user).can_add_subpage()


def export_view(request, page_id):
    """Download the procedure as the editor holds it (its latest revision) as ``<slug>.yaml``."""
    page = get_object_or_404(ProcedurePage, pk=page_id)
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    latest = page.get_latest_revision_as_object()
    response = HttpResponse(interchange.export_yaml(latest), content_type="application/x-yaml; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{latest.slug}.yaml")
    return response


def import_view(request, section_id):
    """GET: the upload form; POST: import the file as a draft, or show every problem and save nothing."""
    section = get_object_or_404(SectionPage, pk=section_id)
    if not _may_import(section, request.user):
        raise PermissionDenied
    form = ProcedureImportForm(*((request.POST, request.FILES) if request.method == "POST" else ()))
    problems = []
    if request.method == "POST" and form.is_valid():
        try:
            page, created = interchange.import_procedure(form.cleaned_data["spec"], section, request.user)
        except interchange.ImportProblems as error:
            problems = error.problems
        except PermissionError as error:
            problems = [str(error)]
        else:
            message = (
                _("已导入为新的草稿“%(title)s”，尚未发布：请检查后发布或提交审核。")
                if created
                else _("已为“%(title)s”保存了新的草稿版本，线上版本未改变：请检查后发布或提交审核。")
            )
            messages.success(request, message % {"title": page.title})
            return redirect("wagtailadmin_pages:edit", page.pk)
    return TemplateResponse(
        request,
        "procedures/admin/import_procedure.html",
        {"section": section, "form": form, "problems": problems},
        status=400 if problems or form.errors else 200,
    )


def admin_urls():
    """``register_admin_urls``."""
    return [
        path("procedures/<int:page_id>/export.yaml", export_view, name="procedures_export_yaml"),
        path("procedures/import/<int:section_id>/", import_view, name="procedures_import_yaml"),
    ]


class ExportYamlItem(PageMenuItem):
    label = gettext_lazy("导出 YAML")
    icon_name = "download"
    url_name = "procedures_export_yaml"
    priority = 67

    def is_shown(self, user):
        return self.page.permissions_for_user(user).can_edit()


class ImportYamlItem(PageMenuItem):
    label = gettext_lazy("导入流程 (YAML)")
    icon_name = "upload"
    url_name = "procedures_import_yaml"
    priority = 68

    def is_shown(self, user):
        return _may_import(self.page, user)


def page_buttons(page, user, view_name=None, next_url=None):
    """``register_page_header_buttons`` and ``register_page_listing_more_buttons``."""
    page_class = page.specific_class
    if page_class is not None and issubclass(page_class, ProcedurePage):
        yield ExportYamlItem(page=page)
    elif page_class is not None and issubclass(page_class, SectionPage):
        yield ImportYamlItem(page=page)
