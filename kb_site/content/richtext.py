"""Rich text as the editor would have written it, however it was written.

Wagtail's editor only produces the tags of its enabled features, but rich text also arrives from the
demo loader, imports and the ORM. ``sanitize_rich_text`` keeps what the editor can produce (in
Wagtail's stored format: ``<a linktype="page" id="3">``, ``data-block-key``) and drops the rest, so
``<script>``, ``onerror=`` or ``<svg onload=…>`` never reach an agent's browser. ``SafeRichTextBlock``
applies it when a value is loaded and when it is saved.
"""

import nh3
from wagtail import blocks
from wagtail.rich_text import RichText

TAGS = {"p", "br", "b", "strong", "i", "em", "ol", "ul", "li", "a", "h2", "h3", "h4", "hr", "embed"}
ATTRIBUTES = {
    "*": {"data-block-key"},
    "a": {"href", "linktype", "id"},
    "embed": {"embedtype", "id", "format", "alt", "url"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def sanitize_rich_text(html):
    """``html`` (Wagtail's stored rich-text format) without anything the editor could not have written."""
    if not html:
        return html or ""
    return nh3.clean(str(html), tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=None)


class SafeRichTextBlock(blocks.RichTextBlock):
    """A ``RichTextBlock`` whose HTML is sanitised on the way in and on the way out (see the module)."""

    def to_python(self, value):
        return super().to_python(sanitize_rich_text(value))

    def get_prep_value(self, value):
        return sanitize_rich_text(super().get_prep_value(value))

    def normalize(self, value):
        if isinstance(value, RichText):
            return value
        return super().normalize(sanitize_rich_text(value))
