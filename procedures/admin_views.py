"""Admin views of the procedure editor: the flow map fragment (``procedures.flow_map``)."""

from django import forms
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.permission_policies.pages import PagePermissionPolicy

from . import graph
from .flow_map import map_context
from .models import ProcedurePage

BAD_FORM = _("流程图收到的表单不完整或格式不对，请刷新编辑页面后再试。")


class StreamDataInput(forms.Widget):
    """Reads a StreamField's blocks from the edit form's data as Wagtail does on save, without validating them.

    Tampered data (a count that is not a number, a missing child field, a chooser id that is not an id)
    reads as ``INVALID`` for the field to reject, instead of an exception.
    """

    INVALID = object()

    def __init__(self, block):
        super().__init__()
        self.block = block

    def value_from_datadict(self, data, files, name):
        try:
            return self.block.value_from_datadict(data, files, name)
        except (KeyError, ValueError, TypeError, OverflowError, ValidationError, ObjectDoesNotExist):
            return self.INVALID


class StreamDataField(forms.Field):
    def __init__(self, block, **kwargs):
        kwargs.setdefault("widget", StreamDataInput(block))
        super().__init__(**kwargs)

    def clean(self, value):
        if value is StreamDataInput.INVALID:
            raise ValidationError(BAD_FORM, code="invalid")
        return value


class FlowMapForm(forms.Form):
    """The parts of a procedure's edit form the map needs: its steps, variables and outcome names."""

    steps = StreamDataField(ProcedurePage._meta.get_field("steps").stream_block)
    variables = StreamDataField(ProcedurePage._meta.get_field("variables").stream_block, required=False)
    outcomes = forms.CharField(required=False)
    title = forms.CharField(required=False)
    page = forms.ModelChoiceField(queryset=ProcedurePage.objects.all(), required=False)

    def page_being_edited(self):
        """An unsaved page with the form's content; steps not keyed yet get a key, as saving gives them."""
        steps = self.cleaned_data["steps"]
        taken = {child.value.get("key") for child in steps}
        for child in steps:
            if not child.value.get("key"):
                child.value["key"] = graph.new_key(taken)
                taken.add(child.value["key"])
        edited = self.cleaned_data["page"]
        return ProcedurePage(
            id=edited.pk if edited else None,
            title=self.cleaned_data["title"] or (edited.title if edited else ""),
            steps=steps,
            variables=self.cleaned_data["variables"] or [],
            outcomes=self.cleaned_data["outcomes"],
        )


def can_edit_pages(user):
    return PagePermissionPolicy().user_has_any_permission(user, {"add", "change"})


@require_POST
def flow_map(request):
    """The map of the steps in the posted edit form, with the problems saving would report marked on them."""
    if not can_edit_pages(request.user):
        raise PermissionDenied
    form = FlowMapForm(request.POST)
    if not form.is_valid():
        messages = [message for field_errors in form.errors.values() for message in field_errors]
        return TemplateResponse(
            request, "procedures/admin/flow_map.html", {"bad_request": messages or [BAD_FORM]}, status=400
        )
    edited = form.cleaned_data["page"]
    if edited and not edited.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    steps, errors = form.page_being_edited().graph_errors()
    return TemplateResponse(request, "procedures/admin/flow_map.html", map_context(steps, errors))
