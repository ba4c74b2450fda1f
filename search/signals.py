"""Search-index updates Wagtail's own signal handling does not cover.

modelsearch already re-indexes on ``post_save`` and removes on ``post_delete`` (publish, unpublish, delete,
snippet save/delete, document upload). A page move is different: treebeard rewrites the ``path`` of every
descendant with a single SQL UPDATE, without ``post_save``, so their indexed ``path`` (used by
``descendant_of()`` filters) would go stale. ``post_page_move`` re-indexes the whole moved subtree.
"""

import logging

from modelsearch.backends import get_search_backends_with_name
from wagtail.models import Page
from wagtail.signals import post_page_move

logger = logging.getLogger(__name__)


def reindex_subtree(page):
    """Re-index ``page`` and all its descendants in every auto-updated search backend."""
    pages = Page.objects.descendant_of(page, inclusive=True).specific()
    by_model = {}
    for specific in pages:
        by_model.setdefault(type(specific), []).append(specific)
    for backend_name, backend in get_search_backends_with_name(with_auto_update=True):
        for model, objects in by_model.items():
            try:
                backend.add_bulk(model, objects)
            except Exception:
                logger.exception("Could not re-index moved pages in the '%s' search backend", backend_name)
                if not backend.catch_indexing_errors:
                    raise


def _on_post_page_move(sender, instance, **kwargs):
    reindex_subtree(instance)


def connect_signals():
    post_page_move.connect(_on_post_page_move, dispatch_uid="search.reindex_moved_subtree")
