"""The search reports' 最近一次 is when the last search was made, in local time: not a “12 小时之前”
worked out from a bare date, and a search after local midnight counts on the local day."""

import csv
import datetime
import io
import re
from unittest import mock

import openpyxl
import pytest
from django.utils import timezone
from wagtail.contrib.search_promotions.models import Query, QueryDailyHits

from search.models import ZeroResultQuery

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kb_for_the_module", "search_index")]

ZERO_RESULTS = "/admin/reports/zero-results/"
TOP_QUERIES = "/admin/reports/top-queries/"
NOTHING = "氪氙钋镭"


def row_text(html, query):
    """The text of the listing row of ``query``."""
    row = html[html.rindex(query) :]
    return " ".join(re.sub(r"<[^>]+>", " ", row[: row.index("</tr>")]).split())


def local_minute(moment):
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def export_cell(client, url, query, export_format):
    response = client.get(url, {"export": export_format})
    body = b"".join(response.streaming_content)
    if export_format == "csv":
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        (row,) = [r for r in rows if r["搜索词"] == query]
        return datetime.datetime.fromisoformat(row["最近一次"])
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    headings, *rows = sheet.iter_rows(values_only=True)
    (row,) = [dict(zip(headings, r, strict=True)) for r in rows if r[0] == query]
    return row["最近一次"]


@pytest.mark.parametrize("url, query", [(ZERO_RESULTS, NOTHING), (TOP_QUERIES, "投诉")])
def test_the_reports_show_the_time_of_the_last_search(client, agent_client, trainer, kb, url, query):
    agent_client.get("/search/", {"q": "投诉"})
    before = timezone.now()
    agent_client.get("/search/", {"q": query})
    agent_client.get("/search/", {"q": NOTHING})
    after = timezone.now()

    client.force_login(trainer)
    text = row_text(client.get(url).content.decode(), query)
    assert local_minute(before) in text or local_minute(after) in text, text
    assert "之前" not in text and "小时" not in text
    for export_format in ("csv", "xlsx"):
        cell = export_cell(client, url, query, export_format)
        assert cell.microsecond == 0 and cell.tzinfo is None
        low = timezone.localtime(before).replace(microsecond=0, tzinfo=None)
        high = timezone.localtime(after).replace(tzinfo=None)
        assert low <= cell <= high, (export_format, cell)


def test_a_search_after_local_midnight_counts_on_the_local_day(client, agent_client, trainer, kb):
    """01:30 in Shanghai is 17:30 UTC the day before: the search belongs to the local day."""
    moment = datetime.datetime(2026, 11, 29, 17, 30, 5, tzinfo=datetime.UTC)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        agent_client.get("/search/", {"q": NOTHING})
        agent_client.get("/search/", {"q": "投诉"})
    local_day = datetime.date(2026, 11, 30)
    assert list(ZeroResultQuery.objects.values_list("date", flat=True)) == [local_day]
    assert set(QueryDailyHits.objects.values_list("date", flat=True)) == {local_day}

    client.force_login(trainer)
    for url, query in ((ZERO_RESULTS, NOTHING), (TOP_QUERIES, "投诉")):
        html = client.get(url, {"date_from": "2026-11-30", "date_to": "2026-11-30"}).content.decode()
        assert "2026-11-30 01:30" in row_text(html, query)
        assert export_cell(client, url, query, "xlsx") == datetime.datetime(2026, 11, 30, 1, 30, 5)


def test_days_counted_before_times_were_kept_show_their_day(client, trainer, kb):
    """Rows from before the migration know their day only: the report says that day, not a time since."""
    day = timezone.localdate() - datetime.timedelta(days=3)
    ZeroResultQuery.objects.create(query_string="旧的无结果词", date=day, hits=2)
    Query.get("旧的热门词").add_hit(date=day)

    client.force_login(trainer)
    for url, query in ((ZERO_RESULTS, "旧的无结果词"), (TOP_QUERIES, "旧的热门词")):
        text = row_text(client.get(url).content.decode(), query)
        assert day.isoformat() in text and "之前" not in text, text
        response = client.get(url, {"export": "csv"})
        body = b"".join(response.streaming_content).decode("utf-8-sig")
        assert f"{query}," in body and f",{day.isoformat()}" in body


def test_searches_of_a_day_are_each_counted_with_the_last_ones_time(agent_client, kb):
    """The second and later searches of a query on a day take the short path; the first one of the next
    local day and a day counted by Wagtail's own ``add_hit`` (no time kept yet) take the long one."""
    first = datetime.datetime(2026, 11, 29, 17, 30, 5, tzinfo=datetime.UTC)  # 11-30 01:30 local
    for minutes in (0, 1, 2):
        with mock.patch(
            "django.utils.timezone.now", return_value=first + datetime.timedelta(minutes=minutes)
        ):
            agent_client.get("/search/", {"q": "投诉"})
    with mock.patch("django.utils.timezone.now", return_value=first + datetime.timedelta(days=1)):
        agent_client.get("/search/", {"q": "投诉"})
    Query.get("退款").add_hit(date=datetime.date(2026, 11, 30))
    with mock.patch("django.utils.timezone.now", return_value=first):
        agent_client.get("/search/", {"q": "退款"})
        agent_client.get("/search/", {"q": "退款"})

    rows = {
        (row.query.query_string, row.date): (row.hits, timezone.localtime(row.last_search.searched_at))
        for row in QueryDailyHits.objects.select_related("query", "last_search")
    }
    local = timezone.get_current_timezone()
    assert rows == {
        ("投诉", datetime.date(2026, 11, 30)): (3, datetime.datetime(2026, 11, 30, 1, 32, 5, tzinfo=local)),
        ("投诉", datetime.date(2026, 12, 1)): (1, datetime.datetime(2026, 12, 1, 1, 30, 5, tzinfo=local)),
        ("退款", datetime.date(2026, 11, 30)): (3, datetime.datetime(2026, 11, 30, 1, 30, 5, tzinfo=local)),
    }
