"""``{% related_articles procedure_id %}``: the 相关规范 panel of a procedure where its page is not the one
shown (the run screen), for the request's user; the pages and the panel's markup kept between steps
(``procedures.screen_cache``)."""

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from procedures import screen_cache

register = template.Library()

TEMPLATE = "includes/related_pages.html"


def _render(pages):
    # As the inclusion tag it was rendered it: no request in its context (``{% pageurl %}`` gives ``page.url``).
    return render_to_string(TEMPLATE, {"pages": pages, "heading": _("相关规范")})


@register.simple_tag(takes_context=True)
def related_articles(context, procedure_id):
    request = context.get("request")
    if not procedure_id or request is None:
        return _render([])
    return mark_safe(screen_cache.related_panel(request, procedure_id, _render))
