from django.apps import AppConfig


class ContentConfig(AppConfig):
    """Knowledge content: home, sections, SOP articles and standard phrasings."""

    name = "kb_site.content"
    label = "content"
    verbose_name = "知识内容"
    default_auto_field = "django.db.models.BigAutoField"
