from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    """Follow-ups (跟进): callbacks, escalations and promised calls a run leaves behind, their queues,
    attempts and notices."""

    name = "followups"
    verbose_name = _("跟进与回访")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
