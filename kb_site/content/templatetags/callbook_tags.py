from django import template
from wagtail.models import Site

from kb_site.content import placeholders, profiles
from kb_site.content.review import may_review

register = template.Library()

# Set in a template context (``kb_site`` fragments) to render phrasings with the reader's values left as
# markers (``placeholders.fill_deferred``).
DEFER_VIEWER_VALUES = "callbook_defer_viewer_values"


def viewer_values(request):
    """The system values (工号, 客服姓名, 公司名称) of whoever is reading, once per request: a phrasing
    read in an article or a search result speaks them as a run does."""
    if request is None or not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    if not hasattr(request, "_callbook_viewer_values"):
        request._callbook_viewer_values = profiles.system_values(
            request.user.pk, Site.find_for_request(request)
        )
    return request._callbook_viewer_values


@register.simple_tag(takes_context=True)
def phrasing_html(context, text, values=None):
    """Render phrasing text with placeholders filled from ``values`` (a run's) or, outside a run, from the
    reader's own system values; anything else is shown as a fillable gap."""
    if values is None:
        if context.get(DEFER_VIEWER_VALUES):
            # Rendered once for every reader: the reader's values are filled in afterwards.
            values = placeholders.deferred_values(profiles.SYSTEM_PLACEHOLDERS)
        else:
            values = viewer_values(context.get("request"))
    return placeholders.render_html(text, values or {})


@register.filter
def phrasing_plain(text, values=None):
    return placeholders.fill_text(text, values or {})


@register.inclusion_tag("includes/breadcrumbs.html", takes_context=True)
def breadcrumbs(context, page):
    ancestors = page.get_ancestors().filter(depth__gt=1).specific() if page else []
    return {"ancestors": ancestors, "page": page}


@register.inclusion_tag("includes/review_link.html", takes_context=True)
def review_link(context, page):
    """复核完成 beside the 待复核 badge, for whoever may edit the page: the admin's confirm form (with a
    note), coming back to this page."""
    request = context.get("request")
    user = getattr(request, "user", None)
    show = bool(
        user is not None
        and user.is_authenticated
        and getattr(page, "is_review_overdue", False)
        and may_review(page, user)
    )
    return {"show": show, "page": page, "next": request.get_full_path() if request else ""}
