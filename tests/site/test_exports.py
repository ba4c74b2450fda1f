"""Every report's CSV and XLSX as a supervisor downloads and opens them in Excel.

Labels, not codes (状态 已转接 (how the run ended), not completed; a step's title, not its key); 是 / 否, not True / False;
people by name (full name, else username); times in local time to the second; durations in whole
seconds under a heading that says so (用时（秒）).
"""

import csv
import datetime
import io
import re

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from procedures.models import ProcedureRun
from search.models import SynonymGroup
from tests.factories import ArticlePageFactory, make_user, publish
from tests.procedures.conftest import missing_item  # noqa: F401
from tests.procedures.test_procedure_reports import GREETED, known_runs, run_through  # noqa: F401

FORMATS = ["csv", "xlsx"]

REPORTS = [
    "procedures_runs:index",
    "procedures_stats:index",
    "procedures_agents:index",
    "procedures_abandonment:index",
    "procedures_paths:index",
    "procedures_step_times:index",
    "procedures_must_say:index",
    "search_top_queries:index",
    "search_zero_results:index",
    "content_overdue_review:index",
]


def download(client, url, export_format, **params):
    """The export as ``[heading → cell]`` rows: CSV cells as text, XLSX cells as openpyxl reads them."""
    response = client.get(url, {"export": export_format, **params})
    assert response.status_code == 200, url
    body = b"".join(response.streaming_content)
    if export_format == "csv":
        assert body.startswith("\ufeff".encode()), "Excel needs the BOM to read UTF-8"
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    else:
        workbook = openpyxl.load_workbook(io.BytesIO(body))
        rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    headings, *data = rows
    return headings, [dict(zip(headings, row, strict=True)) for row in data]


def cell_time(value, export_format):
    """A time cell as a naive local datetime (CSV: ``2026-03-01 14:05:09``; XLSX: a datetime)."""
    if export_format == "csv":
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", value), value
        return datetime.datetime.fromisoformat(value)
    assert isinstance(value, datetime.datetime), value
    return value


def local(value):
    return timezone.localtime(value).replace(microsecond=0, tzinfo=None)


def number(value, export_format):
    if export_format == "csv":
        assert re.fullmatch(r"\d+", value), f"not whole seconds: {value!r}"
        return int(value)
    assert isinstance(value, int) and not isinstance(value, bool), value
    return value


@pytest.fixture
def unnamed_agent_run(missing_item):  # noqa: F811
    """A run by an agent whose account has no name: reports fall back to the username."""
    user = make_user("坐席", username="agent9")
    return run_through(missing_item, user, GREETED, timezone.now() - datetime.timedelta(hours=1), 75)


@pytest.mark.parametrize("export_format", FORMATS)
def test_runs_export_labels_names_local_times_and_seconds(
    client,
    supervisor,
    known_runs,  # noqa: F811
    unnamed_agent_run,
    export_format,
):
    client.force_login(supervisor)
    headings, rows = download(client, reverse("procedures_runs:index"), export_format)
    assert "用时（秒）" in headings and "用时" not in headings
    by_id = {row["记录编号"]: row for row in rows}
    assert len(by_id) == ProcedureRun.objects.count()

    practice = by_id[str(known_runs["practice"].pk)]
    assert (practice["坐席"], practice["练习"], practice["状态"]) == ("小陈", "是", "已转接")
    assert number(practice["用时（秒）"], export_format) == 30
    escalated = by_id[str(known_runs["a3"].pk)]
    assert (escalated["坐席"], escalated["练习"], escalated["结果"]) == ("小王", "否", "已升级")
    assert number(escalated["用时（秒）"], export_format) == 300
    assert cell_time(escalated["开始"], export_format) == local(known_runs["a3"].started_at)
    assert cell_time(escalated["结束"], export_format) == local(known_runs["a3"].finished_at)
    assert by_id[str(known_runs["b2"].pk)]["状态"] == "已中断"  # idle two days
    assert by_id[str(known_runs["b3"].pk)]["状态"] == "进行中"

    unnamed = by_id[str(unnamed_agent_run.pk)]
    assert unnamed["坐席"] == "agent9" and number(unnamed["用时（秒）"], export_format) == 75


@pytest.mark.parametrize("export_format", FORMATS)
def test_statistics_exports_give_durations_in_seconds_and_agents_by_name(
    client,
    supervisor,
    known_runs,  # noqa: F811
    export_format,
):
    client.force_login(supervisor)
    headings, rows = download(client, reverse("procedures_stats:index"), export_format)
    assert "用时中位数（秒）" in headings and "用时 P90（秒）" in headings
    (row,) = rows
    assert number(row["用时中位数（秒）"], export_format) == 210
    assert number(row["用时 P90（秒）"], export_format) == 600
    _headings, rows = download(client, reverse("procedures_agents:index"), export_format)
    assert {row["坐席"] for row in rows} == {"小王", "小李"}


@pytest.mark.parametrize("export_format", FORMATS)
def test_abandonment_export_names_steps_by_title(client, supervisor, known_runs, export_format):  # noqa: F811
    client.force_login(supervisor)
    headings, rows = download(client, reverse("procedures_abandonment:index"), export_format)
    assert headings[:3] == ["流程", "中断在步骤", "中断次数"] and "步骤标识" not in headings
    assert [(row["流程"], row["中断在步骤"]) for row in rows] == [("少货处理", "外包装是否完好？")]


@pytest.fixture
def overdue_article(section, trainer):
    today = timezone.localdate()
    page = ArticlePageFactory(
        parent=section,
        title="过期的规范",
        slug="stale",
        maintainer=trainer,
        last_reviewed=today - datetime.timedelta(days=200),
        review_interval_days=180,
    )
    return publish(page)


@pytest.mark.parametrize("export_format", FORMATS)
def test_overdue_review_export_gives_dates_days_and_names(client, trainer, overdue_article, export_format):
    client.force_login(trainer)
    _headings, rows = download(client, reverse("content_overdue_review:index"), export_format)
    (row,) = rows
    assert row["负责培训师"] == "李培训"
    assert number(row["逾期天数"], export_format) == 20
    reviewed = row["上次复核"]
    if isinstance(reviewed, datetime.datetime):
        reviewed = reviewed.date()
    assert reviewed in (overdue_article.last_reviewed.isoformat(), overdue_article.last_reviewed)


def test_overdue_review_listing_shows_dates_not_a_time_since(client, trainer, overdue_article):
    """A bare date shown as “x 小时之前” is the time since its midnight, which nobody means."""
    client.force_login(trainer)
    html = client.get(reverse("content_overdue_review:index")).content.decode()
    row = html[html.rindex("过期的规范") :]
    row = re.sub(r"<[^>]+>", " ", row[: row.index("</tr>")])  # the row's text, as it reads
    assert overdue_article.last_reviewed.isoformat() in row and overdue_article.review_due.isoformat() in row
    assert "之前" not in row


@pytest.mark.parametrize("export_format", FORMATS)
def test_synonym_listing_export_opens_in_excel(client, trainer, export_format):
    group = SynonymGroup.objects.create(terms="退钱 = 退款", note="")
    client.force_login(trainer)
    url = reverse("wagtailsnippets_search_synonymgroup:list")
    _headings, rows = download(client, url, export_format)
    # The default groups (search 0006) are listed too; this one once.
    (row,) = [row for row in rows if row["同义词"] == "退钱 = 退款"]
    assert len(rows) == SynonymGroup.objects.count()
    assert cell_time(row["更新时间"], export_format) == local(group.updated_at)


@pytest.mark.parametrize("export_format", FORMATS)
def test_no_export_writes_a_code_a_flag_a_username_or_a_raw_duration(
    client,
    supervisor,
    known_runs,  # noqa: F811
    export_format,
):
    """A sweep over every report: nothing a supervisor would have to decode."""
    client.force_login(supervisor)
    client.get("/search/", {"q": "少货"})
    client.get("/search/", {"q": "没有这个词"})
    codes = {"True", "False", "completed", "in_progress", "abandoned", "ask-package", "greet", "collect"}
    usernames = {"agent", "agent2", "newhire", "supervisor"}
    for name in REPORTS:
        _headings, rows = download(client, reverse(name), export_format)
        for row in rows:
            for heading, value in row.items():
                text = "" if value is None else str(value)
                assert text not in codes | usernames, (name, heading, text)
                assert not re.search(r"\d:\d\d:\d\d\.\d|\.\d{4,}|\+00:00", text), (name, heading, text)


@pytest.mark.parametrize("export_format", FORMATS)
def test_wagtails_own_reports_export_like_ours(client, supervisor, section, export_format):
    """Site history, aging pages, locked pages (Wagtail's reports, mounted by kb_site.builtin_reports):
    the BOM, local time to the second, people by name, no codes."""
    article = publish(ArticlePageFactory(parent=section, title="锁定的规范", slug="locked"), user=supervisor)
    article.locked, article.locked_by, article.locked_at = True, supervisor, timezone.now()
    article.save()
    client.force_login(supervisor)
    for name in ("wagtailadmin_reports:site_history", "wagtailadmin_reports:aging_pages"):
        headings, rows = download(client, reverse(name), export_format)
        assert rows, name
        for row in rows:
            for heading, value in row.items():
                text = "" if value is None else str(value)
                assert text not in {"True", "False", "supervisor"}, (name, heading, text)
                assert not re.search(r"\d:\d\d:\d\d\.\d|\+00:00", text), (name, heading, text)
    _headings, rows = download(client, reverse("wagtailadmin_reports:locked_pages"), export_format)
    (row,) = [row for row in rows if "锁定的规范" in str(row.values())]
    locked_at = [row["锁定于"]]
    assert [cell_time(value, export_format) for value in locked_at] == [local(article.locked_at)], row
    assert "张主管" in row.values() and "supervisor" not in row.values()


def test_wagtails_own_reports_keep_their_access_checks(client, agent):
    """Mounted again by kb_site.builtin_reports, the reports still need admin access and their permission."""
    client.force_login(agent)
    for name in ("wagtailadmin_reports:site_history", "wagtailadmin_reports:locked_pages"):
        response = client.get(reverse(name), {"export": "csv"})
        assert response.status_code == 302 and not response.streaming, name
