"""Admin viewsets for search: synonym groups, under the 话术库 menu next to phrasings."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet

from kb_site.reports import SafeExportMixin

from .models import SynonymGroup


class SynonymGroupIndexView(SafeExportMixin, IndexView):
    """The synonym listing, exported as every spreadsheet is (BOM, local time, no formulas)."""


class SynonymGroupViewSet(SnippetViewSet):
    """同义词: trainers group words agents use for the same thing; searches expand them at once."""

    model = SynonymGroup
    index_view_class = SynonymGroupIndexView
    icon = "link"
    menu_label = _("同义词")
    menu_name = "synonyms"
    list_display = ["__str__", "note", "updated_at"]
    list_export = ["terms", "note", "updated_at"]
    search_fields = ["terms", "note"]
    ordering = ["terms"]
