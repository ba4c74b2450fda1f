"""``{% related_articles procedure %}``: the 相关规范 panel of a procedure where its page is not the one shown
(the run screen), for the request's user."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.inclusion_tag("includes/related_pages.html", takes_context=True)
def related_articles(context, procedure):
    request = context.get("request")
    pages = procedure.related_for(request) if procedure is not None and request is not None else []
    return {"pages": pages, "heading": _("相关规范")}
