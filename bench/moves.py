"""Benchmark: server CPU per move, moves a second at saturation, and worker memory (not a test).

A move is what an agent's click costs the server: the POST of the step form and the GET of the next
step page it redirects to. Serves the app with gunicorn (sync workers, ``kb_site/gunicorn.conf.py``
unless ``--no-config``) on a fresh SQLite database with the demo loaded; each simulated agent logs in
once (as a person does; the login hasher is the production one, Django's PBKDF2), starts its runs,
and then, back to back, moves through them (random answers, typed inputs, ticked checklists, some
Backs). The workers' CPU time (``/proc/<pid>/stat`` utime + stime, master and workers) is read
before and after the moves only, so logins and starts are not in the per-move figure; the bench's
own CPU is reported beside it (client and server share this machine's CPUs). Afterwards every
accepted move is checked to be exactly one event in the run log. Memory: RSS, PSS and USS of each
worker and of the master (``/proc/<pid>/smaps_rollup``) after the load.

    .venv/bin/python bench/moves.py [--agents 6] [--seconds 20] [--workers 3] [--no-config]

Targets (issue 14): a move ≤ 10 ms of server CPU (≥ 150 moves a second on 2 CPUs); worker RSS ≤ 180 MB.
"""

import argparse
import importlib.util
import os
import queue
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from serving import BASE_DIR, bench_env, gunicorn, manage, percentile

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PBKDF2 = "\nPASSWORD_HASHERS = ['django.contrib.auth.hashers.PBKDF2PasswordHasher']\n"


def _bench_procedures():
    """bench/procedures.py by path: its name would shadow the ``procedures`` app on sys.path."""
    spec = importlib.util.spec_from_file_location("bench_procedures", BASE_DIR / "bench" / "procedures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench_procedures()


# --- the server's processes ---------------------------------------------------------------


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return sorted(found)


def cpu_seconds(pids):
    """utime + stime of ``pids`` (not of their children): seconds of CPU they have used."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def memory_mb(pid):
    """RSS, PSS and USS (private clean + dirty) of one process, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        values[name] = int(value.split()[0]) / 1024
    return values["Rss"], values["Pss"], values["Private_Clean"] + values["Private_Dirty"]


# --- the agents ---------------------------------------------------------------------------


class MoveAgent(bench.Agent):
    """Logs in once, starts ``runs`` runs, then moves through them until the deadline."""

    def __init__(self, *args, runs, **kwargs):
        super().__init__(*args, **kwargs)
        self.to_start = runs
        self.runs = queue.SimpleQueue()
        self.moves = 0
        self.go = threading.Event()

    def run(self):
        try:
            self.login()
            for _ in range(self.to_start):
                self.runs.put(self.start_procedure())
            self.results.started(self)
            self.go.wait()
            while time.monotonic() < self.deadline:
                if self.runs.empty():
                    self.results.error(f"{self.username}: ran out of started runs (raise --runs)")
                    return
                run_id, run_path = self.runs.get()
                while time.monotonic() < self.deadline and self.move(run_id, run_path):
                    self.moves += 1
        except Exception as error:  # every failure counts, none stops the others
            self.results.error(f"{self.username}: {type(error).__name__}: {error}")
            self.results.started(self)


class Results(bench.Results):
    def __init__(self, agents):
        super().__init__()
        self.ready = threading.Barrier(agents + 1)

    def started(self, agent):
        if not getattr(agent, "_counted", False):
            agent._counted = True
            self.ready.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=6, help="agents moving back to back at once")
    parser.add_argument("--seconds", type=int, default=20, help="how long the moves run")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument(
        "--no-config", action="store_true", help="plain `gunicorn kb_site.wsgi`, no config file"
    )
    parser.add_argument(
        "--setup-cache", metavar="FILE", help="reuse (or save) the prepared demo database here"
    )
    # 40 ran out within 18 s once a move cost ~11 ms (77 moves a second, ~6 moves a run)
    parser.add_argument("--runs", type=int, default=100, help="runs each agent starts before the moves")
    args = parser.parse_args()
    runs = args.runs

    with tempfile.TemporaryDirectory(prefix="callbook-bench-") as var_dir:
        env, procedures = setup(var_dir, args.agents, args.setup_cache)
        pid_file = Path(var_dir) / "gunicorn.pid"
        options = ["--pid", str(pid_file)]
        if not args.no_config:
            options += ["--config", str(BASE_DIR / "kb_site" / "gunicorn.conf.py")]
        results = Results(args.agents)
        with gunicorn(env, workers=args.workers, options=options) as base:
            master = int(pid_file.read_text())
            workers = children(master)
            memory_idle = [memory_mb(pid) for pid in workers]
            print(
                f"gunicorn: {len(workers)} sync workers on {base}"
                + ("" if args.no_config else " with kb_site/gunicorn.conf.py")
            )
            deadline = time.monotonic() + 10**6
            agents = [
                MoveAgent(base, f"bench{n}", procedures, deadline, results, seed=n * 7919, runs=runs)
                for n in range(args.agents)
            ]
            started = time.monotonic()
            logins_cpu = cpu_seconds([master, *workers])
            for agent in agents:
                agent.start()
            results.ready.wait()
            starts_cpu = cpu_seconds([master, *workers]) - logins_cpu
            print(
                f"{args.agents} logins and {args.agents * runs} starts in {time.monotonic() - started:.0f}s, "
                f"{starts_cpu:.1f} s of server CPU"
            )
            results.latencies.clear()
            results.moves.clear()
            load_before = os.getloadavg()[0]
            cpu_before = cpu_seconds([master, *workers])
            client_before = resource.getrusage(resource.RUSAGE_SELF)
            started = time.monotonic()
            for agent in agents:
                agent.deadline = started + args.seconds
                agent.go.set()
            for agent in agents:
                agent.join(args.seconds + 60)
            elapsed = time.monotonic() - started
            cpu = cpu_seconds([master, *workers]) - cpu_before
            client_after = resource.getrusage(resource.RUSAGE_SELF)
            client_cpu = (client_after.ru_utime + client_after.ru_stime) - (
                client_before.ru_utime + client_before.ru_stime
            )
            load_after = os.getloadavg()[0]
            memory_loaded = {pid: memory_mb(pid) for pid in children(master)}
            master_memory = memory_mb(master)
        lost, doubled = bench.check_events(Path(var_dir) / "bench.sqlite3", results, "2000-01-01 00:00:00")

    moves = sum(agent.moves for agent in agents)
    print(f"\n== {args.agents} agents back to back, {elapsed:.1f}s, {args.workers} sync workers ==")
    print(f"  moves (POST + next step page): {moves}, {moves / elapsed:.1f} a second")
    print(f"  server CPU: {cpu:.2f} s = {cpu * 1000 / max(moves, 1):.2f} ms a move")
    print(f"  bench's own CPU: {client_cpu:.2f} s = {client_cpu * 1000 / max(moves, 1):.2f} ms a move")
    for kind, values in sorted(results.latencies.items()):
        print(
            f"  {kind:10s} n={len(values):6d}  p50={statistics.median(values):7.1f} ms"
            f"  p95={percentile(values, 0.95):7.1f} ms"
        )
    print(f"  machine load average (1 min) before / after: {load_before:.1f} / {load_after:.1f}")
    print(f"  errors: {len(results.errors)}")
    for message in results.errors[:10]:
        print(f"    {message}")
    print(f"  events lost: {lost}, events doubled or unexpected: {doubled}")
    print("  memory (MB)            RSS     PSS     USS")
    print("    master          {:7.1f} {:7.1f} {:7.1f}".format(*master_memory))
    for pid, idle in zip(workers, memory_idle, strict=True):
        print("    worker idle     {:7.1f} {:7.1f} {:7.1f}".format(*idle))
        if pid in memory_loaded:
            print("    worker loaded   {:7.1f} {:7.1f} {:7.1f}".format(*memory_loaded[pid]))
    total_pss = master_memory[1] + sum(pss for _rss, pss, _uss in memory_loaded.values())
    print(f"    all processes' PSS (the memory the server takes): {total_pss:.0f} MB")
    per_move = cpu * 1000 / max(moves, 1)
    top_rss = max(rss for rss, _pss, _uss in memory_loaded.values())
    ok = not results.errors and not lost and not doubled
    print(
        f"targets: {per_move:.1f} ms of server CPU a move (≤ 10): {'met' if per_move <= 10 else 'NOT met'}; "
        f"largest worker RSS {top_rss:.0f} MB (≤ 180): {'met' if top_rss <= 180 else 'NOT met'}; "
        f"log {'intact' if ok else 'NOT intact'}"
    )
    return 0 if ok else 1


def setup(var_dir, agents, cache=None):
    """The demo database with ``agents`` agents whose passwords are hashed as in production; copied from
    ``cache`` when that file exists (made by an earlier run with the same option), saved there otherwise."""
    database = Path(var_dir) / "bench.sqlite3"
    if cache and Path(cache).exists():
        env = bench_env(var_dir)
        shutil.copyfile(cache, database)
        output = manage(env, "shell", "-c", bench.MAKE_AGENTS.format(count=0, password=""), capture=True)
        procedures = [line.split()[1:] for line in output.splitlines() if line.startswith("PROCEDURE")]
        procedures = [(int(pk), url) for pk, url in procedures]
    else:
        env, procedures = bench.setup(var_dir, 0)
    with open(Path(var_dir) / "settings" / "bench_settings.py", "a", encoding="utf-8") as settings:
        settings.write(PBKDF2)
    manage(env, "shell", "-c", bench.MAKE_AGENTS.format(count=agents, password=bench.PASSWORD), capture=True)
    if cache and not Path(cache).exists():
        manage(env, "shell", "-c", "from django.db import connection; connection.cursor().execute('VACUUM')")
        shutil.copyfile(database, cache)
    return env, procedures


if __name__ == "__main__":
    sys.exit(main())
