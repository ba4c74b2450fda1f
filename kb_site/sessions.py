"""Session engine: sessions stay in the database, and are read through a cache every process of the
machine shares, so that a request does not cost a session query.

Django's ``cached_db`` engine with a per-process memory cache would let a session a user logged out of
(or whose password changed, or which ``clearsessions`` removed) live on in the other gunicorn workers'
memory; here the cache is files under ``VAR_DIR/sessions`` that all workers read and that logout
deletes from, so logout ends the session at once for every worker (``tests/site/test_sessions.py``).
Where several app servers share the database (``CALLBOOK_CACHE=database``), sessions are read through
that shared cache instead. Signed-cookie sessions were the other choice: no storage at all, but a copy
of the cookie would still log in after its user logged out.

Session rows deleted straight from the database (not through logout) stay in the cache until they
expire; to end someone's sessions, change their password or deactivate them, which every request checks.
"""

import functools

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches
from django.core.cache.backends.filebased import FileBasedCache


@functools.cache
def _machine_cache(location):
    # One file per session; Django's default of 300 entries would cull the sessions of a busy floor.
    return FileBasedCache(str(location), {"OPTIONS": {"MAX_ENTRIES": 100_000}})


def session_cache():
    """The cache sessions are read through: one every process that serves the site can see."""
    if getattr(settings, "CALLBOOK_CACHE", "locmem") != "locmem":
        return caches["default"]
    return _machine_cache(settings.VAR_DIR / "sessions")


class SessionStore(cached_db.SessionStore):
    cache_key_prefix = "callbook.sessions."

    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = session_cache()
