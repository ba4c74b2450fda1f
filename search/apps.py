from django.apps import AppConfig


class SearchConfig(AppConfig):
    """Full-text search over all knowledge content: the Whoosh backend and the search pages."""

    name = "search"
    verbose_name = "搜索"
    default_auto_field = "django.db.models.BigAutoField"
