"""What every benchmark needs: a free port, ``manage.py`` in a prepared environment, and gunicorn serving
the site for the duration of a block. (Not ``procedures.py``'s: that name shadows the app.)"""

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN_CONFIG = (
    BASE_DIR / "kb_site" / "gunicorn.conf.py"
)  # production's: preload, gc.freeze, 2 × CPUs + 1 workers

__all__ = [
    "BASE_DIR",
    "GUNICORN_CONFIG",
    "PYTHON",
    "SETTINGS",
    "bench_env",
    "client_session",
    "free_port",
    "gunicorn",
    "login",
    "manage",
    "measure",
    "percentile",
    "postgres",
]

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

# A production-like settings module over a throwaway directory (``bench_env`` writes it).
SETTINGS = """
from kb_site.settings.dev import *  # noqa

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
VAR_DIR = Path({var_dir!r})
MEDIA_ROOT = VAR_DIR / "media"
DATABASES["default"]["NAME"] = VAR_DIR / "bench.sqlite3"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_USE_FINDERS = True
# Searching is not what this measures; keep the demo load quick.
WAGTAILSEARCH_BACKENDS = {{"default": {{"BACKEND": "wagtail.search.backends.database", "AUTO_UPDATE": False}}}}
LOGGING = {{"version": 1, "disable_existing_loggers": False,
           "handlers": {{"console": {{"class": "logging.StreamHandler"}}}},
           "root": {{"handlers": ["console"], "level": "ERROR"}}}}
"""


def bench_env(var_dir, extra=""):
    """The environment that runs ``manage.py`` and gunicorn on ``var_dir``'s settings and database;
    ``extra``: settings lines appended to ``SETTINGS`` (another database, another search backend)."""
    settings_dir = Path(var_dir) / "settings"
    settings_dir.mkdir(exist_ok=True)
    text = SETTINGS.format(var_dir=str(var_dir)) + extra
    (settings_dir / "bench_settings.py").write_text(text, encoding="utf-8")
    return {
        **os.environ,
        "PYTHONPATH": f"{settings_dir}{os.pathsep}{BASE_DIR}",
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "CALLBOOK_VAR_DIR": str(var_dir),
    }


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args, capture=False):
    result = subprocess.run(
        [PYTHON, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        check=True,
        capture_output=capture,
        text=True,
    )
    return result.stdout if capture else None


PG_BIN = Path("/usr/lib/postgresql/15/bin")


@contextlib.contextmanager
def postgres(database="callbook", settings=()):
    """A throwaway PostgreSQL cluster (Debian's ``postgresql`` 15, run as the ``postgres`` user, ``fsync=off``)
    on a free port of 127.0.0.1 with one empty database: yields its ``DATABASE_URL``; stopped and removed when
    the block ends, on errors and Ctrl-C too. ``settings``: more ``name=value`` server settings. When
    ``DATABASE_URL`` is set already, yields that instead (and starts nothing)."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    root = Path(tempfile.mkdtemp(prefix="callbook-pg-"))
    data = root / "d"
    port = free_port()

    def as_postgres(*command):
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, text=True
        )

    started = False
    try:
        shutil.chown(root, "postgres")
        as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-E", "UTF8", "--locale=C.UTF-8", "-A", "trust")
        options = " ".join([f"-p {port} -k /tmp -c fsync=off", *(f"-c {item}" for item in settings)])
        started = True  # stopped at the end even if start gave up waiting
        as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"
        )
        as_postgres(str(PG_BIN / "createdb"), "-h", "/tmp", "-p", str(port), database)
        yield f"postgres://postgres@127.0.0.1:{port}/{database}"
    finally:
        if started:
            subprocess.run(
                [
                    "runuser",
                    "-u",
                    "postgres",
                    "--",
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(data),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ],
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


def percentile(values, fraction):
    """Nearest-rank percentile (``fraction`` 0.95 for p95); NaN for no values."""
    ordered = sorted(values)
    return ordered[max(int(round(fraction * len(ordered) + 0.5)) - 1, 0)] if ordered else float("nan")


def stop(process):
    """Ask a server or worker process to stop; kill it if it has not within 30 s."""
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@contextlib.contextmanager
def gunicorn(env, *, workers, threads=None, options=(), log_file=None, config=None):
    """Serve the site with gunicorn on a free port of 127.0.0.1 (``threads``: gthread workers; ``config``: a
    gunicorn configuration file, e.g. ``GUNICORN_CONFIG``, whose settings the other arguments override;
    ``workers`` None: the file's) and yield its base URL once it answers; stopped when the block ends."""
    port = free_port()
    command = [str(Path(PYTHON).parent / "gunicorn"), "kb_site.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--config", str(config)] if config else []
    command += ["--workers", str(workers)] if workers else []
    command += ["--log-level", "warning", *options]
    if threads:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    output = {"stdout": log_file, "stderr": subprocess.STDOUT} if log_file else {}
    server = subprocess.Popen(command, env=env, cwd=BASE_DIR, **output)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                requests.get(base + "/login/", timeout=30)
                break
            except requests.RequestException:
                time.sleep(0.5)
        yield base
    finally:
        stop(server)


def client_session():
    """A requests session for a benchmark's client. It reads no proxy settings or ``~/.netrc`` from the
    environment on each request (``trust_env``): that cost the client a third of its CPU a request, which the
    servers then lack on a machine they share."""
    session = requests.Session()
    session.trust_env = False
    return session


def login(base, username, password):
    """A requests session logged in to the site at ``base`` (through the login form, CSRF included)."""
    session = client_session()
    page = session.get(base + "/login/", timeout=30)
    token = CSRF.search(page.text).group(1)
    response = session.post(
        base + "/login/",
        {"username": username, "password": password, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login failed for {username}: {response.status_code}")
    return session


def measure(session, url, count):
    """``count`` sequential GETs of ``url`` after one to warm the worker: (seconds each, non-200s)."""
    times, errors = [], 0
    session.get(url, timeout=30)
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        times.append(time.perf_counter() - started)
        errors += response.status_code != 200
    return times, errors
