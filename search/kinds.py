"""What each app contributes to search, registered through Wagtail hooks. Search imports no project model.

An app describes each kind of content it wants searched from its ``wagtail_hooks.py``; a hook returns
a plain dict of ``SearchKind`` fields, so the app needs nothing from this package::

    @hooks.register("register_search_kind")
    def article_search_kind():
        return {"name": "article", "label": _("文章"), "model": ArticlePage, "order": 20}

Three shapes are understood, told apart by the model's Wagtail base class:

- a **page** model: live pages of that class the request may see (page view restrictions apply). The
  hit links to the page, plus ``anchor(page, terms)`` when given (e.g. a procedure step's
  ``#step-<key>``). A kind that gives ``anchor_texts(page)`` too (``(anchor, folded text)`` pairs)
  has them remembered per publication with the snippet text, and the anchor picked from them
  (``search.results.best_anchor``) rather than ``anchor`` called for every hit shown. Its snippet is
  the text of its search fields.
- a **document** model: collection view restrictions apply; the hit links to the file and its snippet
  is ``text(document)`` (e.g. the extracted text).
- anything else (a snippet): ``queryset()`` (default: every row) gives the searchable rows; the hit's
  section is the row's ``section_field`` (a foreign key to a section page), its title
  ``title_field`` (default ``title``), its link ``url(obj, section)`` (empty: the results page
  filtered to it) and its snippet ``text(obj)``.

Two more hooks:

- ``register_search_sections`` returns the page model whose pages group hits and facets (the business
  lines). A page hit belongs to the section it lives under.
- ``register_search_text_dependency`` returns a model whose rows appear inside pages' text (phrasings
  referenced by articles and procedure steps): remembered page snippets are forgotten when one changes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.documents.models import AbstractDocument
from wagtail.models import Page, get_page_models

KIND_HOOK = "register_search_kind"
SECTIONS_HOOK = "register_search_sections"
TEXT_DEPENDENCY_HOOK = "register_search_text_dependency"

PROMOTED_LINK = "link"
PROMOTED_LINK_LABEL = _("推荐链接")


@dataclass(frozen=True)
class SearchKind:
    """One kind of searchable content, as an app registered it (see the module docstring)."""

    name: str
    label: Any
    model: type
    order: int = 100
    queryset: Callable | None = None
    title_field: str = "title"
    section_field: str | None = None
    url: Callable | None = None
    text: Callable | None = None
    anchor: Callable | None = None
    anchor_texts: Callable | None = None

    @property
    def is_page(self):
        return issubclass(self.model, Page)

    @property
    def is_document(self):
        return issubclass(self.model, AbstractDocument)

    @property
    def row_fields(self):
        """The columns a snippet hit is ranked, grouped and suggested from."""
        return ("id", self.title_field) + ((self.section_field,) if self.section_field else ())

    def title_of(self, obj):
        return getattr(obj, self.title_field)

    def get_queryset(self):
        if self.queryset is not None:
            return self.queryset()
        if self.is_page:
            return self.model.objects.live()
        return self.model._default_manager.all()


@cache
def _kinds():
    found = [SearchKind(**spec) for fn in hooks.get_hooks(KIND_HOOK) if (spec := fn()) is not None]
    return tuple(sorted(found, key=lambda kind: (kind.order, kind.name)))


def all_kinds():
    """Every registered kind, in facet order."""
    return _kinds()


def get_kind(name):
    return next((kind for kind in _kinds() if kind.name == name), None)


def kind_names():
    return tuple(kind.name for kind in _kinds())


def kind_label(name):
    if name == PROMOTED_LINK:
        return PROMOTED_LINK_LABEL
    kind = get_kind(name)
    return kind.label if kind is not None else ""


def page_kinds():
    return tuple(kind for kind in _kinds() if kind.is_page)


def page_kind_for_model(model):
    """The registered page kind of ``model`` (a specific page class), or ``None``."""
    for kind in page_kinds():
        if issubclass(model, kind.model):
            return kind
    return None


def page_kinds_by_content_type():
    """{content type id: kind} for every page model a registered page kind covers, subclasses included."""
    found = {}
    for model in get_page_models():
        kind = page_kind_for_model(model)
        if kind is not None:
            found[ContentType.objects.get_for_model(model, for_concrete_model=False).id] = kind
    return found


@cache
def section_model():
    """The page model that groups hits into sections, or ``None`` when no app registered one."""
    models = [model for fn in hooks.get_hooks(SECTIONS_HOOK) if (model := fn()) is not None]
    return models[0] if models else None


@cache
def text_dependencies():
    return tuple(model for fn in hooks.get_hooks(TEXT_DEPENDENCY_HOOK) if (model := fn()) is not None)
