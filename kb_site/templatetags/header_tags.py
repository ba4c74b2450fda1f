"""``{% site_header %}``: the page header (``includes/header.html``), its markup kept by the process per
everything it shows, so that a page renders it once per change instead of on every request.

The key holds all the header reads: the reader (id, name, staff flag), the links' inputs
(``kb_site.context_processors.header_state``: the permission-derived roles and the live counts, read on
every request as before), the search box's query, the language and the script prefix. A change to any of
them is a new key: nothing to invalidate, and what the reader sees is the same as rendering the include.
The CSRF token of the 退出 form is the request's: the markup is kept with a marker in its place.
"""

from django import template
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from search.caches import LRUCache

register = template.Library()

TEMPLATE = "includes/header.html"
CSRF_MARKER = "\ue000csrf\ue000"
# A few kB each: one per signed-in agent and state of their counts.
kept = LRUCache(1000)


@register.simple_tag(takes_context=True)
def site_header(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    state = context.get("header_state")
    token = str(context.get("csrf_token", ""))
    if user is None or not user.is_authenticated or state is None or token in ("", "NOTPROVIDED"):
        with context.push():
            return mark_safe(get_template(TEMPLATE).template.render(context))  # noqa: S308 (a template's output)
    search_query = context.get("search_query") or ""
    may_access_admin = bool(context.get("may_access_admin"))
    roles, counts = state
    key = (
        get_language(),
        get_script_prefix(),
        user.pk,
        user.get_username(),
        user.get_full_name(),
        user.is_staff,
        may_access_admin,
        tuple(roles),
        tuple(counts),
        str(search_query),
    )

    def render():
        return get_template(TEMPLATE).render(
            {
                "request": request,
                "search_query": search_query,
                "header_links": context.get("header_links"),
                "may_access_admin": may_access_admin,
                "csrf_token": CSRF_MARKER,
            }
        )

    html = kept.get_or_compute(key, render)
    return mark_safe(html.replace(CSRF_MARKER, token))  # noqa: S308
