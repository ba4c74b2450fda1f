"""Admin viewsets for knowledge content snippets (placed in the 话术库 menu by ``kb_site.wagtail_hooks``)."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet

from kb_site.reports import IdChoiceFilter, SafeExportMixin, YesNoColumn

from .impact import PhrasingImpactPanel
from .models import Phrasing, SectionPage


class PhrasingFilterSet(WagtailFilterSet):
    section = IdChoiceFilter(label=_("业务栏目"), queryset=SectionPage.objects.all().order_by("path"))

    class Meta:
        model = Phrasing
        fields = ["section", "live"]


class PhrasingIndexView(SafeExportMixin, IndexView):
    """The phrasing listing, whose CSV/XLSX export is safe to open in a spreadsheet and says 是 / 否
    where the model stores a flag (``SafeExportMixin``)."""


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
        # By id, which the search index can sort on too (Django's order_by("section") is by the page path).
        Column("section", label=Phrasing._meta.get_field("section").verbose_name, sort_key="section_id"),
        YesNoColumn("live", label=_("在用"), sort_key="live"),
        "updated_at",
    ]
    list_export = ["title", "scenario", "text", "section", "live", "updated_at"]
    export_headings = {"live": _("在用")}
    filterset_class = PhrasingFilterSet
    search_fields = None  # use the model's search_fields through the search backend
    ordering = ["title"]
    # The editor's fields, then where the phrasing is used (``impact``).
    panels = [*Phrasing.panels, PhrasingImpactPanel(heading=_("使用这句话术的页面"))]
