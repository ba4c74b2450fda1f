"""Benchmark: CPU per search results page in process (not a test): the Django test client, no server.

The demo's agent GETs ``/search/?q=投诉`` (``--url``) on a copy of a demo database and its Whoosh index,
a few times to warm the process's caches, then ``--count`` times with ``time.process_time`` read around
them; prints the CPU per request and the statements one request runs. Steadier than ``bench/pages.py``
on a busy machine, and it runs any tree: compare two commits by unpacking one with ``git archive`` and
running this file of each, alternately.

    .venv/bin/python bench/search_in_process.py var/bench/callbook [--count 100] [--url URL]

The directory: ``bench/pages.py --callbook-dir``'s (``bench.sqlite3`` and ``search-index``, copied, not
changed).
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

TREE = Path(__file__).resolve().parent.parent

SETTINGS_EXTRA = """
ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
WAGTAILSEARCH_BACKENDS = {{"default": {{"BACKEND": "search.backend", "PATH": Path({index!r}), "AUTO_UPDATE": True}}}}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="a bench/pages.py Callbook directory to copy")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--warm", type=int, default=5)
    parser.add_argument("--url", default="/search/?q=投诉")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callbook-search-inprocess-") as var:
        shutil.copyfile(Path(args.directory) / "bench.sqlite3", Path(var) / "bench.sqlite3")
        shutil.copytree(Path(args.directory) / "search-index", Path(var) / "search-index")
        sys.path[:0] = [str(TREE), str(TREE / "bench")]
        import serving

        serving.bench_env(var, SETTINGS_EXTRA.format(index=str(Path(var) / "search-index")))
        sys.path.insert(0, str(Path(var) / "settings"))
        os.environ.update(DJANGO_SETTINGS_MODULE="bench_settings", CALLBOOK_VAR_DIR=var)
        os.chdir(TREE)
        import django

        django.setup()
        print(measure(args.url, args.count, args.warm))


def measure(url, count, warm):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username="agent"))
    for _ in range(warm):
        response = client.get(url)
        if response.status_code != 200 or b"data-hit>" not in response.content:
            raise RuntimeError(f"{url}: {response.status_code}, no hits")
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        client.get(url)
    started = time.process_time()
    for _ in range(count):
        client.get(url)
    cpu = (time.process_time() - started) / count * 1000
    return f"{TREE}: {cpu:.1f} ms CPU a page, {len(statements)} statements (load {os.getloadavg()[0]:.1f})"


if __name__ == "__main__":
    sys.exit(main())
