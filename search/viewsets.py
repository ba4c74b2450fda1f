"""Admin viewsets for search: synonym groups, under the 话术库 menu next to phrasings."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import SynonymGroup


class SynonymGroupViewSet(SnippetViewSet):
    """同义词: trainers group words agents use for the same thing; searches expand them at once."""

    model = SynonymGroup
    icon = "link"
    menu_label = _("同义词")
    menu_name = "synonyms"
    list_display = ["__str__", "note", "updated_at"]
    list_export = ["terms", "note", "updated_at"]
    search_fields = ["terms", "note"]
    ordering = ["terms"]
