from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    """Full-text search over all knowledge content: the Whoosh backend and the search pages."""

    name = "search"
    verbose_name = _("搜索")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        self.connect_backend_signals()
        self.connect_frontend_signals()

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
