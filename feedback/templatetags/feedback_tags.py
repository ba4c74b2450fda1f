"""``{% feedback_link page_id block=… phrasing=… step=… run=… phrasing_index=… label=… %}``: the discreet
反馈 action (``phrasing_index``: the n-th phrasing of a run's step, read from the run's revision).

A plain link to the feedback form (works without script); with htmx the form opens in place, in the
slot right after the link, and is sent from there.
"""

from django import template
from django.template.loader import get_template
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def feedback_link(context, page_id, block="", phrasing="", step="", run="", phrasing_index="", label=""):
    request = context.get("request")
    if request is None or not getattr(request, "user", None) or not request.user.is_authenticated:
        return ""
    if getattr(request, "is_preview", False) or not page_id:
        return ""
    query = {
        "page": page_id,
        "block": block,
        "phrasing": phrasing or "",
        "step": step,
        "run": run or "",
        "phrasing_index": "" if phrasing_index in ("", None) else phrasing_index,
    }
    url = reverse("feedback:new") + "?" + urlencode({k: v for k, v in query.items() if v != ""})
    # A plain context: the link needs no context processor, and a request context would run them all once per
    # link (a run's step shows several).
    return get_template("feedback/includes/link.html").render({"url": url, "label": label or _("反馈")})
