"""Report figures on a known set of runs; practice runs never count; who may see what."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from procedures import stats
from procedures.models import ProcedureRun
from procedures.runs import apply_move, start_run
from tests.procedures.conftest import login

GREETED = [("next", {})]
DAMAGED = [*GREETED, ("answer", {"answer": "1"})]
NO_SHORTAGE = [
    *GREETED,
    ("answer", {"answer": "0"}),
    ("next", {"inputs": {"订单号": "A1", "商品名称": "杯", "少货金额": "30"}}),
    ("next", {"checked": (0, 1, 2)}),
    ("answer", {"answer": "2"}),
]
DAMAGE_PATH = "问候并确认来意 › 外包装是否完好？ › 外包装有问题，转运输破损处理"


def run_through(page, user, moves, start, seconds, practice=False):
    """A run whose moves are spread evenly so that the last one lands ``seconds`` after the start."""
    run = start_run(page, user, practice=practice, now=start)
    for number, (action, fields) in enumerate(moves, 1):
        run.refresh_from_db()
        when = start + datetime.timedelta(seconds=seconds * number / len(moves))
        run = apply_move(
            run.pk, user, step=run.current_step, seq=run.next_seq, action=action, now=when, **fields
        )
    return run


@pytest.fixture
def known_runs(missing_item, agent, other_agent, newhire):
    base = timezone.now() - datetime.timedelta(days=2)
    runs = {
        "a1": run_through(missing_item, agent, DAMAGED, base, 60),
        "a2": run_through(missing_item, agent, DAMAGED, base, 120),
        "a3": run_through(missing_item, agent, [*GREETED, ("escalate", {})], base, 300),
        "b1": run_through(missing_item, other_agent, NO_SHORTAGE, base, 600),
        # left hanging two days ago: counted as abandoned although nothing has marked it yet
        "b2": run_through(missing_item, other_agent, GREETED, base, 10),
        "b3": run_through(missing_item, other_agent, [], timezone.now(), 0),  # in progress today
        "practice": run_through(missing_item, newhire, DAMAGED, base, 30, practice=True),
    }
    return runs


def denied(response):
    """Wagtail answers a missing permission with a redirect (to the admin home or its login)."""
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"].startswith("/admin/")
    )


def test_percentile_is_nearest_rank():
    assert stats.percentile([], 0.9) is None
    assert stats.percentile([5], 0.9) == 5
    assert stats.percentile([60, 120, 300, 600], 0.9) == 600
    assert stats.percentile(list(range(1, 101)), 0.9) == 90


def test_figures_per_procedure(known_runs):
    (row,) = stats.grouped_stats(ProcedureRun.objects.all(), by="procedure")
    assert (row.label, row.runs, row.completed, row.abandoned, row.in_progress) == ("少货处理", 6, 4, 1, 1)
    assert row.outcomes == {"已转接": 2, "已升级": 1, "无需处理": 1}
    assert row.median_seconds == 210 and row.p90_seconds == 600


def test_figures_per_agent(known_runs):
    rows = {row.label: row for row in stats.grouped_stats(ProcedureRun.objects.all(), by="agent")}
    assert set(rows) == {"小王", "小李"}  # the new hire only practised
    assert (rows["小王"].runs, rows["小王"].median_seconds, rows["小王"].p90_seconds) == (3, 120, 300)
    assert (rows["小李"].runs, rows["小李"].completed, rows["小李"].median_seconds) == (3, 1, 600)


def test_outcome_distribution_abandonment_and_paths(known_runs):
    assert stats.outcome_distribution(ProcedureRun.objects.all()) == [
        ("已转接", 2, 0.5),
        ("已升级", 1, 0.25),
        ("无需处理", 1, 0.25),
    ]
    (abandoned,) = stats.abandonment_by_step(ProcedureRun.objects.all())
    assert (abandoned.step_key, abandoned.abandoned, abandoned.runs, abandoned.share) == (
        "ask-package",
        1,
        6,
        "17%",
    )
    paths = stats.common_paths(ProcedureRun.objects.all())
    assert (paths[0].path, paths[0].runs, paths[0].outcome, paths[0].share) == (
        DAMAGE_PATH,
        2,
        "已转接",
        "50%",
    )
    assert {p.path for p in paths[1:]} == {
        "问候并确认来意 › [升级]",
        "问候并确认来意 › 外包装是否完好？ › 记录订单和少货信息 › 三步核实 › 核实结果：是否确实少发？ › 说明核实结果",
    }


def test_stats_report_view_and_csv_export(client, supervisor, known_runs):
    login(client, supervisor)
    response = client.get(reverse("procedures_stats:index"))
    html = response.content.decode()
    assert response.status_code == 200 and "少货处理" in html and "3分30秒" in html and "10分0秒" in html
    export = client.get(reverse("procedures_stats:index"), {"export": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [(r["流程"], r["运行次数"], r["用时中位数（秒）"], r["用时 P90（秒）"]) for r in rows] == [
        ("少货处理", "6", "210", "600")
    ]


def test_date_and_agent_filters(client, supervisor, other_agent, known_runs):
    login(client, supervisor)
    today = timezone.localdate().isoformat()
    export = client.get(reverse("procedures_stats:index"), {"export": "csv", "started_at_from": today})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert [(r["运行次数"], r["进行中"]) for r in rows] == [("1", "1")]
    export = client.get(reverse("procedures_runs:index"), {"export": "csv", "user": other_agent.pk})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 3 and {r["坐席"] for r in rows} == {other_agent.get_full_name()}
    export = client.get(reverse("procedures_runs:index"), {"export": "csv", "practice": "true"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["坐席"] == "小陈"
    practice_run = ProcedureRun.objects.get(practice=True)
    assert rows[0]["记录编号"] == str(practice_run.pk)  # an exported row leads back to its run


def test_every_report_and_the_timeline_render_for_supervisors(client, supervisor, known_runs):
    login(client, supervisor)
    for name in [
        "procedures_runs:index",
        "procedures_stats:index",
        "procedures_agents:index",
        "procedures_abandonment:index",
        "procedures_paths:index",
    ]:
        assert client.get(reverse(name)).status_code == 200, name
    html = client.get(reverse("procedures_abandonment:index")).content.decode()
    assert "外包装是否完好？" in html and "17%" in html
    html = client.get(reverse("procedures_runs:timeline", args=[known_runs["b1"].pk])).content.decode()
    assert "说明核实结果" in html and "少货金额（元）：30" in html and "【结果】无需处理" in html


def test_trainers_see_statistics_but_not_agents_runs(client, trainer, known_runs):
    login(client, trainer)
    assert client.get(reverse("procedures_stats:index")).status_code == 200
    assert client.get(reverse("procedures_abandonment:index")).status_code == 200
    assert denied(client.get(reverse("procedures_runs:index")))
    assert denied(client.get(reverse("procedures_agents:index")))
    assert denied(client.get(reverse("procedures_runs:timeline", args=[known_runs["a1"].pk])))


def test_trainers_cannot_narrow_statistics_to_one_agent(client, trainer, supervisor, agent, known_runs):
    """Trainers see figures, not people (PRODUCT.md): the 坐席 filter is the supervisors' only."""

    def export(**params):
        response = client.get(reverse("procedures_stats:index"), {"export": "csv", **params})
        return b"".join(response.streaming_content)

    login(client, trainer)
    assert 'name="user"' not in client.get(reverse("procedures_stats:index")).content.decode()
    assert export(user=agent.pk) == export()  # a hand-made ?user= is ignored
    login(client, supervisor)
    assert 'name="user"' in client.get(reverse("procedures_stats:index")).content.decode()
    assert export(user=agent.pk) != export()


def test_agents_see_no_reports(client, agent, known_runs):
    login(client, agent)
    assert denied(client.get(reverse("procedures_stats:index")))
    assert denied(client.get(reverse("procedures_runs:timeline", args=[known_runs["a1"].pk])))


def test_xlsx_export(client, supervisor, known_runs):
    import openpyxl

    login(client, supervisor)
    response = client.get(reverse("procedures_abandonment:index"), {"export": "xlsx"})
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("流程", "中断在步骤", "中断次数", "该流程运行次数")
    assert rows[1][:4] == ("少货处理", "外包装是否完好？", 1, 6)


def test_section_and_procedure_filters(client, supervisor, agent, known_runs, complaint):
    run_through(complaint, agent, [("give_up", {})], timezone.now(), 5)
    login(client, supervisor)

    def stats_rows(**filters):
        export = client.get(reverse("procedures_stats:index"), {"export": "csv", **filters})
        return [
            (r["流程"], r["运行次数"])
            for r in csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")))
        ]

    assert sorted(stats_rows()) == [("少货处理", "6"), ("投诉受理五步法", "1")]
    assert stats_rows(section=complaint.get_parent().pk) == [("投诉受理五步法", "1")]
    assert stats_rows(procedure=known_runs["a1"].procedure_id) == [("少货处理", "6")]
