from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    """Onboarding: learning paths, quizzes, read-and-confirm, scored practice and licences."""

    name = "training"
    verbose_name = _("新员工培训")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
