"""必说 lines: the 已说 boxes on the run step, the ticks kept on the step's event, the reminder, tampered
ticks refused, Back and replay showing what was ticked, and the tick-rate report."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from procedures import stats
from procedures.models import ProcedureRun, RunEvent
from procedures.runs import apply_move, start_run
from tests.procedures.conftest import login
from tests.procedures.test_procedure_reports import denied
from tests.procedures.test_step_times import walk


@pytest.fixture
def run(must_say_procedure, agent):
    return start_run(must_say_procedure, agent)


def page(client, run):
    response = client.get(reverse("procedures:run", args=[run.pk]))
    assert response.status_code == 200
    return response.content.decode()


def move(client, run, **data):
    run.refresh_from_db()
    data = {"step": run.current_step, "seq": run.next_seq, **data}
    return client.post(reverse("procedures:move", args=[run.pk]), data)


def test_the_step_shows_a_box_per_must_say_line_and_the_reminder(client, agent, run):
    html = page(login(client, agent), run)
    assert 'name="said" value="报工号" form="run-form" data-must-say>' in html
    assert 'value="寒暄"' not in html  # not a must-say line: no box
    assert "还有 1 句必说话术未勾选" in html
    assert '<must-say-reminder role="status"' in html


def test_the_ticked_lines_are_kept_on_the_steps_event(client, agent, run):
    login(client, agent)
    response = move(client, run, action="next", said=["报工号"])
    assert response.status_code == 302
    event = RunEvent.objects.get(run=run, step_key="greet")
    assert event.said == ["报工号"]
    html = page(client, run)
    assert "还有 2 句必说话术未勾选" in html
    move(client, run, answer="0", said=["致歉", "告知录音"])
    event = RunEvent.objects.get(run=run, step_key="handle")
    assert event.said == ["告知录音", "致歉"]  # in the step's order
    assert ProcedureRun.objects.get(pk=run.pk).outcome == "已解决"


def test_moving_on_without_ticking_is_allowed_and_kept_as_nothing_ticked(client, agent, run):
    login(client, agent)
    assert move(client, run, action="next").status_code == 302
    assert RunEvent.objects.get(run=run, step_key="greet").said == []


@pytest.mark.parametrize("tampered", ["寒暄", "告知录音", "<b>x</b>"])
def test_a_tick_for_a_line_that_is_not_a_must_say_line_of_the_step_is_refused(client, agent, run, tampered):
    login(client, agent)
    response = move(client, run, action="next", said=["报工号", tampered])
    html = response.content.decode()
    assert response.status_code == 400
    assert "不是这一步的必说话术，没有保存" in html
    run.refresh_from_db()
    assert (run.current_step, run.next_seq, run.events.count()) == ("greet", 1, 0)


def test_the_run_engine_keeps_only_the_steps_must_say_lines(agent, run):
    apply_move(run.pk, agent, step="greet", seq=1, action="next", said=["寒暄", "报工号", "告知录音"])
    assert RunEvent.objects.get(run=run).said == ["报工号"]


def test_steps_without_must_say_lines_keep_nothing(client, agent, missing_item):
    run = start_run(missing_item, agent)
    login(client, agent)
    html = page(client, run)
    assert "必说话术未勾选" not in html and 'name="said"' not in html
    move(client, run, action="next", said=["开场问候"])
    assert RunEvent.objects.get(run=run).said is None


def test_back_shows_what_was_ticked_before(client, agent, run):
    login(client, agent)
    move(client, run, action="next", said=["报工号"])
    move(client, run, action="back")
    html = page(client, run)
    assert 'value="报工号" form="run-form" data-must-say checked>' in html
    assert "必说话术已全部勾选" in html


def test_an_ending_keeps_the_ticks_through_its_confirming_screen(client, agent, run):
    login(client, agent)
    move(client, run, action="next", said=["报工号"])
    confirm = move(client, run, action="escalate", said=["致歉"])
    html = confirm.content.decode()
    assert '<input type="hidden" name="said" value="致歉">' in html
    assert RunEvent.objects.filter(run=run, step_key="handle").count() == 0
    done = move(
        client, run, action="escalate", said=["致歉"], confirm="1", reason="客户要求", handoff_group=""
    )
    assert done.status_code == 400  # 升级 needs a group or a person: the ticks stay on the form
    assert '<input type="hidden" name="said" value="致歉">' in done.content.decode()
    group = Group.objects.create(name="二线")
    move(
        client, run, action="escalate", said=["致歉"], confirm="1", reason="客户要求", handoff_group=group.pk
    )
    ending = RunEvent.objects.get(run=run, step_key="handle")
    assert (ending.action, ending.said) == ("escalate", ["致歉"])


def test_the_replay_shows_what_was_ticked(client, agent, supervisor, run):
    login(client, agent)
    move(client, run, action="next", said=["报工号"])
    move(client, run, answer="0")
    greet, handle = RunEvent.objects.filter(run=run).order_by("seq")[:2]
    login(client, supervisor)
    html = client.get(reverse("procedures:replay", args=[run.pk, greet.seq])).content.decode()
    assert (
        '<input type="checkbox" disabled checked> 已说<span class="visually-hidden">：报工号</span>' in html
    )
    html = client.get(reverse("procedures:replay", args=[run.pk, handle.seq])).content.decode()
    assert html.count("未勾选“已说”") == 2
    html = client.get(reverse("procedures_runs:timeline", args=[run.pk])).content.decode()
    assert "已说：报工号" in html and "必说话术均未勾选" in html
    events = client.get(reverse("procedures:run_json", args=[run.pk])).json()["events"]
    assert [e["said"] for e in events] == [["报工号"], [], None]  # 开场, 处理, the outcome reached


@pytest.fixture
def ticked_runs(must_say_procedure, agent, other_agent, newhire):
    base = timezone.now() - datetime.timedelta(days=1)

    def said(*lines):
        return {"said": list(lines)}

    return [
        walk(
            must_say_procedure,
            agent,
            base,
            [(5, "next", said("报工号")), (5, "answer", {"answer": "0", **said("告知录音", "致歉")})],
        ),
        walk(
            must_say_procedure,
            agent,
            base,
            [(5, "next", said()), (5, "answer", {"answer": "0", **said("告知录音")})],
        ),
        walk(
            must_say_procedure,
            other_agent,
            base,
            [
                (5, "next", said("报工号")),
                (5, "back", {}),  # Back keeps no ticks and is not a time the step was left
                (5, "next", said("报工号")),
                (5, "answer", {"answer": "1"}),
                (5, "next", said("报工号")),
                (5, "answer", {"answer": "0", **said("致歉", "告知录音")}),
            ],
        ),
        walk(must_say_procedure, newhire, base, [(5, "next", said())], practice=True),
    ]


EXPECTED_RATES = [
    ("小李", "开场", "报工号", 3, 3, "100%"),  # left three times: the pass Back undid counts too
    ("小李", "处理", "告知录音", 2, 1, "50%"),
    ("小李", "处理", "致歉", 2, 1, "50%"),
    ("小王", "开场", "报工号", 2, 1, "50%"),
    ("小王", "处理", "告知录音", 2, 2, "100%"),
    ("小王", "处理", "致歉", 2, 1, "50%"),
]


def test_tick_rates_per_procedure_agent_and_line(ticked_runs):
    rows = stats.must_say_rates(ProcedureRun.objects.all())
    assert {row.procedure for row in rows} == {"必说测试流程"}
    assert [(r.agent, r.step, r.line, r.left, r.ticked, r.share) for r in rows] == EXPECTED_RATES


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_report_is_for_supervisors_filterable_and_exportable(
    client, supervisor, trainer, agent, other_agent, ticked_runs
):
    url = reverse("procedures_must_say:index")
    login(client, supervisor)
    html = client.get(url).content.decode()
    assert "必说话术勾选率" in html and "告知录音" in html and 'name="user"' in html
    rows = csv_rows(client.get(url, {"export": "csv"}))
    assert [
        (r["坐席"], r["步骤"], r["必说话术"], int(r["离开该步骤次数"]), int(r["勾选“已说”次数"]), r["勾选率"])
        for r in rows
    ] == EXPECTED_RATES
    assert {r["坐席"] for r in csv_rows(client.get(url, {"export": "csv", "user": agent.pk}))} == {"小王"}
    assert 'name="procedure"' in html
    assert len(csv_rows(client.get(url, {"export": "csv", "procedure": ticked_runs[0].procedure_id}))) == 6
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert csv_rows(client.get(url, {"export": "csv", "started_at_from": tomorrow})) == []
    for user in (trainer, agent):  # figures per agent are the supervisors' (as 坐席流程统计)
        login(client, user)
        assert denied(client.get(url))
