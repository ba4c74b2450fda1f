from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    """Guided step-by-step procedures that agents run during a call, and the log of every run."""

    name = "procedures"
    verbose_name = "引导流程"
    default_auto_field = "django.db.models.BigAutoField"
