from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SiteConfig(AppConfig):
    """The site itself: where the apps' admin pieces are assembled into one menu and the demo is loaded."""

    name = "kb_site"
    label = "kb_site"
    verbose_name = _("Callbook 站点")

    def ready(self):
        from kb_site import context_processors, fragments

        fragments.connect_signals()
        context_processors.connect_signals()
