"""Benchmark: many agents running guided procedures at once over HTTP (not a test).

Serves the app with gunicorn on 127.0.0.1 against a fresh SQLite database with the demo
loaded, then lets 10 and then 50 simulated agents (threads, one HTTP session each) run demo
procedures step by step: random answers, typed inputs, ticked checklists, some Backs and some
deliberate double submits. Reports step latency (p50/p95 of each posted move and of each
step page), errors, and whether every accepted move shows up as exactly one event in the
database (and no double submit added one).

    .venv/bin/python bench/procedures.py [--agents 10 50] [--seconds 20] [--workers 5]

Target: p95 < 100 ms at 50 agents, zero errors, zero lost or doubled events.
"""

import argparse
import datetime
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from serving import (  # noqa: F401 (hostile.py uses some)
    BASE_DIR,
    PYTHON,
    bench_env,
    client_session,
    free_port,
    gunicorn,
    manage,
    percentile,
)

PASSWORD = "bench-password-123"


MAKE_AGENTS = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from procedures.models import ProcedurePage
group = Group.objects.get(name="坐席")
User = get_user_model()
for number in range({count}):
    user, created = User.objects.get_or_create(username=f"bench{{number}}")
    user.set_password({password!r})
    user.save()
    user.groups.add(group)
for page in ProcedurePage.objects.live():
    print("PROCEDURE", page.pk, page.url)
"""


def setup(var_dir, agents):
    env = bench_env(var_dir)
    started = time.monotonic()
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_demo", "--demo-users")
    output = manage(env, "shell", "-c", MAKE_AGENTS.format(count=agents, password=PASSWORD), capture=True)
    procedures = [line.split()[1:] for line in output.splitlines() if line.startswith("PROCEDURE")]
    print(
        f"setup: migrate + demo + {agents} agents in {time.monotonic() - started:.0f}s; {len(procedures)} procedures"
    )
    return env, [(int(pk), url) for pk, url in procedures]


# --- one simulated agent ------------------------------------------------------------------

HIDDEN = re.compile(r'name="(step|seq)" value="([^"]*)"')
ANSWER = re.compile(r'name="answer" value="(\d+)"')
CHECK = re.compile(r'name="check" value="(\d+)"')
FIELD = re.compile(r'<(input|select) name="v-([^"]+)"([^>]*)>')
SELECT_OPTIONS = re.compile(r'<select name="v-([^"]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]+)"')
HANDOFF_GROUP = re.compile(r'<select name="handoff_group"[^>]*>(.*?)</select>', re.S)
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Agent(threading.Thread):
    def __init__(self, base, username, procedures, deadline, results, seed, think=(0.0, 0.0)):
        super().__init__(daemon=True)
        self.think = think
        self.base = base
        self.username = username
        self.procedures = procedures
        self.deadline = deadline
        self.results = results
        self.random = random.Random(seed)
        self.session = client_session()

    def timed(self, method, path, kind, **kwargs):
        started = time.perf_counter()
        response = self.session.request(method, self.base + path, allow_redirects=False, timeout=30, **kwargs)
        self.results.latency(kind, time.perf_counter() - started)
        return response

    def csrf(self):
        return self.session.cookies.get("csrftoken")

    def login(self):
        page = self.session.get(self.base + "/login/", timeout=30)
        token = CSRF.search(page.text).group(1)
        response = self.session.post(
            self.base + "/login/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            allow_redirects=False,
            timeout=30,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login failed for {self.username}: {response.status_code}")

    def run(self):
        try:
            self.login()
            # agents' calls do not all start in the same second
            time.sleep(self.random.uniform(0, self.think[1]))
            while time.monotonic() < self.deadline:
                self.run_procedure()
        except Exception as error:  # every failure counts, none stops the others
            self.results.error(f"{self.username}: {type(error).__name__}: {error}")

    def run_procedure(self):
        run_id, run_path = self.start_procedure()
        for _ in range(40):
            if time.monotonic() >= self.deadline:
                return  # the run stays in progress, as when a shift ends mid-call
            if self.think[1]:  # reading the step, talking to the customer
                time.sleep(min(self.random.uniform(*self.think), max(self.deadline - time.monotonic(), 0)))
                if time.monotonic() >= self.deadline:
                    return  # the load ends with the phase, not up to one think time later
            if not self.move(run_id, run_path, double_submits=0.1):
                return
        self.results.error(f"{self.username}: run {run_id} did not finish in 40 moves")

    def start_procedure(self):
        """Open a random demo procedure's page and start it: (run id, run page path)."""
        pk, url = self.random.choice(self.procedures)
        page = self.timed(
            "GET", url + f"?客户称呼=测试{self.username}&ref=B-{self.random.randint(1, 99999)}", "page"
        )
        self.expect(page, 200, "procedure page")
        response = self.timed(
            "POST",
            f"/procedures/start/{pk}/",
            "start",
            # every variable required at start (the page marks them ``required``), as an agent fills them in
            data={
                "csrfmiddlewaretoken": self.csrf(),
                "ref": "bench",
                **self.fill_fields(page.text, required_only=True),
            },
        )
        self.expect(response, 302, "start")
        run_path = response.headers["Location"]
        return run_path.rstrip("/").rsplit("/", 1)[-1], run_path

    def move(self, run_id, run_path, double_submits=0.0):
        """One move: the step page, then an answer, a Back, an ending or Next with the fields filled in;
        with probability ``double_submits`` the same form is posted again. False once the run is over."""
        step_page = self.timed("GET", run_path, "step_page")
        self.expect(step_page, 200, "step page")
        html = step_page.text
        if 'id="run-outcome"' in html:
            return False
        state = dict(HIDDEN.findall(html))
        data = {"csrfmiddlewaretoken": self.csrf(), **state, "note": ""}
        answers = ANSWER.findall(html)
        roll = self.random.random()
        if 'value="back"' in html and roll < 0.08:
            data["action"] = "back"
        elif roll > 0.995:
            data["action"] = self.random.choice(["escalate", "transfer", "give_up"])
        elif answers:
            data["answer"] = self.random.choice(answers)
        else:
            data["action"] = "next"
            data["check"] = CHECK.findall(html)
            data.update(self.fill_fields(html))
        response = self.timed("POST", f"/procedures/runs/{run_id}/move/", "move", data=data)
        if response.status_code == 200 and 'id="ending-confirm"' in response.text:
            # 升级 / 转接 / 客户放弃 are confirmed on a second screen with a reason (and to whom)
            groups = HANDOFF_GROUP.search(response.text)
            data.update(confirm="1", reason="测试结束原因")
            if groups:
                data["handoff_group"] = OPTION.findall(groups.group(1))[0]
            response = self.timed("POST", f"/procedures/runs/{run_id}/move/", "move", data=data)
        self.expect(response, 302, f"move {state}")
        self.results.accepted(run_id, int(state["seq"]), state["step"])
        if (
            self.random.random() < double_submits
        ):  # the same form again, as a double click would: must add nothing
            again = self.timed("POST", f"/procedures/runs/{run_id}/move/", "move", data=data)
            self.expect(again, 302, "double submit")
            self.results.double_submits += 1
        return True

    def fill_fields(self, html, required_only=False):
        options = {name: OPTION.findall(body) for name, body in SELECT_OPTIONS.findall(html)}
        values = {}
        for tag, name, attrs in FIELD.findall(html):
            if required_only and " required" not in attrs:
                continue
            if tag == "select":
                values[f"v-{name}"] = self.random.choice(options.get(name) or [""])
            elif 'type="date"' in attrs:
                day = datetime.date.today() - datetime.timedelta(days=self.random.randint(0, 30))
                values[f"v-{name}"] = day.isoformat()
            elif 'inputmode="decimal"' in attrs:
                values[f"v-{name}"] = str(self.random.randint(1, 200))
            else:
                values[f"v-{name}"] = f"测试{self.random.randint(1, 999)}"
        return values

    def expect(self, response, status, what):
        if response.status_code != status:
            raise RuntimeError(f"{what}: HTTP {response.status_code}")


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = {}
        self.errors = []
        self.moves = Counter()
        self.double_submits = 0

    def latency(self, kind, seconds):
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds * 1000)

    def error(self, message):
        with self.lock:
            self.errors.append(message)

    def accepted(self, run_id, seq, step):
        with self.lock:
            self.moves[(run_id.replace("-", ""), seq, step)] += 1


def check_events(db_path, results, started_after):
    """Every accepted move is exactly one agent event in the database, and nothing else is."""
    connection = sqlite3.connect(db_path)
    rows = connection.execute(
        "SELECT e.run_id, e.seq, e.step_key FROM procedures_runevent e "
        "JOIN procedures_procedurerun r ON r.id = e.run_id "
        # rules, outcomes and a sub-procedure's return to its calling step are the engine's own events
        "WHERE e.action NOT IN ('rule', 'outcome') AND e.kind != 'subprocedure' "
        "AND r.started_at >= ? AND r.ref = 'bench'",
        (started_after,),
    ).fetchall()
    duplicates = connection.execute(
        "SELECT COUNT(*) FROM (SELECT run_id, seq FROM procedures_runevent GROUP BY run_id, seq HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    connection.close()
    in_db = Counter((run_id.replace("-", ""), seq, step) for run_id, seq, step in rows)
    lost = results.moves - in_db
    extra = in_db - results.moves
    return sum(lost.values()), sum(extra.values()) + duplicates


def phase(base, agents, procedures, seconds, db_path, think):
    results = Results()
    started_after = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    deadline = time.monotonic() + seconds
    threads = [
        Agent(base, f"bench{number}", procedures, deadline, results, seed=number * 7919 + agents, think=think)
        for number in range(agents)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    lost, doubled = check_events(db_path, results, started_after)
    moves = results.latencies.get("move", [])
    pages = results.latencies.get("step_page", [])
    print(f"\n== {agents} agents, {seconds}s, think time {think[0]}-{think[1]}s per step ==")
    print(
        f"  moves accepted: {sum(results.moves.values())} (plus {results.double_submits} deliberate double submits)"
    )
    for kind, values in sorted(results.latencies.items()):
        print(
            f"  {kind:10s} n={len(values):6d}  p50={statistics.median(values):7.1f} ms"
            f"  p95={percentile(values, 0.95):7.1f} ms  max={max(values):7.1f} ms"
        )
    print("  machine load average (1/5/15 min) at the end: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"  errors: {len(results.errors)}")
    for message in results.errors[:10]:
        print(f"    {message}")
    print(f"  events lost: {lost}, events doubled or unexpected: {doubled}")
    return {
        "agents": agents,
        "move_p50": statistics.median(moves) if moves else float("nan"),
        "move_p95": percentile(moves, 0.95),
        "page_p95": percentile(pages, 0.95),
        "errors": len(results.errors),
        "lost": lost,
        "doubled": doubled,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--seconds", type=int, default=30, help="how long each phase runs")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=[0.5, 2.0],
        metavar=("MIN", "MAX"),
        help="seconds an agent spends on a step before acting (0 0: back-to-back stress test)",
    )
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="callbook-bench-") as var_dir:
        env, procedures = setup(var_dir, max(args.agents))
        options = ["--keep-alive", "75"]  # longer than any think time: idle agents keep their connection
        with gunicorn(env, workers=args.workers, threads=args.threads, options=options) as base:
            # warm every worker up (imports, URL conf) so the first agents do not measure start-up
            warm = Agent(base, "bench0", procedures, 0, Results(), seed=0)
            warm.login()
            for _ in range(args.workers * 2):
                for _pk, url in procedures:  # compile templates and fill each worker's caches
                    warm.session.get(base + url, timeout=60)
            print(f"gunicorn: {args.workers} workers x {args.threads} threads on {base}")
            db_path = Path(var_dir) / "bench.sqlite3"
            think = tuple(args.think)
            summaries = [phase(base, n, procedures, args.seconds, db_path, think) for n in args.agents]
    print("\nsummary:")
    ok = True
    for s in summaries:
        print(
            f"  {s['agents']:3d} agents: move p50 {s['move_p50']:.1f} ms, p95 {s['move_p95']:.1f} ms; "
            f"step page p95 {s['page_p95']:.1f} ms; errors {s['errors']}; lost {s['lost']}; doubled {s['doubled']}"
        )
        ok = ok and s["errors"] == 0 and s["lost"] == 0 and s["doubled"] == 0
    top = summaries[-1]
    print(
        f"target (p95 < 100 ms at {top['agents']} agents, no errors, no lost/doubled events): "
        + ("met" if ok and top["move_p95"] < 100 else "NOT met")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
