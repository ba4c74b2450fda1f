from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    """Guided step-by-step procedures that agents run during a call, and the log of every run."""

    name = "procedures"
    verbose_name = _("引导流程")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import screen_cache

        screen_cache.connect_signals()
