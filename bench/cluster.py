"""Benchmark: two app servers on one PostgreSQL (issue 14, "Several app servers"; not a test).

Starts a throwaway PostgreSQL cluster (or uses ``DATABASE_URL``), migrates, loads the demo and builds the
search index with the PostgreSQL search backend (``search.backend_pg``; ``--search whoosh``: the Whoosh index
in the var directory both servers share), then serves the site with two gunicorn servers on two ports (same
settings, same database; production's ``kb_site/gunicorn.conf.py``: preloaded, 2 × CPUs + 1 sync workers)
and the task worker (``manage.py db_worker``) beside them.

Simulated agents (threads with a requests session each, spread over several client processes: one per 100
agents, ``--clients``) log in once, then run demo procedures step by step with 5–20 s think time per step
(and between calls), spread over both servers, as ``bench/procedures.py``'s agents do (random answers,
inputs, checklists, some Backs, endings and 10% deliberate double submits).
Meanwhile a supervisor publishes new articles through the admin on server A, and a search on server B
(``/search/api/``, polled every 100 ms) times how long until each is found. Then the same logged-in agents run
the same load against server A alone, in the same run. After each phase the run log is read back event by
event: every move that got a success response is logged exactly once, in the order it was made, with the
action taken; nothing else is logged for the agents' runs, and no run's sequence numbers have a gap.

    .venv/bin/python bench/cluster.py                             # 500 agents, 300 s per phase
    .venv/bin/python bench/cluster.py --agents 40 --duration 60  # a quick try

Targets: move p95 ≤ 100 ms, 0 errors, 0 lost or doubled events, a page published on one server found by
search on the other within 2 s. Latency is measured by the client (request sent → response read); the
server-side column is gunicorn's own request time (access log ``%(D)s``), which excludes queueing in the
listen backlog and the client's own scheduling. The CPU the client processes, the servers and the whole
machine used in each phase is reported beside them. Figures, and what 500 agents do to this 2-CPU machine:
README, "Two app servers on one PostgreSQL".
"""

import argparse
import contextlib
import datetime
import multiprocessing
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests
from serving import (
    BASE_DIR,
    GUNICORN_CONFIG,
    PYTHON,
    bench_env,
    gunicorn,
    login,
    manage,
    percentile,
    postgres,
    stop,
)

from procedures import MAKE_AGENTS, PASSWORD, Agent

# Server-side times: method, path, status, microseconds and end (to the second) of every request, a line each.
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s %(t)s"  # %(t)s: when it ended, to the second

SEARCH_BACKENDS = {
    "pg": '{"default": {"BACKEND": "search.backend_pg", "AUTO_UPDATE": True}}',
    "whoosh": (
        '{"default": {"BACKEND": "search.backend", "PATH": VAR_DIR / "search-index", "LOCK_TIMEOUT": 30,'
        ' "AUTO_UPDATE": True}}'
    ),
}

EXTRA_SETTINGS = """
DATABASES = {{"default": database_from_url({url!r})}}  # base.py's, as DATABASE_URL gives it
WAGTAILSEARCH_BACKENDS = {search}
"""

# bench/procedures.py's agents, and the first section (where the publisher adds articles).
SETUP = (
    MAKE_AGENTS
    + """
from kb_site.content.models import SectionPage
print("SECTION", SectionPage.objects.live().order_by("path").first().pk)
"""
)

PUBLISHER = ("supervisor", "callbook-supervisor")  # a demo user (load_demo --demo-users) who may publish


@dataclass
class Server:
    name: str
    base: str
    access_log: Path
    pid_file: Path


def loadavg():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- set-up -------------------------------------------------------------------------------------------


def setup(env, agents):
    started = time.monotonic()
    manage(env, "migrate", "--noinput", "-v0")
    migrated = time.monotonic()
    manage(env, "load_demo", "--demo-users")
    loaded = time.monotonic()
    manage(env, "update_index")
    indexed = time.monotonic()
    output = manage(env, "shell", "-c", SETUP.format(count=agents, password=PASSWORD), capture=True)
    procedures = [line.split()[1:] for line in output.splitlines() if line.startswith("PROCEDURE")]
    section = int(next(line.split()[1] for line in output.splitlines() if line.startswith("SECTION")))
    print(
        f"setup: migrate {migrated - started:.0f} s, load_demo {loaded - migrated:.0f} s, update_index "
        f"{indexed - loaded:.0f} s, {agents} agents {time.monotonic() - indexed:.0f} s; "
        f"{len(procedures)} procedures"
    )
    return [(int(pk), url) for pk, url in procedures], section


@contextlib.contextmanager
def task_worker(env, interval, log_path):
    with open(log_path, "w") as log:
        command = [
            PYTHON,
            str(BASE_DIR / "manage.py"),
            "db_worker",
            "--no-reload",
            "--interval",
            str(interval),
        ]
        worker = subprocess.Popen(command, env=env, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield worker
        finally:
            stop(worker)


# --- agents --------------------------------------------------------------------------------------------


ERROR_TEXT = re.compile(
    r'class="[^"]*(?:errorlist|form-error|messages?)[^"]*"[^>]*>\s*(?:<li[^>]*>)?([^<]{1,120})'
)


class AgentLog:
    """What one agent saw in one phase (merged after the phase: no locks needed)."""

    def __init__(self, agent):
        self.agent = agent
        self.latencies = defaultdict(list)  # (server, kind) -> [(sent, ms)], sent: time.monotonic()
        self.errors = []  # (server, message)
        self.moves = defaultdict(list)  # run id -> [(seq, step, action)] in the order made
        self.double_submits = 0
        self.started = []  # run ids (hex) this agent started
        self.unanswered = []  # (run id, seq, step, action) of moves that got no response (timeouts)

    def latency(self, kind, sent, seconds):
        self.latencies[(self.agent.server.name, kind)].append((sent, seconds * 1000))

    def accepted(self, run_id, seq, step, *args):
        self.moves[run_id.replace("-", "")].append((seq, step, self.agent.last_action))

    def error(self, message):
        self.errors.append((self.agent.server.name, message))

    def outcome(self):
        """What the phase merges, as plain data (sent back from the agent's client process)."""
        return {
            "latencies": dict(self.latencies),
            "errors": self.errors
            + (
                [(self.agent.server.name, f"{self.agent.username}: still running after the phase")]
                if self.agent.is_alive()
                else []
            ),
            "moves": dict(self.moves),
            "double_submits": self.double_submits,
            "started": self.started,
            "unanswered": self.unanswered,
        }


class ClusterAgent(Agent):
    """``bench/procedures.py``'s agent on a session logged in once, sending each request to its home server
    (``--balance agent``) or to a server picked per request (``--balance request``, a balancer without
    sticky sessions), and going on with a new call after an error."""

    def __init__(self, number, session, home, servers, balance, procedures, deadline, think):
        super().__init__(
            home.base, f"bench{number}", procedures, deadline, None, seed=number * 7919, think=think
        )
        self.session = session
        self.home = home
        self.servers = servers
        self.balance = balance
        self.server = home
        self.last_action = self.last_path = None
        self.results = AgentLog(self)

    def timed(self, method, path, kind, **kwargs):
        self.server = self.home if self.balance == "agent" else self.random.choice(self.servers)
        if kind == "move":
            data = kwargs.get("data") or {}
            self.last_action = data.get("action", "answer" if "answer" in data else None)
        self.last_path = path
        sent, started = time.monotonic(), time.perf_counter()
        try:
            response = self.session.request(
                method, self.server.base + path, allow_redirects=False, timeout=30, **kwargs
            )
        except requests.RequestException:
            if kind == "move":  # no answer: the server may or may not have logged it
                data = kwargs.get("data") or {}
                self.results.unanswered.append(
                    (
                        path.split("/")[3].replace("-", ""),
                        int(data.get("seq", 0)),
                        data.get("step"),
                        self.last_action,
                    )
                )
            raise
        self.results.latency(kind, sent, time.perf_counter() - started)
        if kind == "start" and response.status_code == 302:  # the run page: /procedures/runs/<id>/
            self.results.started.append(
                response.headers["Location"].rstrip("/").rsplit("/", 1)[-1].replace("-", "")
            )
        return response

    def expect(self, response, status, what):
        if response.status_code != status:
            shown = " / ".join(ERROR_TEXT.findall(response.text))[:200]
            raise RuntimeError(f"{what} ({self.last_path}): HTTP {response.status_code} {shown}")

    def run(self):
        time.sleep(self.random.uniform(0, self.think[1]))  # calls do not all start in the same second
        while time.monotonic() < self.deadline:
            try:
                self.run_procedure()
            except Exception as error:  # every failure counts, none stops the agent
                self.results.error(f"{self.username}: {type(error).__name__}: {error}")
            time.sleep(max(min(self.random.uniform(*self.think), self.deadline - time.monotonic()), 0))


def log_in_all(servers, count):
    """One session per agent, logged in once on its home server (sessions live in the database, so the
    cookie is good on both)."""
    with ThreadPoolExecutor(8) as pool:
        return list(
            pool.map(
                lambda number: login(servers[number % len(servers)].base, f"bench{number}", PASSWORD),
                range(count),
            )
        )


def cpu_seconds():
    """This process's CPU time (user + system, every thread)."""
    times = os.times()
    return times.user + times.system


def client_process(numbers, make_agent, sessions, deadline, pipe):
    """One client process (forked): the agents ``numbers`` as threads until ``deadline``; sends back each
    agent's outcome, its session's cookies (the next phase goes on with them) and the process's CPU seconds."""
    cpu = cpu_seconds()
    agents = [make_agent(number) for number in numbers]
    for agent in agents:
        agent.start()
    for agent in agents:
        agent.join(max(deadline - time.monotonic(), 0) + 180)
    pipe.send(
        {
            "outcomes": [agent.results.outcome() for agent in agents],
            "cookies": {number: sessions[number].cookies for number in numbers},
            "cpu": cpu_seconds() - cpu,
        }
    )
    pipe.close()


def start_agents(args, sessions, make_agent, deadline):
    """The agents spread over ``args.clients`` forked client processes (agent n in process n mod clients,
    each agent a thread there): 500 agents' threads in one Python process wait for its one interpreter
    lock (and their requests' own CPU) and measure that, not the servers. ``finish_agents`` waits for
    them."""
    context = multiprocessing.get_context("fork")  # the sessions and agents' arguments go as they are
    clients = max(min(args.clients, args.agents), 1)
    pipes, processes = [], []
    for index in range(clients):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=client_process,
            args=(range(index, args.agents, clients), make_agent, sessions, deadline, send),
            daemon=True,
        )
        process.start()
        send.close()
        pipes.append(receive)
        processes.append(process)
    return pipes, processes


def finish_agents(started, sessions):
    """The outcomes of every agent ``start_agents`` started and the client processes' CPU seconds; the
    parent's ``sessions`` take the cookies the agents ended with."""
    pipes, processes = started
    outcomes, cpu = [], 0.0
    for receive in pipes:  # read before joining: a large result would otherwise block its sender
        result = receive.recv()
        outcomes += result["outcomes"]
        cpu += result["cpu"]
        for number, cookies in result["cookies"].items():
            sessions[number].cookies = cookies
    for process in processes:
        process.join(60)
    return outcomes, cpu


def servers_cpu(servers):
    """CPU seconds of each server's gunicorn master and workers so far (workers that ended count through
    the master's children's times)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for server in servers:
        master = server.pid_file.read_text().strip()
        workers = subprocess.run(["pgrep", "-P", master], capture_output=True, text=True).stdout.split()
        for pid in [master, *workers]:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += sum(int(x) for x in fields[11:13])  # utime, stime
                if pid == master:
                    total += sum(int(x) for x in fields[13:15])  # cutime, cstime
    return total / tick


def machine_cpu():
    """(busy, all) CPU seconds of the whole machine since boot, every process of every user."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - fields[3] - fields[4]) / tick, sum(fields) / tick


# --- publish on one server, search on the other ---------------------------------------------------------------


def publish_article(session, base, section, token):
    """Add and publish an article through the admin's add form (as the editor posts it); its slug."""
    slug = f"cluster-{token.lower()}"
    add_url = f"{base}/admin/pages/add/content/articlepage/{section}/"
    form = session.get(add_url, timeout=30)
    if form.status_code != 200:
        raise RuntimeError(f"admin add form: HTTP {form.status_code}")
    data = {
        "csrfmiddlewaretoken": session.cookies.get("csrftoken"),
        "title": f"集群演练公告 {token}",
        "slug": slug,
        "summary": f"发布后多久能在另一台服务器上搜到（{token}）",
        "body-count": "1",
        "body-0-type": "heading",
        "body-0-value": f"集群演练 {token}",
        "body-0-deleted": "",
        "body-0-order": "0",
        "body-0-id": "",
        "tags": "",
        "related_pages-TOTAL_FORMS": "0",
        "related_pages-INITIAL_FORMS": "0",
        "related_pages-MIN_NUM_FORMS": "0",
        "related_pages-MAX_NUM_FORMS": "1000",
        "maintainer": "",
        "last_reviewed": datetime.date.today().isoformat(),
        "review_interval_days": "180",
        "change_class": "",
        "change_summary": "",
        "action-publish": "action-publish",
    }
    response = session.post(add_url, data, allow_redirects=False, timeout=30)
    if response.status_code != 302:
        raise RuntimeError(f"publish: HTTP {response.status_code} {response.text[:300]!r}")
    return slug


def found(session, base, token, slug):
    response = session.get(f"{base}/search/api/", params={"q": token}, timeout=30)
    response.raise_for_status()
    return any(f"/{slug}/" in hit["url"] for hit in response.json()["results"])


def publisher(session, source, target, section, count, start_in, every, deadline, out):
    """Publish ``count`` articles on ``source``, ``every`` seconds apart; after each, search on ``target``
    every 100 ms until it is found (30 s at most). Appends (publish POST ms, seconds until found or None)."""
    rng = random.Random()
    time.sleep(start_in)
    for number in range(count):
        if time.monotonic() > deadline:
            break
        token = f"CB{rng.randint(100000, 999999)}{number}"
        try:
            posted = time.perf_counter()
            slug = publish_article(session, source.base, section, token)
            published = time.perf_counter()
            seconds = None
            while time.perf_counter() - published < 30:
                polled = time.perf_counter()
                if found(session, target.base, token, slug):
                    seconds = time.perf_counter() - published
                    break
                time.sleep(max(0.1 - (time.perf_counter() - polled), 0))
            out.append(((published - posted) * 1000, seconds, None))
        except Exception as error:
            out.append((None, None, f"{type(error).__name__}: {error}"))
        time.sleep(every)


# --- the run log, event by event ------------------------------------------------------------------------------

AGENT_ACTION = {"input": "next"}  # Next on an input step is logged as 采集 (input)


def check_log(url, since, moves, runs_started, unanswered=()):
    """Compare the moves the agents saw accepted with the run log of the runs started since ``since``.

    ``moves``: run id (hex) → [(seq, step, action)] in the order made. Returns counts: lost (accepted, not
    logged), doubled (logged more often than accepted, or logged and never accepted), out_of_order (runs
    whose logged order differs from the order made, or whose times go backwards), gaps (runs whose sequence
    numbers skip), unknown_runs (started in the log, never seen by an agent: a start without a response),
    logged_unanswered (logged moves whose request got no response: ``unanswered``, timeouts)."""
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT replace(e.run_id::text, '-', ''), e.seq, e.step_key, e.kind, e.action, e.left_at "
            "FROM procedures_runevent e JOIN procedures_procedurerun r ON r.id = e.run_id "
            "WHERE r.ref = 'bench' AND r.started_at >= %s ORDER BY e.run_id, e.seq",
            (since,),
        ).fetchall()
        started = {
            run_id
            for (run_id,) in connection.execute(
                "SELECT replace(id::text, '-', '') FROM procedures_procedurerun WHERE ref = 'bench' AND started_at >= %s",
                (since,),
            )
        }
    logged = defaultdict(list)
    for run_id, seq, step, kind, action, left in rows:
        # what the engine logs by itself: a rule's branch, an outcome step, a sub-procedure's return
        # (logged on the calling 子流程 step)
        automatic = kind in ("rule", "subprocedure") or action == "outcome"
        logged[run_id].append((seq, step, action, automatic, left))
    counts, examples = Counter(), []
    for run_id in set(logged) | set(moves):
        events = logged.get(run_id, [])
        seqs = [event[0] for event in events]
        counts["gaps"] += seqs != list(range(1, len(seqs) + 1))
        counts["duplicate_seq"] += len(seqs) - len(set(seqs))
        made = list(moves.get(run_id, []))
        by_agent = [(s, k, AGENT_ACTION.get(a, a)) for s, k, a, automatic, _left in events if not automatic]
        expected = [(s, k, AGENT_ACTION.get(a, a)) for s, k, a in made]
        counts["lost"] += sum((Counter(expected) - Counter(by_agent)).values())
        extra = Counter(by_agent) - Counter(expected)
        no_response = Counter(
            (seq, step, AGENT_ACTION.get(a, a)) for run, seq, step, a in unanswered if run == run_id
        )
        counts["logged_unanswered"] += sum((extra & no_response).values())
        counts["doubled"] += sum((extra - no_response).values())
        if expected != by_agent and len(examples) < 5:
            examples.append((run_id, expected, by_agent))
        lefts = [event[4] for event in events]
        if Counter(expected) == Counter(by_agent) and (by_agent != expected or lefts != sorted(lefts)):
            counts["out_of_order"] += 1
    counts["unknown_runs"] = len(started - set(runs_started))
    counts["runs"] = len(set(runs_started))
    counts["events"] = len(rows)
    for run_id, expected, by_agent in examples:
        print(f"  run {run_id}: moves accepted {expected}; logged {by_agent}")
    return counts


def server_side(servers, offsets, wall_started):
    """Server-side (seconds from ``wall_started`` to the request's end, milliseconds) per (server, kind) from
    the access logs, from ``offsets`` on."""
    times = defaultdict(list)
    for server in servers:
        with open(server.access_log, encoding="utf-8", errors="replace") as log:
            log.seek(offsets.get(server.name, 0))
            for line in log:
                parts = line.split(maxsplit=4)
                if len(parts) != 5 or not parts[3].isdigit():
                    continue
                method, path, _status, micro, ended = parts
                ended = datetime.datetime.strptime(ended.strip(), "[%d/%b/%Y:%H:%M:%S %z]").timestamp()
                times[(server.name, request_kind(method, path))].append(
                    (ended - wall_started, int(micro) / 1000)
                )
    return times


def timeline(latencies, backend_times, servers, step=30):
    """Moves and calls started, and move p95 as the agents and as the servers saw it, in ``step``-second
    windows of the phase: where the slow moves are."""

    def window(pairs):
        windows = defaultdict(list)
        for at, ms in pairs:
            windows[int(at // step)].append(ms)
        return windows

    names = [server.name for server in servers]
    moves = window(pair for name in names for pair in latencies.get((name, "move"), []))
    starts = window(pair for name in names for pair in latencies.get((name, "start"), []))
    on_servers = window(pair for name in names for pair in backend_times.get((name, "move"), []))
    for index in sorted(set(moves) | set(starts)):
        print(
            f"    {index * step:4d}–{(index + 1) * step:<4d} s: {len(starts[index]):4d} calls started, "
            f"{len(moves[index]):5d} moves, move p95 {percentile(moves[index], 0.95):7.1f} ms "
            f"(on the servers {percentile(on_servers[index], 0.95):6.1f} ms)"
        )


def request_kind(method, path):
    if path.startswith("/procedures/runs/"):
        return "move" if path.endswith("/move/") else "step_page"
    if path.startswith("/procedures/start/"):
        return "start"
    if path.startswith("/search/"):
        return "search"
    if path.startswith("/admin/"):
        return f"admin {method}"
    return "other"


def profile(server, args, name):
    """py-spy on every worker of ``server`` for ``args.profile`` seconds from the middle of the phase, in the
    background: collapsed stacks (``--format raw``) in ``args.profile_dir``."""
    pid = server.pid_file.read_text().strip()
    workers = subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True).stdout.split()
    out = Path(args.profile_dir)
    out.mkdir(parents=True, exist_ok=True)

    def record():
        time.sleep(args.duration / 2)
        spies = [
            subprocess.Popen(
                [
                    str(Path(PYTHON).parent / "py-spy"),
                    "record",
                    "--pid",
                    worker,
                    "--duration",
                    str(args.profile),
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--output",
                    str(out / f"{name}-{server.name}-{worker}.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for worker in workers
        ]
        for spy in spies:
            spy.wait()

    threading.Thread(target=record, daemon=True).start()


# --- one phase -------------------------------------------------------------------------------------------------


def phase(name, url, servers, sessions, args, procedures, section, publisher_session, publish_to):
    """Run the agents against ``servers`` for ``args.duration`` seconds; while they run, publish on
    ``servers[0]`` and search on ``publish_to``. Returns the phase's figures."""
    print(
        f"\n== {name}: {args.agents} agents on {', '.join(s.name for s in servers)} for {args.duration} s =="
    )
    print(f"  load average at start: {loadavg()}")
    with psycopg.connect(url) as connection:
        since = connection.execute("SELECT now()").fetchone()[0]
    offsets = {s.name: s.access_log.stat().st_size for s in servers}
    wall_started, started = time.time(), time.monotonic()
    deadline = started + args.duration

    def make_agent(number):
        return ClusterAgent(
            number,
            sessions[number],
            servers[number % len(servers)],
            servers,
            args.balance,
            procedures,
            deadline,
            tuple(args.think),
        )

    published = []
    publishing = threading.Thread(
        target=publisher,
        args=(
            publisher_session,
            servers[0],
            publish_to,
            section,
            args.publishes,
            args.duration * 0.25,
            args.duration * 0.6 / max(args.publishes, 1),
            deadline,
            published,
        ),
        daemon=True,
    )
    cpu = {"parent": cpu_seconds(), "servers": servers_cpu(servers), "machine": machine_cpu()}
    measured_from = time.monotonic()
    if args.profile:
        profile(servers[0], args, name)
    clients = start_agents(args, sessions, make_agent, deadline)
    publishing.start()  # after the client processes are forked: a fork copies no running thread
    outcomes, clients_cpu = finish_agents(clients, sessions)
    publishing.join(60)
    elapsed = time.monotonic() - started
    measured = time.monotonic() - measured_from
    busy, total = machine_cpu()
    cpu = {
        "client": clients_cpu + cpu_seconds() - cpu["parent"],
        "servers": servers_cpu(servers) - cpu["servers"],
        "machine": busy - cpu["machine"][0],
        "cpus": (total - cpu["machine"][1]) / measured,
        "seconds": measured,
    }
    print(f"  load average at end: {loadavg()} (phase took {elapsed:.0f} s)")

    latencies, errors, moves, runs, doubles, unanswered = defaultdict(list), [], {}, [], 0, []
    for outcome in outcomes:
        for key, values in outcome["latencies"].items():
            latencies[key] += [(sent - started, ms) for sent, ms in values]
        errors += outcome["errors"]
        moves.update(outcome["moves"])
        doubles += outcome["double_submits"]
        runs += outcome["started"]
        unanswered += outcome["unanswered"]
    requests_made = sum(len(values) for values in latencies.values())
    cpu["requests"] = requests_made
    print(
        f"  CPU over the phase ({measured:.0f} s, {cpu['cpus']:.1f} CPUs): client ({args.clients} processes "
        f"and the publisher) {cpu['client']:.1f} s = {cpu['client'] / measured:.0%} of one CPU, "
        f"{cpu['client'] * 1000 / max(requests_made, 1):.2f} ms a request ({requests_made} requests); "
        f"both gunicorn servers {cpu['servers']:.1f} s = {cpu['servers'] / measured:.0%}; the whole machine "
        f"{cpu['machine']:.1f} s = {cpu['machine'] / measured:.0%} (PostgreSQL, the task worker, others' jobs)"
    )
    counts = check_log(url, since, moves, runs, unanswered)
    timed = server_side(servers, offsets, wall_started)
    backend_times = {key: [ms for _at, ms in pairs] for key, pairs in timed.items()}

    rows = []
    for server in servers:
        moved = latencies.get((server.name, "move"), [])
        move = [ms for _at, ms in moved]
        page = [ms for _at, ms in latencies.get((server.name, "step_page"), [])]
        server_moves = backend_times.get((server.name, "move"), [])
        rows.append(
            {
                "config": name,
                "server": server.name,
                "moves": len(move),
                "move_p50": statistics.median(move) if move else float("nan"),
                "move_p95": percentile(move, 0.95),
                "settled_p95": percentile([ms for at, ms in moved if at >= args.settle], 0.95),
                "move_max": max(move) if move else float("nan"),
                "page_p95": percentile(page, 0.95),
                "server_move_p95": percentile(server_moves, 0.95),
                "errors": sum(1 for where, _ in errors if where == server.name),
            }
        )
    print("  timeline:")
    timeline(latencies, timed, servers)
    for server in servers:
        print(
            f"  server-side on {server.name} (ms, p50 / p95 / n): "
            + "; ".join(
                f"{kind} {statistics.median(values):.0f} / {percentile(values, 0.95):.0f} / {len(values)}"
                for (name, kind), values in sorted(backend_times.items())
                if name == server.name
            )
        )
    for where, message in errors[:10]:
        print(f"  error on {where}: {message}")
    for _posted, _seconds, problem in published:
        if problem:
            print(f"  publish error: {problem}")
    print(
        f"  {sum(len(m) for m in moves.values())} moves accepted in {counts['runs']} runs "
        f"(plus {doubles} deliberate double submits); {counts['events']} events logged"
    )
    return {
        "name": name,
        "rows": rows,
        "errors": len(errors),
        "counts": counts,
        "published": published,
        "publish_route": f"{servers[0].name} → {publish_to.name}",
        "load": loadavg(),
        "elapsed": elapsed,
        "cpu": cpu,
    }


def report(results, args, search):
    workers = args.workers or f"{(os.cpu_count() or 1) * 2 + 1} (the config's)"
    print(
        f"\n## {args.agents} agents in {args.clients} client processes, think time {args.think[0]:g}–"
        f"{args.think[1]:g} s, {args.duration} s per phase; gunicorn {workers} workers × {args.threads} "
        f"thread(s) per server{'' if args.no_config else ', kb_site/gunicorn.conf.py'}; search: {search}"
    )
    print(
        "\n| config | server | moves | move p50 | move p95 | move p95 from "
        f"{args.settle} s on | move max | step page p95 | server-side move p95 | errors |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        for row in result["rows"]:
            print(
                f"| {row['config']} | {row['server']} | {row['moves']:,} | {row['move_p50']:.1f} ms | "
                f"{row['move_p95']:.1f} ms | {row['settled_p95']:.1f} ms | {row['move_max']:,.0f} ms | "
                f"{row['page_p95']:.1f} ms | {row['server_move_p95']:.1f} ms | {row['errors']} |"
            )
    print(
        "\n| config | runs | events logged | lost | doubled | out of order | seq gaps | runs started unanswered "
        "| moves logged unanswered |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        c = result["counts"]
        print(
            f"| {result['name']} | {c['runs']} | {c['events']} | {c['lost']} | {c['doubled'] + c['duplicate_seq']} | "
            f"{c['out_of_order']} | {c['gaps']} | {c['unknown_runs']} | {c['logged_unanswered']} |"
        )
    print("\n| config | published on → searched on | publishes | publish POST | found after (each) | worst |")
    print("| --- | --- | --- | --- | --- | --- |")
    for result in results:
        done = [(p, s) for p, s, problem in result["published"] if not problem]
        failed = len(result["published"]) - len(done)
        each = ", ".join("not found" if s is None else f"{s:.2f} s" for _p, s in done) or "–"
        seconds = [s for _p, s in done if s is not None]
        worst = "not found" if len(seconds) < len(done) else (f"{max(seconds):.2f} s" if seconds else "–")
        posts = f"{statistics.median([p for p, _s in done]):.0f} ms" if done else "–"
        print(
            f"| {result['name']} | {result['publish_route']} | {len(done)}"
            + (f" (+{failed} failed)" if failed else "")
            + f" | {posts} | {each} | {worst} |"
        )
    print(
        "\n| config | requests | client CPU | client CPU a request | servers' CPU | servers' CPU a move "
        "(every request counted) | whole machine busy |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        cpu, moves = result["cpu"], sum(row["moves"] for row in result["rows"])
        print(
            f"| {result['name']} | {cpu['requests']:,} | {cpu['client'] / cpu['seconds']:.0%} of a CPU | "
            f"{cpu['client'] * 1000 / max(cpu['requests'], 1):.2f} ms | {cpu['servers'] / cpu['seconds']:.0%} | "
            f"{cpu['servers'] * 1000 / max(moves, 1):.1f} ms | {cpu['machine'] / cpu['seconds'] / cpu['cpus']:.0%} "
            f"of {cpu['cpus']:.0f} CPUs |"
        )
    print(
        "\nload average (1/5/15 min) at the end of each phase: "
        + "; ".join(f"{r['name']} {r['load']}" for r in results)
    )

    ok = True
    for result in results:
        c = result["counts"]
        p95 = max(row["move_p95"] for row in result["rows"])
        seconds = [s for _p, s, problem in result["published"] if not problem]
        ok = ok and p95 <= 100 and result["errors"] == 0 and c["lost"] == 0 and c["doubled"] == 0
        ok = ok and c["duplicate_seq"] == 0 and c["out_of_order"] == 0 and c["gaps"] == 0
        ok = (
            ok and all(s is not None and s <= 2 for s in seconds) and len(seconds) == len(result["published"])
        )
    print(
        "targets (move p95 ≤ 100 ms, 0 errors, 0 lost/doubled events, found within 2 s): "
        + ("met" if ok else "NOT met")
    )
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--duration", type=int, default=300, help="seconds each phase runs")
    parser.add_argument("--think", type=float, nargs=2, default=[5.0, 20.0], metavar=("MIN", "MAX"))
    parser.add_argument(
        "--clients",
        type=int,
        default=None,
        help="client processes the agents are spread over (default: one per 100 agents, at least 1)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="gunicorn workers per server (default: kb_site/gunicorn.conf.py's, 2 × CPUs + 1)",
    )
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync workers)")
    parser.add_argument(
        "--no-config",
        action="store_true",
        help="plain `gunicorn --preload` without kb_site/gunicorn.conf.py (3 workers unless --workers)",
    )
    parser.add_argument(
        "--balance",
        choices=["agent", "request"],
        default="agent",
        help="each agent on one server, or each request to a server picked at random",
    )
    has_pg = (BASE_DIR / "search" / "backend_pg").exists() or (BASE_DIR / "search" / "backend_pg.py").exists()
    parser.add_argument("--search", choices=sorted(SEARCH_BACKENDS), default="pg" if has_pg else "whoosh")
    parser.add_argument(
        "--cache",
        choices=["database", "locmem"],
        default="database",
        help="CALLBOOK_CACHE: Django's cache shared by every process (database) or one per process (locmem)",
    )
    parser.add_argument(
        "--settle",
        type=int,
        default=30,
        help="a second move p95 counts the moves sent from this many seconds into the phase on (every "
        "agent's first call starts in its first 20 s)",
    )
    parser.add_argument("--publishes", type=int, default=5, help="articles published per phase")
    parser.add_argument("--worker-interval", type=float, default=1.0, help="db_worker's polling interval (s)")
    parser.add_argument(
        "--warmup", type=int, default=30, help="seconds of unmeasured load on both servers first"
    )
    parser.add_argument("--profile", type=int, default=0, help="py-spy server A's workers this many seconds")
    parser.add_argument("--profile-dir", default="var/bench/cluster-profile")
    parser.add_argument("--phases", nargs="+", choices=["cluster", "single"], default=["cluster", "single"])
    args = parser.parse_args()
    if args.clients is None:
        args.clients = max(round(args.agents / 100), 1)
    if args.no_config and not args.workers:
        args.workers = 3
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (servers, PostgreSQL) as on Ctrl-C

    print(
        f"machine: {os.cpu_count()} CPUs; uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}"
    )
    with (
        tempfile.TemporaryDirectory(prefix="callbook-cluster-") as var_dir,
        postgres(settings=["max_connections=300"]) as url,
    ):
        var = Path(var_dir)
        env = bench_env(var_dir, EXTRA_SETTINGS.format(url=url, search=SEARCH_BACKENDS[args.search]))
        env["CALLBOOK_CACHE"] = args.cache
        procedures, section = setup(env, args.agents)
        options = ["--access-logformat", ACCESS_FORMAT] + (["--preload"] if args.no_config else [])
        with contextlib.ExitStack() as stack:
            stack.enter_context(task_worker(env, args.worker_interval, var / "worker.log"))
            servers = []
            for name in ("A", "B"):
                access = var / f"access-{name}.log"
                access.touch()
                log = stack.enter_context(open(var / f"server-{name}.log", "w"))
                base = stack.enter_context(
                    gunicorn(
                        env,
                        workers=args.workers,
                        threads=args.threads if args.threads > 1 else None,
                        config=None if args.no_config else GUNICORN_CONFIG,
                        options=[
                            *options,
                            "--access-logfile",
                            str(access),
                            "--pid",
                            str(var / f"{name}.pid"),
                        ],
                        log_file=log,
                    )
                )
                servers.append(Server(name, base, access, var / f"{name}.pid"))
            print(
                f"servers: A {servers[0].base}, B {servers[1].base}; worker every {args.worker_interval:g} s"
            )

            logged_in = time.monotonic()
            sessions = log_in_all(servers, args.agents)
            supervisor = login(servers[0].base, *PUBLISHER)
            print(f"{args.agents} agents logged in (once each) in {time.monotonic() - logged_in:.0f} s")
            for server in servers:  # each worker compiles its templates before anything is measured
                for _ in range((args.workers or (os.cpu_count() or 1) * 2 + 1) * 2):
                    for _pk, page in procedures:
                        sessions[0].get(server.base + page, timeout=60)

            if args.warmup:  # every worker has served steps, moves and searches before anything is measured
                warm = argparse.Namespace(
                    **{**vars(args), "agents": min(args.agents, 30), "duration": args.warmup}
                )
                warm.think, warm.publishes, warm.profile = (0.2, 1.0), 1, 0
                phase(
                    "warm-up (not counted)",
                    url,
                    servers,
                    sessions,
                    warm,
                    procedures,
                    section,
                    supervisor,
                    servers[1],
                )
            results = []
            for name in args.phases:
                if name == "cluster":
                    results.append(
                        phase(
                            "two servers",
                            url,
                            servers,
                            sessions,
                            args,
                            procedures,
                            section,
                            supervisor,
                            servers[1],
                        )
                    )
                else:
                    results.append(
                        phase(
                            "one server",
                            url,
                            servers[:1],
                            sessions,
                            args,
                            procedures,
                            section,
                            supervisor,
                            servers[0],
                        )
                    )
            problems = [
                line
                for name in ("A", "B")
                for line in (var / f"server-{name}.log").read_text().splitlines()
                if "Traceback" in line or "ERROR" in line
            ]
            if problems:
                print(f"server logs: {len(problems)} error lines, e.g. {problems[:3]}")
    return 0 if report(results, args, args.search) else 1


if __name__ == "__main__":
    sys.exit(main())
