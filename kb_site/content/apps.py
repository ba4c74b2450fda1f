from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    """Knowledge content: home, sections, SOP articles and standard phrasings."""

    name = "kb_site.content"
    label = "content"
    verbose_name = _("知识内容")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .permissions import register_policies

        # Only 主管 delete documents and images (see permissions.py); registered before any view reads
        # the policy registry, which Wagtail requires.
        register_policies()
