"""Hostile input against runs and their reports: never a 500, never a stored value that breaks a report."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from procedures.models import ProcedureRun
from procedures.runs import start_run
from procedures.text import fill_rich_text
from tests.procedures.conftest import login
from tests.procedures.test_procedure_views import start, step


def export(client, url_name, fmt, **params):
    response = client.get(reverse(url_name), {"export": fmt, **params})
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(data):
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_control_characters_in_a_ref_are_cleaned_at_start(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item, **{"v-客户称呼": "王\x00女士", "ref": "A\x0bB\x00C\ufffeD"})
    assert run.ref == "A B C D"
    assert run.variables["客户称呼"] == "王 女士"


def test_exports_survive_control_characters_already_stored(client, agent, supervisor, missing_item):
    # Stored before the boundary cleaned it (PostgreSQL cannot store a NUL at all; SQLite can).
    stored = "CALL\x0b1\ufffe" + ("\x00" if connection.vendor == "sqlite" else "")
    start_run(missing_item, agent, ref="CALL")
    ProcedureRun.objects.update(ref=stored)
    login(client, supervisor)
    for name in ("procedures_runs:index", "procedures_stats:index", "procedures_agents:index"):
        assert export(client, name, "xlsx")[:2] == b"PK"
        export(client, name, "csv")


@pytest.mark.parametrize("amount", ["1e1000000", "1e999999", "9" * 40, "-1e30"])
def test_huge_numbers_are_refused_with_a_message_at_start(client, agent, missing_item, amount):
    login(client, agent)
    response = client.post(
        reverse("procedures:start", args=[missing_item.pk]), {"v-客户称呼": "王女士", "v-少货金额": amount}
    )
    assert response.status_code == 400
    assert "数字太大" in response.content.decode()
    assert not ProcedureRun.objects.exists()


def test_huge_numbers_are_refused_in_an_input_step(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    step(client, run, action="next")
    step(client, run, answer="0")
    response = step(
        client,
        run,
        expect_status=400,
        action="next",
        **{"v-订单号": "A1", "v-商品名称": "杯", "v-少货金额": "1e1000000"},
    )
    assert "数字太大" in response.content.decode()
    run.refresh_from_db()
    assert len(run.variables.get("少货金额", "")) < 30


def test_out_of_range_ids_are_not_found_or_ignored(client, agent, supervisor, missing_item):
    huge = str(10**30)
    login(client, agent)
    assert client.post(f"/procedures/start/{huge}/").status_code == 404
    login(client, supervisor)
    for name in ("procedures_runs:index", "procedures_stats:index", "procedures_abandonment:index"):
        for field in ("procedure", "section", "user"):
            assert client.get(reverse(name), {field: huge}).status_code == 200
            assert client.get(reverse(name), {field: "-1"}).status_code == 200


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_csv_cells_cannot_start_a_formula(client, agent, supervisor, missing_item, payload):
    start_run(missing_item, agent, ref=payload.strip())
    ProcedureRun.objects.update(ref=payload)  # whatever is stored
    login(client, supervisor)
    rows = csv_rows(export(client, "procedures_runs:index", "csv"))
    ref_column = rows[0].index("编号")
    cell = rows[1][ref_column]
    assert cell[0] not in "=+-@\t\r", cell
    assert cell.endswith(payload.lstrip("\t\r")[1:]) or payload.strip() in cell


def test_step_text_from_an_old_run_snapshot_is_sanitised_when_shown():
    """Runs keep the definition they started with; text stored before sanitising existed is cleaned."""
    html = str(
        fill_rich_text('<p>请核对{订单号}<img src=x onerror="alert(1)"><script>alert(2)</script></p>', {})
    )
    assert "onerror" not in html and "<script" not in html and "<img" not in html
    assert 'data-ph="订单号"' in html


def test_run_timeline_heading_shows_local_time(client, agent, supervisor, missing_item):
    """The heading and the table say the same time: the site's (Asia/Shanghai), not UTC."""
    run = start_run(missing_item, agent)
    utc_evening = datetime.datetime(2026, 11, 30, 20, 5, tzinfo=datetime.UTC)  # 04:05 next day in Shanghai
    ProcedureRun.objects.filter(pk=run.pk).update(started_at=utc_evening)
    login(client, supervisor)
    html = client.get(reverse("procedures_runs:timeline", args=[run.pk])).content.decode()
    local = timezone.localtime(utc_evening)
    assert f"{local:%Y-%m-%d %H:%M}" in html and "2026-12-01 04:05" in html
    assert "2026-11-30 20:05" not in html


def test_exports_are_excel_friendly_local_times_and_a_bom(client, agent, supervisor, missing_item):
    """Excel on Chinese Windows needs the UTF-8 BOM; times are the site's, to the second, in both formats."""
    run = start_run(missing_item, agent)
    utc = datetime.datetime(2026, 11, 30, 4, 41, 34, 439992, tzinfo=datetime.UTC)
    ProcedureRun.objects.filter(pk=run.pk).update(started_at=utc)
    login(client, supervisor)
    data = export(client, "procedures_runs:index", "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = csv_rows(data)
    assert rows[1][rows[0].index("开始")] == "2026-11-30 12:41:34"
    sheet = load_workbook(io.BytesIO(export(client, "procedures_runs:index", "xlsx"))).active
    header = [cell.value for cell in sheet[1]]
    started = sheet.cell(row=2, column=header.index("开始") + 1).value
    assert started == datetime.datetime(2026, 11, 30, 12, 41, 34)
