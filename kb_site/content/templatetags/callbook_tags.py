from django import template

from kb_site.content import placeholders

register = template.Library()


@register.simple_tag
def phrasing_html(text, values=None):
    """Render phrasing text with placeholders filled from ``values`` or shown as fillable gaps."""
    return placeholders.render_html(text, values or {})


@register.filter
def phrasing_plain(text, values=None):
    return placeholders.fill_text(text, values or {})


@register.inclusion_tag("includes/breadcrumbs.html", takes_context=True)
def breadcrumbs(context, page):
    ancestors = page.get_ancestors().filter(depth__gt=1).specific() if page else []
    return {"ancestors": ancestors, "page": page}
