"""Benchmark: Callbook's pages against wagtail/bakerydemo's, served side by side (not a test).

Serves bakerydemo (from ``../shared/anchors/``, in a Python 3.12 virtualenv the bench makes under the
cache directory) and Callbook (bench/serving.py's production-like settings, the demo loaded, the
Whoosh search backend) with gunicorn, 3 sync workers each, SQLite, and loads each page with
``wrk -t2 -c20 -d20s`` in alternating rounds: bakerydemo, then Callbook, page by page, four rounds.
Callbook's pages need a logged-in agent: wrk sends the agent's session cookie, and a Lua script counts
every response that is not a 200 (a login redirect must not pass for a fast page).

    .venv/bin/python bench/pages.py [--rounds 4] [--duration 20] [--cache-dir var/bench]
                                    [--callbook-dir DIR] [--pages home article search]

Pages: home (``/`` each), an article against a blog post, search (``/search/?q=投诉`` against
``/search/?q=bread``). Prints per round and as medians: requests per second, the ratio Callbook /
bakerydemo, and the workers' CPU milliseconds per request (``/proc``, user + system, over the wrk run).
On a machine other work keeps busy the CPU per request is the steadier figure: requests per second
follow whatever share of the cores each server got during its 20 seconds. Then each server's
per-worker RSS after the load (``ps``).

Target (issue 14): Callbook ≥ 3× bakerydemo's requests per second on all three pages.

Needs ``wrk`` (Debian: ``apt-get install -y wrk``) and Python 3.12 (``--python312``; pyenv's by
default). Bakerydemo's ``requirements/base.txt`` is installed with whitenoise and gunicorn (what its
production settings use here; the S3, Elasticsearch and Redis parts of its production requirements are
off without their environment variables); its database and static files are made once and kept in the
cache directory. ``--callbook-dir``: Callbook's database and index are kept there and reused next time
(migrate, load_demo and the index take minutes).
"""

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

import requests
from serving import BASE_DIR, bench_env, free_port, login, manage, stop

ANCHOR = BASE_DIR.parent / "shared" / "anchors" / "bakerydemo-8e2b625.tar.gz"
PYTHON312 = "/root/.pyenv/versions/3.12.1/bin/python"
WORKERS = 3

# (label, bakerydemo path, Callbook path or None for "the demo's article")
PAGES = [
    ("home", "/", "/"),
    ("article", "/blog/bread-circuses/", None),
    ("search", "/search/?q=bread", "/search/?q=" + quote("投诉")),
]
ARTICLE_TITLE = "少货处理规范"
# What Callbook's pages must show to count: a search that found nothing (an index of another format, say)
# is fast for the wrong reason.
MARKERS = {"search": "data-hit>"}

# Callbook's search pages need the real (Whoosh) backend, not bench/serving.py's database one.
PAGES_SETTINGS = """
from bench_settings import *  # noqa

WAGTAILSEARCH_BACKENDS = {{"default": {{"BACKEND": "search.backend", "PATH": Path({index!r}), "AUTO_UPDATE": True}}}}
"""

FIND_ARTICLE = """
from kb_site.content.models import ArticlePage
page = ArticlePage.objects.live().filter(title={title!r}).first() or ArticlePage.objects.live().first()
print("ARTICLE", page.url)
"""


def bakerydemo_env(cache):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bakerydemo.settings.production",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-" + "x" * 30,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "False",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_NAME": str(cache / "bakerydemodb"),
        "PYTHONPATH": "",
    }


def setup_bakerydemo(cache, python312):
    """Unpack, install and load bakerydemo under ``cache`` once; later runs reuse it."""
    digest = hashlib.sha256(ANCHOR.read_bytes()).hexdigest()[:16]
    marker = cache / f"ready-{digest}"
    source = cache / "src"
    venv = cache / "venv"
    if marker.exists():
        return source, venv
    started = time.monotonic()
    if cache.exists():
        shutil.rmtree(cache)
    source.mkdir(parents=True)
    with tarfile.open(ANCHOR) as archive:
        archive.extractall(source, filter="data")
    subprocess.run([python312, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "-r", str(source / "requirements" / "base.txt"), "whitenoise", "gunicorn"], check=True
    )
    env = bakerydemo_env(cache)
    for command in (
        ["migrate", "--noinput", "-v0"],
        ["load_initial_data"],
        ["collectstatic", "--noinput", "-v0"],
    ):
        subprocess.run([str(venv / "bin" / "python"), "manage.py", *command], env=env, cwd=source, check=True)
    marker.touch()
    print(f"bakerydemo: installed and loaded in {time.monotonic() - started:.0f}s")
    return source, venv


def callbook_env(var_dir):
    env = bench_env(var_dir)
    settings_dir = Path(var_dir) / "settings"
    (settings_dir / "pages_settings.py").write_text(
        PAGES_SETTINGS.format(index=str(Path(var_dir) / "search-index")), encoding="utf-8"
    )
    env["DJANGO_SETTINGS_MODULE"] = "pages_settings"
    return env


def find_article(env):
    output = manage(env, "shell", "-c", FIND_ARTICLE.format(title=ARTICLE_TITLE), capture=True)
    return next(line.split()[1] for line in output.splitlines() if line.startswith("ARTICLE"))


def setup_callbook(var_dir):
    env = callbook_env(var_dir)
    started = time.monotonic()
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_demo", "--demo-users")
    manage(env, "rebuild_modelsearch_index", "-v0")
    article = find_article(env)
    print(f"callbook: migrate + demo + index in {time.monotonic() - started:.0f}s; article {article}")
    return env, article


@contextlib.contextmanager
def serve(gunicorn, app, env, cwd, probe):
    """gunicorn with ``WORKERS`` sync workers on a free port; yields (base URL, master pid)."""
    port = free_port()
    command = [
        str(gunicorn),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--timeout",  # a first request on a busy machine can take longer than gunicorn's 30 s
        "120",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env, cwd=cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                requests.get(base + probe, timeout=30)
                break
            except requests.RequestException:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"{app} did not answer on {base}")
        yield base, server.pid
    finally:
        stop(server)


def worker_rss(master):
    """Each worker's resident set in MB (the master's children)."""
    output = subprocess.run(
        ["ps", "-o", "rss=", "--ppid", str(master)], capture_output=True, text=True
    ).stdout
    return sorted(int(value) / 1024 for value in output.split())


REQUESTS = re.compile(r"Requests/sec:\s+([\d.]+)")
COMPLETED = re.compile(r"(\d+) requests in")
NOT_OK = re.compile(r"^not 200: (\d+)$", re.M)
SOCKET_ERRORS = re.compile(r"Socket errors:.*")
# Counts every response that is not a 200 (wrk itself only counts 4xx and 5xx: a login redirect would
# pass for a fast page).
STATUS_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0 end
function response(status, headers, body) if status ~= 200 then not_ok = not_ok + 1 end end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("not_ok") end
  io.write(string.format("not 200: %d\\n", total))
end
"""


def run_wrk(url, duration, script, cookie=None):
    """Requests per second wrk measured on ``url``; raises if any response was not a 200."""
    command = ["wrk", "-t2", "-c20", f"-d{duration}s", "--timeout", "30s", "-s", str(script)]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    not_ok = int(NOT_OK.search(output).group(1))
    if not_ok:
        raise RuntimeError(f"wrk on {url}: {not_ok} responses were not 200\n{output}")
    if errors := SOCKET_ERRORS.search(output):
        print(f"  {url}: {errors.group(0)}", flush=True)
    return float(REQUESTS.search(output).group(1)), int(COMPLETED.search(output).group(1))


def worker_cpu(master):
    """CPU seconds the master's workers have used so far (user + system)."""
    ticks = os.sysconf("SC_CLK_TCK")
    output = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True
    ).stdout
    total = 0.0
    for pid in output.split():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def load(url, duration, script, master, cookie=None):
    """(requests per second, worker CPU milliseconds per request) of a wrk run on ``url``."""
    before = worker_cpu(master)
    rate, completed = run_wrk(url, duration, script, cookie)
    return rate, (worker_cpu(master) - before) * 1000 / completed


def check_page(base, path, session, marker=None):
    response = (session or requests).get(base + path, timeout=60, allow_redirects=False)
    if response.status_code != 200 or (marker and marker not in response.text):
        raise RuntimeError(f"{base}{path}: {response.status_code}, not the page expected")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=20, help="seconds of wrk per page and round")
    parser.add_argument("--cache-dir", type=Path, default=BASE_DIR / "var" / "bench")
    parser.add_argument("--python312", default=PYTHON312)
    parser.add_argument("--pages", nargs="*", default=[label for label, *_ in PAGES])
    parser.add_argument(
        "--callbook-dir",
        help="keep Callbook's database and index here and reuse them on the next run (default: a temporary one)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk (Debian) or https://github.com/wg/wrk")
    if not Path(args.python312).exists():
        sys.exit(
            f"Python 3.12 is needed for bakerydemo: {args.python312} (pyenv install 3.12.1), or --python312"
        )

    source, venv = setup_bakerydemo(args.cache_dir.resolve() / "bakerydemo", args.python312)
    with tempfile.TemporaryDirectory(prefix="callbook-pages-") as scratch:
        script = Path(scratch) / "status.lua"
        script.write_text(STATUS_SCRIPT, encoding="utf-8")
        var_dir = args.callbook_dir or scratch
        if args.callbook_dir and (Path(var_dir) / "bench.sqlite3").exists():
            env, article = callbook_env(var_dir), None
            # The kept database and index brought up to this tree's migrations and index format (a few
            # seconds at the demo's size), so a kept directory never measures an index of another schema.
            manage(env, "migrate", "--noinput", "-v0")
            manage(env, "rebuild_modelsearch_index", "-v0")
            article = find_article(env)
        else:
            Path(var_dir).mkdir(parents=True, exist_ok=True)
            env, article = setup_callbook(var_dir)
        pages = [(label, bakery, ours or article) for label, bakery, ours in PAGES if label in args.pages]
        baker_env = bakerydemo_env(args.cache_dir.resolve() / "bakerydemo")
        with (
            serve(venv / "bin" / "gunicorn", "bakerydemo.wsgi", baker_env, source, "/") as (
                bakery_base,
                bakery_pid,
            ),
            serve(Path(sys.executable).parent / "gunicorn", "kb_site.wsgi", env, BASE_DIR, "/login/") as (
                base,
                pid,
            ),
        ):
            session = login(base, "agent", "callbook-agent")
            cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
            for label, bakery_path, path in pages:
                check_page(bakery_base, bakery_path, None)
                check_page(base, path, session, MARKERS.get(label))
            rates, cpu = defaultdict(list), defaultdict(list)
            for round_number in range(1, args.rounds + 1):
                for label, bakery_path, path in pages:
                    bakery, bakery_cpu = load(bakery_base + bakery_path, args.duration, script, bakery_pid)
                    ours, our_cpu = load(base + path, args.duration, script, pid, cookie)
                    rates[label, "bakerydemo"].append(bakery)
                    rates[label, "callbook"].append(ours)
                    cpu[label, "bakerydemo"].append(bakery_cpu)
                    cpu[label, "callbook"].append(our_cpu)
                    print(
                        f"round {round_number} {label:8} bakerydemo {bakery:8.1f} req/s {bakery_cpu:6.1f} ms  "
                        f"callbook {ours:8.1f} req/s {our_cpu:6.1f} ms  {ours / bakery:5.2f}x",
                        flush=True,
                    )
            rss = {"bakerydemo": worker_rss(bakery_pid), "callbook": worker_rss(pid)}

    print()
    print(
        f"wrk -t2 -c20 -d{args.duration}s, {args.rounds} alternating rounds, gunicorn {WORKERS} sync workers each"
    )
    print(f"load average at the end: {' '.join(f'{value:.1f}' for value in os.getloadavg())}")
    print()
    print(
        "| page | bakerydemo req/s | Callbook req/s | Callbook / bakerydemo (rounds) "
        "| worker CPU per request, bakerydemo / Callbook | bakerydemo / Callbook CPU |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, bakery_path, path in pages:
        bakery = statistics.median(rates[label, "bakerydemo"])
        ours = statistics.median(rates[label, "callbook"])
        ratios = [o / b for o, b in zip(rates[label, "callbook"], rates[label, "bakerydemo"], strict=True)]
        bakery_cpu = statistics.median(cpu[label, "bakerydemo"])
        our_cpu = statistics.median(cpu[label, "callbook"])
        print(
            f"| {label} (`{path}` vs `{bakery_path}`) | {bakery:.1f} | {ours:.1f} | "
            f"{ours / bakery:.2f}× ({min(ratios):.2f}–{max(ratios):.2f}) | "
            f"{bakery_cpu:.1f} / {our_cpu:.1f} ms | {bakery_cpu / our_cpu:.2f}× |"
        )
    print()
    for site, values in rss.items():
        print(f"{site} worker RSS after the load: {', '.join(f'{value:.0f}' for value in values)} MB")


if __name__ == "__main__":
    main()
