from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    """Knowledge content: home, sections, SOP articles and standard phrasings."""

    name = "kb_site.content"
    label = "content"
    verbose_name = _("知识内容")
    default_auto_field = "django.db.models.BigAutoField"
