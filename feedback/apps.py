from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    """Feedback (内容反馈): agents say an article block, a phrasing or a procedure step is wrong or unclear;
    the content's owner fixes it, rejects it or asks for more, and the reporter is told."""

    name = "feedback"
    verbose_name = _("内容反馈")
    default_auto_field = "django.db.models.BigAutoField"
