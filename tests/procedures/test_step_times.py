"""Per-step target times: the run step's timer markup, the 步骤用时 report's figures on a known set of
runs (practice never counts), who may see it, its filters and export, and each event's time against its
target on the summary, the replay and the admin timeline."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from procedures import stats
from procedures.models import ProcedureRun, RunEvent
from procedures.runs import apply_move, start_run
from tests.procedures.conftest import login
from tests.procedures.test_procedure_reports import denied


def walk(page, user, start, moves, practice=False):
    """A run whose moves come ``seconds`` after the one before: ``[(seconds, action, fields), ...]``."""
    run = start_run(page, user, practice=practice, now=start)
    when = start
    for seconds, action, fields in moves:
        when += datetime.timedelta(seconds=seconds)
        run.refresh_from_db()
        run = apply_move(
            run.pk, user, step=run.current_step, seq=run.next_seq, action=action, now=when, **fields
        )
    return run


def greet(seconds):
    return (seconds, "next", {})


def handle(seconds, answer="0"):
    return (seconds, "answer", {"answer": answer})


@pytest.fixture
def timed_runs(must_say_procedure, agent, other_agent, newhire):
    """开场 has a 30 s target and 处理 60 s. r3 goes round once (再说明): its two visits of each step add up."""
    base = timezone.now() - datetime.timedelta(days=3)
    return {
        "r1": walk(must_say_procedure, agent, base, [greet(20), handle(60)]),
        "r2": walk(must_say_procedure, agent, base, [greet(40), handle(30)]),
        "r3": walk(
            must_say_procedure, other_agent, base, [greet(10), handle(50, "1"), greet(10), handle(20)]
        ),
        "practice": walk(must_say_procedure, newhire, base, [greet(500), handle(500)], practice=True),
    }


def test_step_times_against_targets(timed_runs):
    rows = stats.step_times(ProcedureRun.objects.all())
    assert [
        (r.step, r.runs, r.median_seconds, r.p90_seconds, r.target_seconds, r.over, r.over_share)
        for r in rows
    ] == [
        ("开场", 3, 20, 40, 30, 1, "33%"),  # 20, 40 (over), 10 + 10
        ("处理", 3, 60, 70, 60, 1, "33%"),  # 60 (not over: at the target), 30, 50 + 20 (over)
    ]


def test_steps_without_a_target_have_times_but_no_share(agent, rule_first):
    run = start_run(
        rule_first, agent, variables={"金额": "80"}, now=timezone.now() - datetime.timedelta(seconds=90)
    )
    apply_move(run.pk, agent, step="ask", seq=run.next_seq, action="answer", answer="0")
    (row,) = stats.step_times(ProcedureRun.objects.all())  # the rule and the outcome take no time
    assert (row.step, row.runs, row.target_seconds, row.target_display, row.over_share) == (
        "大额：客户同意补发吗？",
        1,
        None,
        "—",
        "—",
    )
    assert 89 <= row.median_seconds <= 120


def test_the_report_for_trainers_and_supervisors_with_export(client, trainer, supervisor, agent, timed_runs):
    for user in (trainer, supervisor):
        login(client, user)
        html = client.get(reverse("procedures_step_times:index")).content.decode()
        assert "步骤用时" in html and "开场" in html and "1分10秒" in html and "33%" in html
    export = client.get(reverse("procedures_step_times:index"), {"export": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [
        (
            r["步骤"],
            r["经过的运行"],
            r["用时中位数（秒）"],
            r["用时 P90（秒）"],
            r["目标用时（秒）"],
            r["超过目标的占比"],
        )
        for r in rows
    ] == [("开场", "3", "20", "40", "30", "33%"), ("处理", "3", "60", "70", "60", "33%")]
    login(client, agent)
    assert denied(client.get(reverse("procedures_step_times:index")))


def test_the_report_filters_by_procedure_and_date(client, supervisor, agent, timed_runs, missing_item):
    walk(missing_item, agent, timezone.now(), [greet(15)])
    login(client, supervisor)

    def steps(**filters):
        response = client.get(reverse("procedures_step_times:index"), {"export": "csv", **filters})
        rows = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
        return [(r["流程"], r["步骤"], r["经过的运行"]) for r in rows]

    assert len(steps()) == 3
    assert steps(procedure=missing_item.pk) == [("少货处理", "问候并确认来意", "1")]
    today = timezone.localdate().isoformat()
    assert steps(started_at_from=today) == [("少货处理", "问候并确认来意", "1")]
    three_days_ago = timezone.localtime(timed_runs["r1"].started_at).date().isoformat()
    assert steps(started_at_from=three_days_ago, started_at_to=three_days_ago) == [
        ("必说测试流程", "开场", "3"),
        ("必说测试流程", "处理", "3"),
    ]


def test_the_timer_carries_the_entered_time_and_the_target(client, agent, must_say_procedure):
    entered = timezone.now() - datetime.timedelta(seconds=45)
    run = start_run(must_say_procedure, agent, now=entered)
    login(client, agent)
    for _reload in range(2):  # a reload shows the same entered time: the timer goes on, not from zero
        html = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
        assert f'<step-timer role="timer" data-entered="{int(entered.timestamp())}" data-now="' in html
        assert 'data-target="30"' in html and "/ 目标 30秒" in html
        assert 'src="/static/js/run_step.js"' in html
    apply_move(run.pk, agent, step="greet", seq=1, action="next")
    run.refresh_from_db()
    html = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    assert f'data-entered="{int(run.step_entered_at.timestamp())}"' in html and 'data-target="60"' in html


def test_a_step_without_target_has_a_plain_timer(client, agent, rule_first):
    run = start_run(rule_first, agent, variables={"金额": "80"})
    login(client, agent)
    html = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    assert "<step-timer" in html and "data-target" not in html and "目标" not in html


def test_summary_replay_and_timeline_show_each_steps_time_against_its_target(
    client, agent, supervisor, timed_runs
):
    run = timed_runs["r2"]  # 开场 40 s of 30 (over), 处理 30 s of 60
    opening = RunEvent.objects.get(run=run, step_key="greet")
    over = '40秒 <span class="step-time-target is-over">/ 目标 30秒 · <strong>超过目标</strong></span>'
    under = '30秒 <span class="step-time-target">/ 目标 1分0秒</span>'
    login(client, agent)
    html = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    assert over in html and under in html
    html = client.get(reverse("procedures:replay", args=[run.pk, opening.seq])).content.decode()
    assert over in html
    login(client, supervisor)
    html = client.get(reverse("procedures_runs:timeline", args=[run.pk])).content.decode()
    assert over in html and under in html
