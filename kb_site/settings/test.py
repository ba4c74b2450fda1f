"""Test run: isolated var dir, fast password hashing."""

import atexit
import shutil
import tempfile

from .base import *  # noqa: F403

SECRET_KEY = "test-only-key"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
VAR_DIR = Path(tempfile.mkdtemp(prefix="callbook-test-"))  # noqa: F405
atexit.register(shutil.rmtree, VAR_DIR, ignore_errors=True)  # each test process removes its own
MEDIA_ROOT = VAR_DIR / "media"
if not os.environ.get("DATABASE_URL"):  # noqa: F405
    DATABASES["default"]["NAME"] = VAR_DIR / "test.sqlite3"  # noqa: F405
    # A file, as in production, not Django's shared-cache in-memory test database: under concurrent requests
    # that one fails at once with "database table is locked" where WAL and the busy timeout make a file wait.
    # ``make test-suite`` names a lasting directory (CALLBOOK_TEST_DB_DIR) so its second pytest run can reuse
    # the database its first one created (--reuse-db); a test process run by hand keeps its own.
    TEST_DB_DIR = Path(os.environ.get("CALLBOOK_TEST_DB_DIR") or VAR_DIR)  # noqa: F405
    TEST_DB_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": TEST_DB_DIR / "test.sqlite3"}  # noqa: F405
ALLOWED_HOSTS = ["*"]
# Serve static files straight from the finders (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Search: the index lives in the temporary VAR_DIR; modelsearch's own test models run the backend
# conformance suite (tests/search/test_conformance.py). Their migrations depend on the "modelsearch" app,
# which Wagtail replaces with wagtail.search, so the tables are created without migrations.
WAGTAILSEARCH_BACKENDS["default"]["PATH"] = VAR_DIR / "search-index"  # noqa: F405
WAGTAILSEARCH_BACKENDS["default"]["FSYNC"] = False  # noqa: F405
INSTALLED_APPS = [*INSTALLED_APPS, "modelsearch.test.testapp"]  # noqa: F405
MIGRATION_MODULES = {"searchtests": None}

# Tasks run at once in tests, except where a test drives the database backend's worker itself.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
