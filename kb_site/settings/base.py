"""Settings shared by every environment. Environment-specific modules import * from here."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from .storage import s3_media_storage

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("CALLBOOK_VAR_DIR", BASE_DIR / "var"))


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = os.environ.get("DEBUG", "").lower() in {"1", "true", "yes"}
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "kb_site.content",
    "procedures",
    "search",
    "training",
    "followups",
    "feedback",
    "changes",
    "kb_site",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.table_block",
    "wagtail.contrib.search_promotions",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # The request's Wagtail site from a row kept per host (Wagtail queries it on every request).
    "kb_site.fragments.KeptSiteMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kb_site.middleware.SiteLoginRequiredMiddleware",
    "kb_site.middleware.AdminBadRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

# django-axes counts failed logins (front-end and admin) and locks out after AXES_FAILURE_LIMIT.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's, reading a user's permissions in one query rather than two (every page checks some).
    "kb_site.auth_backends.ModelBackend",
]

# Login lockout (django-axes, kb_site/lockouts.py). A call centre's agents reach the site through one
# NAT address, so locking an address would lock the whole floor out after one agent's typos, and
# locking a username alone would let anyone lock any agent out from anywhere: axes counts failures per
# username *and* address. After AXES_FAILURE_LIMIT failures that pair is refused, even with the right
# password, for AXES_COOLOFF_TIME counted from the failure that locked it (failures during the lockout
# neither count nor extend it), or until a 主管 or an administrator lifts it in the admin (报告 → 登录锁定)
# or with `manage.py axes_reset_ip_username <ip> <username>`. A successful login below the limit
# starts the count again.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Both login pages say in Chinese for how long and from where the account is locked (their forms turn
# axes' refusal into the form error; the callable sends that page with status 429).
AXES_LOCKOUT_CALLABLE = "kb_site.lockouts.lockout_response"
AXES_COOLOFF_MESSAGE = "登录失败次数过多，该账号在此地址已暂时锁定，请稍后再试或联系主管解锁。"
WAGTAILADMIN_USER_LOGIN_FORM = "kb_site.lockouts.AdminLoginForm"
# The address a failure counts against is the peer's (REMOTE_ADDR). Behind reverse proxies set
# CALLBOOK_TRUSTED_PROXIES to how many there are (nginx alone: 1, each appending to X-Forwarded-For);
# the header is ignored otherwise, since a client reaching the site directly could invent it.
AXES_CLIENT_IP_CALLABLE = "kb_site.lockouts.client_ip_address"
CALLBOOK_TRUSTED_PROXIES = int(os.environ.get("CALLBOOK_TRUSTED_PROXIES", "0"))

ROOT_URLCONF = "kb_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kb_site.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "kb_site.wsgi.application"

# SQLite is the embedded default; DATABASE_URL (e.g. postgres://...) switches engines.
# IMMEDIATE transactions + WAL + a busy timeout keep concurrent writers from failing
# with "database is locked" (measured: 67% failures without, none with).
SQLITE_PATH = VAR_DIR / "callbook.sqlite3"


def database_from_url(url):
    """The database at ``url`` (``DATABASE_URL``), its connections kept between requests as SQLite's are.

    Opening a PostgreSQL connection forks a server process for it and authenticates: milliseconds a
    request. A gunicorn worker keeps its connection for ten minutes instead, and checks it with one
    ``SELECT 1`` before the first query of each request (``CONN_HEALTH_CHECKS``), so that a restarted or
    failed-over database server costs no request an error."""
    return dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)


if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": database_from_url(os.environ["DATABASE_URL"])}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A worker keeps its connection between requests (opening one and its PRAGMAs cost ~9% of
            # a move). Each gunicorn worker opens its own after the fork (search.warmup closes the
            # master's); a connection is per thread, as Django's always are.
            "CONN_MAX_AGE": 600,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's cache. Search keeps per-process copies of what every search reads and checks them against
# generations kept here (search/caches.py): with several app servers (or several gunicorn workers) set
# CALLBOOK_CACHE=database so that all of them share it and see a trainer's change on their next request.
# The database cache needs no new service; its table is created by `migrate`. The default, a per-process
# memory cache, suits one process; other processes then catch up within a minute.
CALLBOOK_CACHE = os.environ.get("CALLBOOK_CACHE", "locmem").strip().lower()
if CALLBOOK_CACHE == "database":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "callbook_cache",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }
elif CALLBOOK_CACHE == "locmem":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("CALLBOOK_CACHE must be 'locmem' (the default) or 'database'.")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions stay in the database and are read through a cache all the site's processes share
# (kb_site/sessions.py): no session query per request, and logout still ends a session everywhere.
SESSION_ENGINE = "kb_site.sessions"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
WAGTAIL_FRONTEND_LOGIN_URL = LOGIN_URL

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"

STORAGES = {
    "default": s3_media_storage(os.environ) or {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploaded media go to an S3-compatible store when CALLBOOK_S3_BUCKET is set (kb_site/settings/storage.py).
# Documents are always streamed by Wagtail's serve view, which checks collection view restrictions (on a
# remote storage Wagtail would otherwise redirect browsers to the bucket, which stays private).
WAGTAILDOCS_SERVE_METHOD = "serve_view"

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

WAGTAIL_SITE_NAME = "Callbook 客服知识库"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
# Call centres run on closed networks: the dashboard must not fetch releases.wagtail.org/latest.txt.
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_I18N_ENABLED = False
# The account page offers only the languages and the time zone the site runs in (Wagtail lists ~600 zones
# and every language by its own name).
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
WAGTAIL_USER_TIME_ZONES = [TIME_ZONE]
WAGTAILDOCS_DOCUMENT_MODEL = "content.CallbookDocument"
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
WAGTAIL_MODERATION_ENABLED = True
WAGTAIL_WORKFLOW_ENABLED = True

# Whoosh with Chinese analysis (search/backend/, search/analysis.py, zhtext/). PATH holds the index
# generations; LOCK_TIMEOUT is how long (seconds) a save waits for another writer before giving up on
# the index update.
WAGTAILSEARCH_BACKENDS = {
    "default": {
        "BACKEND": "search.backend",
        "PATH": VAR_DIR / "search-index",
        "LOCK_TIMEOUT": 30,
        "AUTO_UPDATE": True,
    },
}

# Background work (document text extraction, Wagtail's own index and reference updates) goes through
# Django's task framework; the database backend's worker (`manage.py db_worker`) runs beside the web
# server (`make run` starts both).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Callbook settings
CALLBOOK_DEFAULT_REVIEW_INTERVAL_DAYS = 180
# Change notices: a 重大变更 is sent to the agents who ran the procedure or opened the page in this many
# days (and those whose learning path includes it); they have this many days to acknowledge it.
CALLBOOK_CHANGE_AUDIENCE_DAYS = 30
CALLBOOK_CHANGE_ACK_DUE_DAYS = 7

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Guided procedures: runs untouched this long are shown as abandoned and marked so by mark_abandoned_runs (cron).
CALLBOOK_RUN_ABANDON_AFTER_MINUTES = int(os.environ.get("CALLBOOK_RUN_ABANDON_AFTER_MINUTES", "120"))
# Search clicks (search.clicks): a search this soon after opening a result means it did not answer; what a
# click teaches halves every this many days.
CALLBOOK_SEARCH_RETURN_SECONDS = int(os.environ.get("CALLBOOK_SEARCH_RETURN_SECONDS", "180"))
CALLBOOK_SEARCH_LINK_HALF_LIFE_DAYS = float(os.environ.get("CALLBOOK_SEARCH_LINK_HALF_LIFE_DAYS", "30"))
