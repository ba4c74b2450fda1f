"""Benchmark: the 内容健康 page (/health/) over a large knowledge base (not a test).

Builds a fresh SQLite database: the demo (``load_demo --demo-users``), then 1,000 more articles with tags,
500 more phrasings, and over the last 60 days 20,000 counted runs of the demo procedures (a spread of
completed, escalated, abandoned and given-up runs, a note on every fifth stopped run), 500 practice runs,
50,000 page-view rows, 1,500 feedback rows, 3,000 zero-result search rows and 10,000 quiz answers to
questions citing articles and phrasings. Serves the site with gunicorn and times, over HTTP:

- ``/health/`` as the demo trainer and supervisor (every item scored, 50 shown with their stop steps),
- ``/health/?page=10`` and ``/health/?days=60&sort=feedback``,
- the CSV export of every row.

    .venv/bin/python bench/health.py [--articles 1000] [--runs 20000] [--requests 100] [--workers 3]

Target: p95 ≤ 500 ms for the page (a trainer's desk report, not an agent's screen).
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import bench_env, gunicorn, login, manage, measure, percentile  # noqa: E402

BUILD = """
import datetime, random
from django.contrib.auth import get_user_model
from django.utils import timezone
from changes.models import PageView
from feedback.models import Feedback
from kb_site.content.models import ArticlePage, Phrasing, SectionPage
from procedures.models import ProcedurePage, ProcedureRun, RunEvent
from search.models import ZeroResultQuery
from training.models import AttemptAnswer, Question, QuestionOption, Quiz, QuizAttempt
random.seed(12)
User = get_user_model()
now = timezone.now()
today = timezone.localdate()
agents = list(User.objects.filter(groups__name="坐席")) or list(User.objects.all())
sections = list(SectionPage.objects.all())
words = ["少货", "错货", "退款", "补发", "签收", "拒收", "投诉", "回访", "催单", "理赔", "发票", "换货", "维修", "停电", "快递单号"]
for n in range({articles}):
    section = sections[n % len(sections)]
    page = ArticlePage(title=f"{{random.choice(words)}}{{random.choice(words)}}规范{{n}}", slug=f"bench-{{n}}", summary="基准文章")
    section.add_child(instance=page)
    page.tags.add(random.choice(words))
    page.save()
for n in range(500):
    Phrasing.objects.create(title=f"{{random.choice(words)}}话术{{n}}", text="您好，我是客服。", section=random.choice(sections), live=True)
procedures = list(ProcedurePage.objects.live())
pages = list(ArticlePage.objects.live()) + procedures
phrasings = list(Phrasing.objects.all())
runs, events = [], []
endings = [("completed", "已解决", None)] * 6 + [("completed", "已升级", "escalate"), ("completed", "已转接", "transfer"), ("completed", "客户放弃", "give_up"), ("abandoned", "", None)]
for n in range({runs} + 500):
    procedure = random.choice(procedures)
    status, outcome, action = random.choice(endings)
    started = now - datetime.timedelta(minutes=random.randint(60, 60 * 24 * 60))
    run = ProcedureRun(procedure=procedure, procedure_title=procedure.title, revision_id=procedure.live_revision_id,
        user=random.choice(agents), status=status, outcome=outcome, practice=n >= {runs},
        current_step=f"s{{random.randint(0, 5)}}", current_step_title="某一步", next_seq=3,
        started_at=started, last_activity_at=started + datetime.timedelta(minutes=4),
        finished_at=started + datetime.timedelta(minutes=4) if status == "completed" else None,
        ending_reason="客户要求找主管" if action else "")
    runs.append(run)
    for seq in (1, 2):
        last = seq == 2
        events.append(RunEvent(run=run, seq=seq, revision_id=run.revision_id, step_key=run.current_step if last else "s0",
            step_title="某一步", kind="instruction", action=action if (last and action) else "next",
            note="客户不认可处理方式" if last and n % 5 == 0 else "", entered_at=started, left_at=started))
ProcedureRun.objects.bulk_create(runs, batch_size=2000)
RunEvent.objects.bulk_create(events, batch_size=2000)
PageView.objects.bulk_create(
    [PageView(user=agents[n % len(agents)], page=random.choice(pages), day=today - datetime.timedelta(days=n % 60), count=random.randint(1, 5)) for n in range(50000)],
    batch_size=5000, ignore_conflicts=True)
Feedback.objects.bulk_create([
    Feedback(reporter=random.choice(agents), page=random.choice(pages), phrasing=random.choice(phrasings) if n % 4 == 0 else None,
        kind=random.choice(["error", "outdated", "unclear", "missing", "suggestion"]), text="……",
        status=random.choice(["open", "open", "needs_info", "fixed", "rejected"]))
    for n in range(1500)], batch_size=1000)
ZeroResultQuery.objects.bulk_create([
    ZeroResultQuery(query_string=f"{{random.choice(words)}}{{random.choice(['怎么办', '多久', '赔偿', '流程', '电话'])}}{{n}}", date=today - datetime.timedelta(days=n % 60), hits=random.randint(1, 9))
    for n in range(3000)], batch_size=1000)
quiz = Quiz.objects.create(title="基准考核")
questions = []
for n in range(300):
    question = Question.objects.create(type="single", stem=f"题{{n}}")
    QuestionOption.objects.create(question=question, text="对", correct=True, cite_page=random.choice(pages) if n % 3 else None, cite_phrasing=random.choice(phrasings) if n % 3 == 0 else None)
    questions.append(question)
attempts = QuizAttempt.objects.bulk_create([QuizAttempt(quiz=quiz, quiz_title=quiz.title, user=random.choice(agents), pass_mark=80, submitted_at=now - datetime.timedelta(days=n % 60)) for n in range(1000)])
AttemptAnswer.objects.bulk_create([AttemptAnswer(attempt=attempt, question=question, correct=random.random() > 0.3) for attempt in attempts for question in random.sample(questions, 10)], batch_size=5000)
print("ITEMS", ArticlePage.objects.live().count() + ProcedurePage.objects.live().count() + Phrasing.objects.live().count())
print("RUNS", ProcedureRun.objects.count())
"""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="build the database in DIR and keep it (for profiling)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="callbook-bench-") as tmp_dir:
        var_dir = args.keep or tmp_dir
        Path(var_dir).mkdir(parents=True, exist_ok=True)
        env = bench_env(var_dir)
        started = time.monotonic()
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "load_demo", "--demo-users", "-v0")
        output = manage(
            env, "shell", "-c", BUILD.format(articles=args.articles, runs=args.runs), capture=True
        )
        lines = dict(line.split(" ", 1) for line in output.splitlines() if line[:5] in ("ITEMS", "RUNS "))
        print(f"setup: {lines['ITEMS']} items, {lines['RUNS']} runs in {time.monotonic() - started:.0f}s")
        with gunicorn(env, workers=args.workers) as base:
            cases = [
                ("trainer", "callbook-trainer", "/health/", "health (trainer)", args.requests),
                ("supervisor", "callbook-supervisor", "/health/", "health (supervisor)", args.requests),
                ("trainer", "callbook-trainer", "/health/?page=10", "health page 10", args.requests),
                (
                    "trainer",
                    "callbook-trainer",
                    "/health/?days=60&sort=feedback",
                    "health 60 days by feedback",
                    args.requests,
                ),
                (
                    "trainer",
                    "callbook-trainer",
                    "/health/?export=csv",
                    "CSV export (every row)",
                    max(args.requests // 5, 5),
                ),
            ]
            print(f"{'page':30} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>6}")
            for username, password, url, label, count in cases:
                times, errors = measure(login(base, username, password), base + url, count)
                print(
                    f"{label:30} {len(times):5d} {statistics.median(times) * 1000:8.1f} "
                    f"{percentile(times, 0.95) * 1000:8.1f} {max(times) * 1000:8.1f} {errors:6d}"
                )


if __name__ == "__main__":
    main()
