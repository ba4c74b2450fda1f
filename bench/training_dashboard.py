"""Benchmark: the trainers' dashboard with 500 trainees × 40 items (not a test).

Builds a fresh SQLite database: one learning path of 8 stages × 5 items (reading, quizzes, practice,
offline tasks), 500 new hires in 10 cohorts with 10 mentors, every trainee's 40 item rows at a spread of
statuses and due dates (some overdue, some awaiting sign-off), summarised as the app keeps them. Serves
the site with gunicorn and times, over HTTP as a logged-in user:

- ``/training/team/`` as a trainer (all 500 trainees) and as a mentor (their 50),
- ``/training/team/sign-off/`` as a trainer,
- one trainee's page (``/training/team/trainees/<id>/``) and a new hire's own ``/training/``.

    .venv/bin/python bench/training_dashboard.py [--trainees 500] [--requests 200] [--workers 3]

Target: dashboard p95 ≤ 150 ms.
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

BUILD = """
import datetime, random
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from training import progress
from training.models import Cohort, ItemProgress, LearningPath, PathAssignment
random.seed(7)
User = get_user_model()
kinds = ["read", "quiz", "practice", "offline", "read"]
stages = []
for s in range(8):
    items = []
    for i, kind in enumerate(kinds):
        value = {{"due_day": s * 4 + i}}
        if kind == "offline":
            value.update(title=f"线下任务 {{s}}-{{i}}", description="")
        items.append({{"type": kind, "value": value}})
    stages.append({{"type": "stage", "value": {{"title": f"阶段{{s + 1}}", "gate": "mentor" if s % 3 == 1 else "all_done", "items": items}}}})
path = LearningPath.objects.create(title="基准路径", stages=stages)
hasher_password = {password!r}
trainer = User.objects.create_user("bench-trainer", password=hasher_password)
trainer.groups.add(Group.objects.get(name="培训师"))
newhires = Group.objects.get(name="新员工")
mentors = [User.objects.create_user(f"bench-mentor{{m}}", password=hasher_password) for m in range(10)]
today = timezone.localdate()
statuses = ["not_started", "in_progress", "failed", "done", "signed_off", "relearn"]
for c in range({trainees} // 50):
    cohort = Cohort.objects.create(name=f"批次{{c + 1}}", path=path, start_date=today - datetime.timedelta(days=3 * c), mentor=mentors[c % 10])
    for n in range(50):
        user = User.objects.create_user(f"bench-trainee{{c}}-{{n}}", password=hasher_password)
        user.groups.add(newhires)
        cohort.members.add(user)
        assignment = progress.assign(user, path, start_date=cohort.start_date, mentor=cohort.mentor, cohort=cohort)
        done_upto = random.randint(0, 40)
        rows = list(assignment.items.order_by("stage_index", "position"))
        for index, row in enumerate(rows):
            row.status = "done" if index < done_upto else random.choice(statuses)
            if row.kind == "offline" and row.status == "in_progress":
                row.sign_off_requested_at = timezone.now()
        ItemProgress.objects.bulk_update(rows, ["status", "sign_off_requested_at"])
        progress.summarise(assignment)
print("TRAINEE", PathAssignment.objects.first().pk, PathAssignment.objects.first().user.username)
print("ROWS", ItemProgress.objects.count())
"""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trainees", type=int, default=500)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="build the database in DIR and keep it (for profiling)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callbook-bench-") as tmp_dir:
        var_dir = args.keep or tmp_dir
        Path(var_dir).mkdir(parents=True, exist_ok=True)
        env = bench_env(var_dir)
        started = time.monotonic()
        manage(env, "migrate", "--noinput", "-v0")
        output = manage(
            env, "shell", "-c", BUILD.format(trainees=args.trainees, password=PASSWORD), capture=True
        )
        lines = dict(line.split(" ", 1) for line in output.splitlines() if line[:5] in ("TRAIN", "ROWS "))
        assignment_id, trainee = lines["TRAINEE"].split()
        print(
            f"setup: {args.trainees} trainees, {lines['ROWS']} item rows in {time.monotonic() - started:.0f}s"
        )
        with gunicorn(env, workers=args.workers) as base:
            cases = [
                ("bench-trainer", "/training/team/", "dashboard (trainer, all trainees)"),
                ("bench-trainer", "/training/team/?page=5", "dashboard page 5 (trainer)"),
                ("bench-mentor0", "/training/team/", "dashboard (mentor, own trainees)"),
                ("bench-trainer", "/training/team/sign-off/", "sign-off queue (trainer)"),
                ("bench-trainer", f"/training/team/trainees/{assignment_id}/", "one trainee (trainer)"),
                (trainee, "/training/", "my training (new hire)"),
            ]
            print(f"{'page':38} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>6}")
            for username, url, label in cases:
                times, errors = measure(login(base, username, PASSWORD), base + url, args.requests)
                print(
                    f"{label:38} {len(times):5d} {statistics.median(times) * 1000:8.1f} "
                    f"{percentile(times, 0.95) * 1000:8.1f} {max(times) * 1000:8.1f} {errors:6d}"
                )


if __name__ == "__main__":
    main()
