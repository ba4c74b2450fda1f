"""Parts of pages rendered once and kept by each process: the section menu, the home page's sections and
recent updates, an article's breadcrumbs and body (``{% fragment %}`` in ``fragment_tags``).

A kept part is the same for every reader. Nothing in one depends on the reader's permissions: the menu
and the home page list only pages without view restrictions (``public()``), and an article's parts are
rendered inside a page Wagtail has already let the reader see, except 相关内容, which is kept per set
of view restrictions the reader does not pass (``blocked_paths``); what varies with the reader (复核完成,
the panels of other apps, the header's links) is rendered on every request. A phrasing's
system values (工号, 客服姓名, 公司名称) are left as markers and filled per reader
(``placeholders.fill_deferred``), with the two queries they cost only when the part has any.

Kept parts are forgotten, here at once and in every process after the commit (``search.caches``: the
``page_fragments`` generation), when a page is saved, published, unpublished, moved, deleted or logged
(复核完成 updates the review dates and logs), or a view restriction, phrasing, site or user's name
changes. With the
default ``LocMemCache`` another process only learns of it by the key's time slot, at most ``SECONDS``
later; with the database cache (``CALLBOOK_CACHE``) on its next request. An article's own text never
waits: its key holds the live revision. Keys hold the local date too (review badges turn 待复核 on a
day).
"""

import time

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.http.request import split_domain_port
from django.utils import timezone
from wagtail.models import Page, PageLogEntry, PageViewRestriction, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from kb_site.content import placeholders, profiles
from kb_site.content.models import Phrasing
from kb_site.content.templatetags.callbook_tags import DEFER_VIEWER_VALUES, viewer_values
from search.caches import LRUCache

GENERATION = "page_fragments"
SECONDS = 60  # how long a process keeps a part another process may have made stale (LocMemCache)
# Rows whose change a kept part may show, besides pages'; a page's log entry too: some actions change
# the page row without saving it (复核完成 updates the review dates and logs ``callbook.reviewed``).
WATCHED = (PageLogEntry, PageViewRestriction, Phrasing, Site)

# An article's parts are ~20 kB: a few hundred parts are a few MB per process.
kept = LRUCache(400, name=GENERATION)
# The results page's hits (~1 kB each, "search-hit"), kept apart: a day's many queries must not push the
# articles' parts out.
kept_hits = LRUCache(3000, name=GENERATION + "_hits")
STORES = {"search-hit": kept_hits}


def get_or_render(name, parts, render):
    """The kept part ``name`` for ``parts`` (strings, ids, dates), made by ``render()`` when missing."""
    key = (name, int(time.time() // SECONDS), timezone.localdate(), *parts)
    return STORES.get(name, kept).get_or_compute(key, render)


def render_for_reader(request, name, parts, render):
    """``get_or_render`` of a part whose phrasings speak as the reader: rendered with markers
    (``render`` is called with the context flag to set), filled with ``request``'s reader's values."""
    html = get_or_render(name, parts, lambda: render({DEFER_VIEWER_VALUES: True}))
    if "\ue000" not in html:
        return html
    return placeholders.fill_deferred(html, viewer_values(request), profiles.SYSTEM_PLACEHOLDERS)


def blocked_paths(request):
    """Paths of the pages (and their subtrees) whose view restriction ``request`` does not pass: the
    restrictions are kept like a part, checked against the reader once per request. A part that lists
    pages some readers may not see is kept per this tuple."""
    if not hasattr(request, "_callbook_blocked_paths"):
        restrictions = get_or_render(
            "restrictions",
            (),
            lambda: list(PageViewRestriction.objects.select_related("page").prefetch_related("groups")),
        )
        request._callbook_blocked_paths = tuple(
            r.page.path for r in restrictions if not r.accept_request(request)
        )
    return request._callbook_blocked_paths


def site_for_request(request):
    """Wagtail's ``Site.find_for_request``, with the site's row kept per host and port: Wagtail looks it
    up with a query on every request (a fresh ``Site`` is made from the kept row each time)."""
    hostname = split_domain_port(request._get_raw_host())[0]
    port = request.get_port()

    def find():
        site = Site._find_for_request(request)
        return (
            None
            if site is None
            else {f.attname: getattr(site, f.attname) for f in Site._meta.concrete_fields}
        )

    fields = get_or_render("site", (hostname, port), find)
    return Site(**fields) if fields is not None else None


class KeptSiteMiddleware:
    """Sets the request's Wagtail site from ``site_for_request`` (``Site.find_for_request`` reads it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request._wagtail_site = site_for_request(request)
        return self.get_response(request)


def invalidate(**kwargs):
    """Every kept part is stale: forgotten now, and after the commit in every process."""
    kept.invalidate()
    kept_hits.invalidate()


def _on_row_change(sender, update_fields=None, **kwargs):
    if sender is get_user_model():
        # An article shows its maintainer's name; a login only writes last_login.
        if not (update_fields and set(update_fields) <= {"last_login"}):
            invalidate()
    elif issubclass(sender, Page) or sender in WATCHED:
        invalidate()


def connect_signals():
    post_save.connect(_on_row_change, dispatch_uid="callbook-fragments-save")
    post_delete.connect(_on_row_change, dispatch_uid="callbook-fragments-delete")
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(
            invalidate, dispatch_uid=f"callbook-fragments-{signal.__class__.__name__}-{id(signal)}"
        )
