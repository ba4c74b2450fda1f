"""gunicorn settings for Callbook: ``gunicorn -c kb_site/gunicorn.conf.py kb_site.wsgi``.

The master loads the site before it forks its workers (``preload_app``): the segmenter's dictionary,
the synonym dictionary, the search structures (``search.warmup``) and every module are
read once and the workers share those pages instead of each reading its own copy (copy-on-write). The
objects are frozen out of the cyclic garbage collector (``gc.freeze``) before each fork, so that a
worker's collections do not write to (and so copy) every page the master filled. ``bench/moves.py``
measures each worker's RSS, PSS and USS with and without this file.

Sync workers, one thread each (Wagtail's rich-text parser is not thread-safe, wagtail/wagtail#14573).
Every setting can be overridden on the command line (``--workers 5``) or, for these, the environment.
"""

import gc
import os

bind = os.environ.get("CALLBOOK_BIND", "127.0.0.1:8000")
# Sync workers wait on the database too, so more of them than CPUs keep the CPUs busy and requests out of
# the listen backlog. On PostgreSQL each worker keeps one connection open (CONN_MAX_AGE): every server's
# workers, plus the task workers, must stay under the database's max_connections (100 by default).
workers = int(os.environ.get("WEB_CONCURRENCY", str((os.cpu_count() or 1) * 2 + 1)))
worker_class = "sync"
preload_app = True
timeout = 30
# A worker slowly copies shared pages as it touches the objects on them (reference counts are writes);
# one forked afresh after this many requests shares them all again (the master forks it in milliseconds).
max_requests = 5000
max_requests_jitter = 500
# The workers' heartbeat files on a memory file system (a slow disk cannot make the master kill them).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# No collection while the master loads the site, so that freed objects leave no holes in the pages the
# workers will share (as Python's gc.freeze documentation advises); workers collect as usual.
gc.disable()


def pre_fork(server, worker):
    gc.freeze()


def post_fork(server, worker):
    gc.enable()
