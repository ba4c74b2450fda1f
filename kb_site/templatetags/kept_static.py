"""``{% static %}`` with each URL kept by the process: ``{% load kept_static %}`` after ``{% load static %}``.

Django's tag asks the staticfiles storage for the URL on every render: a ``urljoin`` and a quote, and
with the production storage (``ManifestStaticFilesStorage``) a lookup of the hashed name in its
manifest too. A step page names 14 static files, each request again. The URL of a path is the same for
the whole life of a process (the manifest is read once, when the storage is made), so it is asked once
per path; a change of ``STATIC_URL`` or ``STORAGES`` (tests' ``override_settings``) forgets them all.
The tag takes what Django's takes (``{% static path %}``, ``{% static path as name %}``).
"""

from django import template
from django.core.signals import setting_changed
from django.templatetags.static import StaticNode

register = template.Library()

MAX_PATHS = 1000  # paths come from templates; a path from the context is kept too, up to this many
_urls = {}


class KeptStaticNode(StaticNode):
    def url(self, context):
        path = self.path.resolve(context)
        try:
            return _urls[path]
        except (KeyError, TypeError):
            url = self.handle_simple(path)
            if isinstance(path, str) and len(_urls) < MAX_PATHS:
                _urls[path] = url
            return url


@register.tag("static")
def do_static(parser, token):
    return KeptStaticNode.handle_token(parser, token)


def _forget(setting, **kwargs):
    if setting in ("STATIC_URL", "STORAGES", "STATIC_ROOT", "FORCE_SCRIPT_NAME"):
        _urls.clear()


setting_changed.connect(_forget, dispatch_uid="callbook-kept-static")
