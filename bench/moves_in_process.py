"""Benchmark: CPU per move in process (not a test): the Django test client, no server, no network.

A move is the POST of the step form and the GET of the next step page, made as ``bench/procedures.py``'s
agent makes them, by one agent on a copy of a demo database; ``time.process_time`` is read around the
moves only (the first 20 are a warm-up). Steadier than ``bench/moves.py`` on a busy machine, and it runs
any tree: compare two commits by unpacking one with ``git archive`` and running this file of each.

    .venv/bin/python bench/moves_in_process.py DEMO.sqlite3 [--moves 200]

``DEMO.sqlite3``: a migrated database with the demo loaded (``var/bench/callbook/bench.sqlite3`` after
``bench/pages.py``, or ``make setup``'s ``var/callbook.sqlite3``); it is copied, not changed.
"""

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

TREE = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="a demo database to copy")
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument(
        "--profile", metavar="FILE", help="write cProfile statistics of the measured moves to FILE"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callbook-inprocess-") as var:
        shutil.copyfile(args.database, Path(var) / "bench.sqlite3")
        sys.path[:0] = [str(TREE), str(TREE / "bench")]  # the tree first: bench/procedures.py is not the app
        import serving

        serving.bench_env(var)
        sys.path.insert(0, str(Path(var) / "settings"))
        os.environ.update(DJANGO_SETTINGS_MODULE="bench_settings", CALLBOOK_VAR_DIR=var)
        os.chdir(TREE)
        import django

        django.setup()
        print(measure(args.moves, args.profile))


def measure(count, profile=None):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from procedures.models import ProcedurePage

    spec = importlib.util.spec_from_file_location("bench_procedures", TREE / "bench" / "procedures.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    user, _ = get_user_model().objects.get_or_create(username="inprocess")
    user.groups.add(Group.objects.get(name="坐席"))

    class Response:
        def __init__(self, response):
            self.status_code = response.status_code
            self.headers = response.headers
            self.text = response.content.decode()

    class Session:
        def __init__(self):
            self.client = Client(HTTP_HOST="127.0.0.1")
            self.client.force_login(user)

        def request(self, method, url, data=None, **kwargs):
            client = self.client
            return Response(client.get(url) if method == "GET" else client.post(url, data or {}))

    class Agent(bench.Agent):
        def csrf(self):
            cookie = self.session.client.cookies.get("csrftoken")
            return cookie.value if cookie else ""

    procedures = [(page.pk, page.url) for page in ProcedurePage.objects.live()]
    agent = Agent("", user.username, procedures, 0, bench.Results(), seed=7)
    agent.session = Session()
    agent.session.request("GET", "/")
    done, measured, cpu = 0, 0, 0.0
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    while measured < count:
        run_id, path = agent.start_procedure()
        while measured < count:
            if profiler and done >= 20:
                profiler.enable()
            started = time.process_time()
            moved = agent.move(run_id, path)
            elapsed = time.process_time() - started
            if profiler:
                profiler.disable()
            if not moved:
                break
            done += 1
            if done > 20:
                measured += 1
                cpu += elapsed
    if profiler:
        profiler.dump_stats(profile)
    return (
        f"{TREE}: {measured} moves, {cpu / measured * 1000:.1f} ms CPU a move (load {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    sys.exit(main())
