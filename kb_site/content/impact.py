"""Impact of a phrasing edit: every article block and procedure step that uses the phrasing.

Wagtail's ``ReferenceIndex`` knows which pages refer to the phrasing and where (a content path such as
``body.<block id>.phrasing`` or ``steps.<block id>.phrasings.<item id>.phrasing``); the page's stream is
walked to the block at that path for its heading: a procedure step's title (linked to its
``#step-<key>``), or for an article block its own title, else the heading above it. Generic over stream
fields, so content needs to know nothing of procedures. ``PhrasingImpactPanel`` shows the list on the
phrasing's edit form: a phrasing is not part of any page's revisions, so changing it changes what
those pages say at once, without a page revision or a change notice.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel
from wagtail.models import Page, ReferenceIndex

__all__ = ["PhrasingImpactPanel", "uses_of"]


def _block_heading(stream, block_id):
    """``(heading, step key)`` of the block ``block_id`` in ``stream`` (a ``StreamValue``)."""
    last_heading = ""
    for block in stream:
        value = block.value
        if block.block_type == "heading":
            last_heading = str(value)
        if block.id != block_id:
            continue
        title = ""
        key = ""
        if hasattr(value, "get"):
            title = value.get("title") or value.get("label") or ""
            key = value.get("key") or ""
        if not title and block.block_type != "heading":
            label = str(block.block.label)
            title = f"{last_heading} · {label}" if last_heading else label
        return title or last_heading, key
    return "", ""


def uses_of(obj):
    """``[{"page", "edit_url", "places": [{"heading", "url"}]}]``: the pages using ``obj`` and where."""
    references = ReferenceIndex.get_references_to(obj)
    page_paths = {}
    page_type = ReferenceIndex._get_base_content_type(Page)
    for ref in references:
        if ref.base_content_type_id == page_type.pk:
            page_paths.setdefault(int(ref.object_id), []).append(ref.content_path)
    pages = Page.objects.filter(pk__in=page_paths).specific().order_by("title")
    result = []
    for page in pages:
        places = []
        seen = set()
        for content_path in page_paths[page.pk]:
            parts = content_path.split(".")
            stream = getattr(page, parts[0], None)
            if stream is None or len(parts) < 2 or parts[1] in seen:
                continue
            seen.add(parts[1])
            heading, key = _block_heading(stream, parts[1])
            url = page.url or ""
            if key and url:
                url = f"{url}#step-{key}"
            places.append({"heading": heading or str(_("（未命名的部分）")), "url": url})
        result.append(
            {
                "page": page,
                "type": page.get_verbose_name(),
                "edit_url": reverse("wagtailadmin_pages:edit", args=[page.pk]),
                "places": places,
            }
        )
    return result


class PhrasingImpactPanel(Panel):
    """The pages and steps a phrasing is used in, on its edit form (nothing for a new phrasing)."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "content/admin/phrasing_impact_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["uses"] = uses_of(self.instance) if self.instance and self.instance.pk else None
            return context
