"""WSGI entry point, used by gunicorn (`gunicorn kb_site.wsgi`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb_site.settings.production")

application = get_wsgi_application()

# Load the segmenter and open the search indexes now rather than in a user's first search.
from search.warmup import warm_up  # noqa: E402

warm_up()
