"""The flow map beside the procedure editor: the steps being edited as boxes in rows, their arrows and problems.

``FlowMapPanel`` sits in ``ProcedurePage.content_panels``; its script (``flow-editor.js``) posts the edit form
to ``procedures.admin_views.flow_map`` whenever the graph changes, and shows the fragment it returns. The
layout is the front end's overview (``procedures.overview``); the problems are those saving would report.
"""

from collections import defaultdict, deque

from django import forms
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.panels import Panel

from .blocks import FLOW_EDITOR_MEDIA
from .overview import overview_rows


def map_rows(steps, errors):
    """The overview's rows, each card with the step's ``index`` in the form, its ``errors`` (messages) and
    arrows as dicts ``{"label", "key", "title", "missing"}`` (a missing target is marked, not hidden)."""
    messages = defaultdict(list)
    for error in errors:
        if error.index is not None:
            messages[error.index].append(error.message)
    keys = {step.get("key") for step in steps}
    indexes = defaultdict(deque)  # cards come in step order within a row, and equal keys share a row
    for index, step in enumerate(steps):
        indexes[step.get("key")].append(index)
    rows = overview_rows(steps)
    for row in rows:
        for card in row:
            card["index"] = indexes[card["key"]].popleft()
            card["errors"] = messages.get(card["index"], [])
            card["arrows"] = [_arrow(label, key, title, keys) for label, key, title in card["arrows"]]
    return rows


def _arrow(label, key, title, keys):
    missing = not key or key not in keys
    if not key:
        title = _("未选择")
    elif key not in keys:
        title = _("不存在的步骤“%(key)s”") % {"key": key}
    return {"label": label, "key": key or "", "title": title, "missing": missing}


def map_context(steps, errors):
    general = [error.message for error in errors if error.index is None]
    return {
        "rows": map_rows(steps, errors),
        "general_errors": general,
        "error_count": len(errors),
        "step_count": len(steps),
    }


class FlowMapPanel(Panel):
    """A map of the procedure's flow that follows the steps field as it is edited (no save, no reload)."""

    def __init__(self, stream="steps", **kwargs):
        kwargs.setdefault("heading", gettext_lazy("流程图"))
        super().__init__(**kwargs)
        self.stream = stream

    def clone_kwargs(self):
        kwargs = super().clone_kwargs()
        kwargs["stream"] = self.stream
        return kwargs

    class BoundPanel(Panel.BoundPanel):
        template_name = "procedures/admin/flow_map_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["stream"] = self.panel.stream
            context["map_url"] = reverse("procedures_flow_map")
            return context

        @property
        def media(self):
            return forms.Media(js=FLOW_EDITOR_MEDIA["js"], css=FLOW_EDITOR_MEDIA["css"])
