"""Admin viewsets for knowledge content snippets (placed in the 话术库 menu by ``kb_site.wagtail_hooks``)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet

from kb_site.reports import IdChoiceFilter, SafeExportMixin

from .models import Phrasing, SectionPage


class PhrasingFilterSet(WagtailFilterSet):
    section = IdChoiceFilter(label=_("业务栏目"), queryset=SectionPage.objects.all().order_by("path"))

    class Meta:
        model = Phrasing
        fields = ["section", "live"]


def yes_no(value):
    """是 / 否 for a flag: Wagtail's listing and exports print Python's True / False."""
    return gettext("是") if value else gettext("否")


class YesNoColumn(Column):
    """A listing column showing a boolean field as 是 / 否."""

    def get_value(self, instance):
        return yes_no(super().get_value(instance))


class PhrasingIndexView(SafeExportMixin, IndexView):
    """The phrasing listing, whose CSV/XLSX export is safe to open in a spreadsheet and says 是 / 否
    where the model stores a flag."""

    def preprocess_field_value(self, field, value, export_format):
        if isinstance(value, bool):
            value = yes_no(value)
        return super().preprocess_field_value(field, value, export_format)


class PhrasingViewSet(SnippetViewSet):
    """标准话术: drafts, revisions, locking and moderation come from the model's mixins."""

    model = Phrasing
    index_view_class = PhrasingIndexView
    icon = "openquote"
    menu_label = _("标准话术")
    menu_name = "phrasings"
    list_display = [
        "title",
        "scenario",
        "section",
        YesNoColumn("live", label=_("在用"), sort_key="live"),
        "updated_at",
    ]
    list_export = ["title", "scenario", "text", "section", "live", "updated_at"]
    export_headings = {"live": _("在用")}
    filterset_class = PhrasingFilterSet
    search_fields = None  # use the model's search_fields through the search backend
    ordering = ["title"]
