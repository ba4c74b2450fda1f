"""``{% related_articles procedure_id %}``: the 相关规范 panel of a procedure where its page is not the one
shown (the run screen), for the request's user; kept between steps (``procedures.screen_cache``)."""

from django import template
from django.utils.translation import gettext as _

from procedures import screen_cache

register = template.Library()


@register.inclusion_tag("includes/related_pages.html", takes_context=True)
def related_articles(context, procedure_id):
    request = context.get("request")
    pages = (
        screen_cache.related_articles(request, procedure_id) if procedure_id and request is not None else []
    )
    return {"pages": pages, "heading": _("相关规范")}
