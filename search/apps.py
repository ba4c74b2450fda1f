from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    """Full-text search over all knowledge content: the Whoosh backend and the search pages."""

    name = "search"
    verbose_name = _("搜索")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from search import caches

        self.connect_backend_signals()
        self.connect_frontend_signals()
        # The database cache's table (CALLBOOK_CACHE=database) is made wherever the schema is: migrate.
        post_migrate.connect(caches.create_cache_tables, sender=self, dispatch_uid="callbook-cache-tables")

    def connect_backend_signals(self):
        """Index updates for page moves (post_save/post_delete are handled by Wagtail itself)."""
        from search import signals

        signals.connect_signals()

    def connect_frontend_signals(self):
        """Document text extraction (queued for the task worker), and the invalidation of the spelling
        vocabulary, the suggestion index, section and learned-link caches."""
        from search import clicks, results, spelling, suggest, tasks

        tasks.connect_signals()
        spelling.connect_signals()
        suggest.connect_signals()
        results.connect_signals()
        clicks.connect_signals()
