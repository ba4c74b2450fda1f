from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChangesConfig(AppConfig):
    """Change notices: one-click review, major changes agents acknowledge, page views, phrasing impact."""

    name = "changes"
    verbose_name = _("变更通知")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
