"""Benchmark: the follow-up queues and the sweep with 100,000 follow-ups (not a test).

Builds a fresh SQLite database: the demo content and procedures (``load_demo --no-users``), 50 agents in
5 groups (a lead each), a few thousand finished runs of the demo procedures (bulk-created with their
definition snapshot; no run events), and 100,000 follow-ups over them: kinds, priorities and assignment
(the agent, the group, or both) as the rules give them, created over the last 60 days, due one hour to
three working days later; about 70 % closed (done, 无法联系, 升级, 取消), the rest open or in progress, a
good part of them overdue, some rescheduled. Serves the site with gunicorn and times, over HTTP as one
agent:

- ``/followups/`` (我的) and ``/followups/?queue=overdue`` (已超时), ``--requests`` GETs each;

then one sweep (``manage.py followup_sweep``: due-soon, overdue and escalation notices) timed in process
(the first, which has every overdue follow-up to notify) and again as the command (the next minute's).

    .venv/bin/python bench/followups.py [--follow-ups 100000] [--runs 5000] [--requests 200] [--workers 3]
    .venv/bin/python bench/followups.py --keep /tmp/fu-bench --profile   # queries per page, slowest first

Targets: queue p95 ≤ 50 ms; a sweep ≤ 5 s.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import bench_env, gunicorn, login, manage, measure, percentile  # noqa: E402

PASSWORD = "bench-password-123"
AGENT = "bench-agent0"
QUEUES = [("/followups/", "我的 (mine)"), ("/followups/?queue=overdue", "已超时 (overdue)")]

BUILD = """
import datetime, random, uuid
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from kb_site.content import roles
from kb_site.content.models import SectionPage
from procedures.models import ProcedurePage, ProcedureRun, current_procedure
from followups.models import FollowUp, GroupLead
random.seed(11)
User = get_user_model()
now = timezone.now()
password = {password!r}
agent_role = Group.objects.get(name=roles.AGENT)
groups = [Group.objects.get_or_create(name=f"跟进{{g + 1}}组")[0] for g in range(5)]
lead = User.objects.create_user("bench-lead", password=password, first_name="组长")
lead.groups.add(Group.objects.get(name=roles.SUPERVISOR))
for group in groups:
    GroupLead.objects.update_or_create(group=group, defaults={{"user": lead}})
agents = []
for i in range(50):
    user = User.objects.create_user(f"bench-agent{{i}}", password=password, first_name=f"坐席{{i}}")
    user.groups.add(agent_role, groups[i % 5])
    agents.append(user)
pages = [page for page in ProcedurePage.objects.live().specific() if page.live_revision_id]
snapshots = {{page.pk: current_procedure(page.live_revision).to_dict() for page in pages}}
sections = {{page.pk: SectionPage.objects.ancestor_of(page).order_by("-depth").first() for page in pages}}
outcome_steps = {{
    page.pk: [s for s in snapshots[page.pk]["steps"] if s.get("kind") == "outcome"] for page in pages
}}
runs = []
for r in range({runs}):
    page = random.choice(pages)
    user = random.choice(agents)
    step = random.choice(outcome_steps[page.pk])
    started = now - datetime.timedelta(minutes=random.randint(10, 60 * 24 * 60))
    finished = started + datetime.timedelta(minutes=random.randint(2, 15))
    runs.append(ProcedureRun(
        procedure=page, procedure_title=page.title, revision_id=page.live_revision_id,
        definition=snapshots[page.pk], user=user, ref=f"BENCH-{{r:05d}}",
        variables={{"客户称呼": "王女士", "联系电话": f"138{{r:08d}}", "订单号": f"TB{{r:08d}}"}},
        status="completed", outcome=step.get("outcome", "已解决"), current_step=step["key"],
        current_step_title=step.get("title", "")[:200], started_at=started, finished_at=finished,
        last_activity_at=finished, step_entered_at=finished, awaiting_follow_up=True,
    ))
ProcedureRun.objects.bulk_create(runs, batch_size=500)
callback = ProcedurePage.objects.filter(slug="aftersales-callback-flow").first()
kinds = ["callback"] * 6 + ["promised_call"] * 2 + ["escalation", "transfer", "redo"]
closed = ["done"] * 11 + ["unreachable", "escalated", "cancelled"]
rows = []
for n in range({follow_ups}):
    run = runs[n % len(runs)]
    created = run.finished_at
    due = created + datetime.timedelta(hours=random.choice([1, 2, 24, 24, 72, 72, 96]))
    is_open = random.random() < 0.3
    if is_open:
        # an open one is recent: most still to do, a good part overdue
        created = now - datetime.timedelta(hours=random.randint(1, 24 * 4))
        due = created + datetime.timedelta(hours=random.choice([1, 2, 24, 24, 72, 72, 96]))
    status = random.choice(["open"] * 3 + ["in_progress"]) if is_open else random.choice(closed)
    who = random.random()
    assignee = run.user if who < 0.7 else None
    group = None if who < 0.6 else groups[agents.index(run.user) % 5]
    kind = random.choice(kinds)
    rescheduled = is_open and random.random() < 0.05
    rows.append(FollowUp(
        kind=kind, title=f"{{run.procedure_title}}：3 日内回访", status=status,
        priority="urgent" if kind == "escalation" or random.random() < 0.1 else "normal",
        source_run=run, source_step=run.current_step, source_revision_id=run.revision_id,
        procedure=callback if kind in ("callback", "redo") else None, section=sections[run.procedure_id],
        ref=run.ref, customer=run.variables, assignee=assignee, group=group, created_by=run.user,
        created_at=created, original_due_at=due,
        due_at=due + datetime.timedelta(days=2) if rescheduled else due,
        result="" if is_open else ("回访满意" if status == "done" else ""),
        satisfaction=random.choice(["满意", "满意", "较满意", "不满意"]) if status == "done" else "",
        closed_at=None if is_open else due - datetime.timedelta(hours=random.randint(-24, 20)),
        closed_by=None if is_open else run.user,
    ))
FollowUp.objects.bulk_create(rows, batch_size=2000)
agent = User.objects.get(username={agent!r})
mine = FollowUp.objects.visible_to(agent).open()
print("COUNTS", FollowUp.objects.count(), len(runs), FollowUp.objects.open().count(),
      FollowUp.objects.overdue(now).count(), mine.count(), mine.filter(due_at__lt=now).count())
"""

SWEEP = """
import time
from followups.sweep import sweep
started = time.perf_counter()
counts = sweep()
print("SWEEP", f"{time.perf_counter() - started:.3f}", dict(counts))
"""

PROFILE = """
import time
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(SERVER_NAME="127.0.0.1")
client.force_login(get_user_model().objects.get(username={agent!r}))
for url in {urls!r}:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
    total = sum(float(q["time"]) for q in queries.captured_queries)
    print(f"{{url}}: {{response.status_code}}, {{elapsed * 1000:.1f}} ms, {{len(queries)}} queries, {{total * 1000:.1f}} ms in SQL")
    for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:5]:
        print(f"  {{float(q['time']) * 1000:7.1f}} ms  {{q['sql'][:300]}}")
"""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--follow-ups", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="build the database in DIR and keep it (for profiling)")
    parser.add_argument(
        "--profile", action="store_true", help="print each queue page's queries, slowest first"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callbook-bench-") as tmp_dir:
        var_dir = args.keep or tmp_dir
        Path(var_dir).mkdir(parents=True, exist_ok=True)
        env = bench_env(var_dir)
        started = time.monotonic()
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "load_demo", "--no-users", "-v0")
        build = BUILD.format(password=PASSWORD, runs=args.runs, follow_ups=args.follow_ups, agent=AGENT)
        output = manage(env, "shell", "-c", build, capture=True)
        line = next(line for line in output.splitlines() if line.startswith("COUNTS "))
        total, runs, open_, overdue, mine, mine_overdue = line.split()[1:]
        print(
            f"setup: {total} follow-ups over {runs} runs, {open_} open, {overdue} overdue; "
            f"{AGENT} sees {mine} open ({mine_overdue} overdue) — {time.monotonic() - started:.0f}s"
        )
        if args.profile:
            print(
                manage(
                    env, "shell", "-c", PROFILE.format(agent=AGENT, urls=[u for u, _ in QUEUES]), capture=True
                )
            )
        with gunicorn(env, workers=args.workers) as base:
            session = login(base, AGENT, PASSWORD)
            print(f"{'page':26} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>6}")
            for url, label in QUEUES:
                times, errors = measure(session, base + url, args.requests)
                print(
                    f"{label:26} {len(times):5d} {statistics.median(times) * 1000:8.1f} "
                    f"{percentile(times, 0.95) * 1000:8.1f} {max(times) * 1000:8.1f} {errors:6d}"
                )
        output = manage(env, "shell", "-c", SWEEP, capture=True)
        line = next(line for line in output.splitlines() if line.startswith("SWEEP "))
        print(f"first sweep, in process: {line.split(' ', 2)[1]} s  {line.split(' ', 2)[2]}")
        started = time.perf_counter()
        manage(env, "followup_sweep", capture=True)
        print(f"next sweep, manage.py followup_sweep (with start-up): {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
