"""What the run screen keeps in Django's cache between steps: the 相关规范 panel of a procedure (its pages,
and its markup per set of view restrictions the reader does not pass), the url of the summary's 回到流程
link, and the system values (工号, 客服姓名, 公司名称) an agent's phrasings are filled with.

Every step of every run shows both, and reading them costs six queries or so (the procedure's links, the
articles naming it, the pages, the view restrictions; the agent with their profile, the company
settings): a good part of a move. Each key holds a *version*, a token in ``search.caches.generations``
that a change they could show replaces: a page published, unpublished, moved, saved or deleted, a view
restriction or a site saved or deleted (the panel, the link); an agent's profile, a user's name or the company settings
saved (the values). The version is replaced at once and again when the change commits.

With the default ``LocMemCache`` each process sees only its own changes at once; other processes' copies
expire after ``SECONDS``. With the database cache (``CALLBOOK_CACHE=database``) every process sees the
new version on its next request. What the reader may see is decided on every request: the panel keeps
the view restrictions with the pages and asks each of them about the request, as
``kb_site.content.models.visible_pages`` does.
"""

import hashlib
import time

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.urls import get_script_prefix
from django.utils.translation import get_language
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from kb_site.content.models import ArticlePage
from kb_site.content.profiles import AgentProfile, CompanySettings, system_values
from search.caches import forget_now_and_after_commit, generations

SECONDS = 60  # how long a process keeps what another process may have changed
RELATED = "procedure_related"
SPEAKER = "procedure_speaker"
generations.register(RELATED)
generations.register(SPEAKER)


def _kept(name, key, load, until=None):
    """``load()`` kept ``SECONDS`` under the current version of ``name``; with ``until(value)``, only until
    that time (``time.time()``), at most ``SECONDS``."""
    key = f"callbook:procedures:{name}:{key}:{generations.current(name)}"
    value = cache.get(key)
    if value is None:
        value = load()
        timeout = SECONDS if until is None else min(SECONDS, until(value) - time.time())
        if timeout > 0:
            cache.set(key, value, timeout)
    return value


def agent_values(user_id):
    """``kb_site.content.profiles.system_values`` of one agent (of the default site), kept."""
    return _kept(SPEAKER, user_id, lambda: system_values(user_id))


def related_articles(request, procedure_id):
    """The articles of a procedure's 相关规范 panel that ``request`` may see: those it names, then those
    naming it, live, each once (``ProcedurePage.related_for`` without reading the page)."""
    pages, restrictions, _expires = _related(procedure_id)
    blocked = _blocked(request, restrictions)
    return [page for page in pages if not page.path.startswith(blocked)] if blocked else pages


def _related(procedure_id):
    """``(pages, restrictions, expires)``: one load of the panel's pages and the view restrictions over
    them, and the time it stops being kept. What is kept from it (the restrictions alone, the markup)
    expires with it, never later: another process's change shows within ``SECONDS`` everywhere."""
    return _kept(RELATED, procedure_id, lambda: (*_load_related(procedure_id), time.time() + SECONDS))


def _blocked(request, restrictions):
    return tuple(path for path, restriction in restrictions if not restriction.accept_request(request))


def related_panel(request, procedure_id, render):
    """The 相关规范 panel's markup, ``render(pages)`` of ``related_articles``, kept like them per
    everything else it shows: the view restrictions the reader does not pass, the language and the
    script prefix (the links are each page's ``url``; a site saved is a new version too)."""
    # The restrictions alone (a page's pickle is large; LocMemCache unpickles what it returns), kept until
    # the load they come from expires, and the markup no longer than they are.
    restrictions, expires = _kept(
        RELATED,
        f"{procedure_id}:restrictions",
        lambda: _related(procedure_id)[1:],
        until=lambda kept: kept[1],
    )
    passed = hashlib.sha1("|".join(_blocked(request, restrictions)).encode()).hexdigest()
    key = f"{procedure_id}:panel:{get_language()}:{get_script_prefix()}:{passed}"
    return _kept(
        RELATED, key, lambda: render(related_articles(request, procedure_id)), until=lambda _markup: expires
    )


def procedure_link(procedure_id):
    """``(shown, url)`` of a run's procedure page for the summary's 回到流程: whether the page is there,
    and its ``url`` (``None`` where no site routes to it), kept like the panel, per script prefix (the url
    holds it)."""
    return _kept(RELATED, f"{procedure_id}:url:{get_script_prefix()}", lambda: _load_link(procedure_id))


def _load_link(procedure_id):
    from .models import ProcedurePage

    page = ProcedurePage.objects.filter(pk=procedure_id).first()
    return (page is not None, page.url if page is not None else None)


def _load_related(procedure_id):
    from .models import ProcedureRelatedArticle

    ids = list(
        ProcedureRelatedArticle.objects.filter(procedure_id=procedure_id, article__isnull=False)
        .order_by("sort_order")
        .values_list("article_id", flat=True)
    )
    ids += (
        ArticlePage.objects.filter(related_pages__page_id=procedure_id)
        .order_by("path")
        .values_list("pk", flat=True)
    )
    ids = list(dict.fromkeys(ids))
    if not ids:
        return [], []
    found = {page.pk: page for page in Page.objects.filter(pk__in=ids).live().specific()}
    pages = [found[pk] for pk in ids if pk in found]
    paths = [page.path for page in pages]
    restrictions = [
        (restriction.page.path, restriction)
        for restriction in PageViewRestriction.objects.select_related("page").prefetch_related("groups")
        if any(path.startswith(restriction.page.path) for path in paths)
    ]
    return pages, restrictions


def _new_version(name):
    forget_now_and_after_commit(lambda: generations.bump(name))


def _related_changed(**kwargs):
    _new_version(RELATED)


def _row_changed(sender, update_fields=None, **kwargs):
    if sender in (PageViewRestriction, Site) or issubclass(sender, Page):
        _new_version(RELATED)
    elif sender in (AgentProfile, CompanySettings):
        _new_version(SPEAKER)
    elif sender is get_user_model() and not (update_fields and set(update_fields) <= {"last_login"}):
        _new_version(SPEAKER)  # a name may have changed; a login only writes last_login


def connect_signals():
    post_save.connect(_row_changed, dispatch_uid="callbook-procedures-screen-save")
    post_delete.connect(_row_changed, dispatch_uid="callbook-procedures-screen-delete")
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(_related_changed, dispatch_uid=f"callbook-procedures-screen-{id(signal)}")
