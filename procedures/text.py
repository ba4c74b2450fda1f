"""Placeholders inside a step's rich text, filled the same way as phrasings."""

from django.utils.html import format_html
from django.utils.safestring import mark_safe
from wagtail.rich_text import expand_db_html

from kb_site.content.placeholders import PLACEHOLDER_RE
from kb_site.content.richtext import sanitize_rich_text


def fill_rich_text(source, values):
    """Rich-text HTML with ``{变量}`` replaced: known values highlighted (escaped), missing ones marked."""
    if not source:
        return ""
    # Runs keep the definition they started with: text saved before sanitising existed is cleaned here.
    html = expand_db_html(sanitize_rich_text(source))

    def replace(match):
        name = match.group(1)
        value = (values or {}).get(name)
        if value not in (None, ""):
            return str(format_html('<span class="ph ph-filled" data-ph="{}">{}</span>', name, value))
        return str(format_html('<span class="ph ph-missing" data-ph="{}">【{}】</span>', name, name))

    return mark_safe(PLACEHOLDER_RE.sub(replace, html))
