"""WSGI entry point, used by gunicorn (`gunicorn kb_site.wsgi`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb_site.settings.production")

application = get_wsgi_application()
