"""Weak queries: a search whose best hit covers less than half of the query's content words is counted in
the 无结果搜索 report like one that found nothing, with that share and the hit's title; from a row a
trainer adds a synonym or a promoted result in one step."""

import csv
import datetime
import io
import re

import openpyxl
import pytest
from django.utils import timezone
from wagtail.contrib.search_promotions.models import Query, SearchPromotion

from search.models import SynonymGroup, ZeroResultQuery

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kb_for_the_module", "search_index")]

# 投诉 is in the knowledge base (tests.search.frontend_data), 税号 and 抬头 are nowhere: the best hit
# covers one of three words.
WEAK = "投诉 税号 抬头"


def plain(html):
    return re.sub(r"<[^>]+>", "", html)


def test_a_weak_query_is_recorded_with_its_coverage_and_best_title(agent_client, kb):
    data = agent_client.get("/search/api/", {"q": WEAK}).json()
    assert data["total"] > 0
    best = plain(data["results"][0]["title"])
    agent_client.get("/search/", {"q": WEAK})

    row = ZeroResultQuery.objects.get()
    assert row.query_string == WEAK
    assert row.hits == 2
    assert row.best_coverage == pytest.approx(1 / 3)
    assert row.best_title == best
    assert row.last_searched_at is not None


def test_strong_queries_are_not_recorded(agent_client, kb):
    agent_client.get("/search/", {"q": "投诉"})  # one word: found or not
    agent_client.get("/search/", {"q": "投诉 工单"})  # 投诉 in the title, 工单 in the text
    agent_client.get("/search/", {"q": "投诉 时限"})  # 时限: a tag of the complaint article
    assert not ZeroResultQuery.objects.exists()


def test_a_filtered_or_later_page_is_not_counted_again(agent_client, kb):
    agent_client.get("/search/", {"q": WEAK, "type": "article"})
    agent_client.get("/search/", {"q": WEAK, "page": 2})
    assert not ZeroResultQuery.objects.exists()


def test_a_promoted_result_makes_a_query_strong(agent_client, kb):
    SearchPromotion.objects.create(query=Query.get(WEAK), page=kb["parcel"], sort_order=0)
    agent_client.get("/search/", {"q": WEAK})
    assert not ZeroResultQuery.objects.exists()


def test_a_day_keeps_the_worst_search(kb):
    now = timezone.now()
    ZeroResultQuery.record("快递 赔偿 标准", now=now, coverage=0.4, title="快递查询规范")
    ZeroResultQuery.record("快递 赔偿 标准", now=now, coverage=0.2, title="其他")
    ZeroResultQuery.record("快递 赔偿 标准", now=now, coverage=0.3, title="第三")
    row = ZeroResultQuery.objects.get()
    assert (row.hits, row.best_coverage, row.best_title) == (3, 0.2, "其他")
    ZeroResultQuery.record("快递 赔偿 标准", now=now)  # then nothing found: the worst there is
    ZeroResultQuery.record("快递 赔偿 标准", now=now, coverage=0.1, title="又一个")
    row.refresh_from_db()
    assert (row.hits, row.best_coverage, row.best_title) == (5, None, "")
    later = now + datetime.timedelta(days=1)
    ZeroResultQuery.record("快递 赔偿 标准", now=later, coverage=0.25, title="快递查询规范")
    assert ZeroResultQuery.objects.get(date=timezone.localdate(later)).best_coverage == 0.25


def test_synonyms_count_as_covered(agent_client, kb):
    SynonymGroup.objects.create(terms="税号 = 工单")
    agent_client.get("/search/", {"q": "投诉 税号"})
    assert not ZeroResultQuery.objects.exists()


# --- the 无结果搜索 report ---------------------------------------------------------------------------

REPORT = "/admin/reports/zero-results/"
SYNONYM = "/admin/reports/zero-results/synonym/"
PROMOTE = "/admin/reports/zero-results/promote/"


def row_text(html, query):
    """The text of the report row whose first cell is ``query`` ("" if there is none)."""
    for row in html.split("<tr")[1:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if cells and cells[0].strip() == query:
            return " ".join(re.sub(r"<[^>]+>", " ", row[: row.index("</tr>")]).split())
    return ""


def export_rows(client, **params):
    response = client.get(REPORT, {"export": "csv", **params})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def test_the_report_lists_weak_and_zero_result_queries_with_local_time_and_a_filter(
    client, agent_client, trainer, kb
):
    agent_client.get("/search/", {"q": "税号抬头"})
    before = timezone.now()
    agent_client.get("/search/", {"q": WEAK})
    best = ZeroResultQuery.objects.get(query_string=WEAK).best_title

    client.force_login(trainer)
    html = client.get(REPORT).content.decode()
    zero, weak = row_text(html, "税号抬头"), row_text(html, WEAK)
    assert "无结果" in zero and "%" not in zero
    assert "结果较弱" in weak and "33%" in weak and best in weak
    assert f"{timezone.localtime(before):%Y-%m-%d %H:}" in weak  # local time, not UTC
    assert "加同义词" in weak and "设推荐结果" in weak

    only_weak = client.get(REPORT, {"kind": "weak"}).content.decode()
    assert row_text(only_weak, WEAK) and not row_text(only_weak, "税号抬头")
    only_zero = client.get(REPORT, {"kind": "nothing"}).content.decode()
    assert row_text(only_zero, "税号抬头") and not row_text(only_zero, WEAK)
    assert client.get(REPORT, {"kind": "<script>"}).status_code == 200  # an unknown choice: a form error

    rows = {row["搜索词"]: row for row in export_rows(client)}
    assert rows[WEAK]["结果"] == "结果较弱" and rows[WEAK]["最佳结果覆盖率（%）"] == "33"
    assert rows[WEAK]["最佳结果"] == best
    assert rows["税号抬头"]["结果"] == "无结果" and rows["税号抬头"]["最佳结果覆盖率（%）"] == ""
    assert "处理" not in rows[WEAK]
    assert [row["搜索词"] for row in export_rows(client, kind="weak")] == [WEAK]
    xlsx = client.get(REPORT, {"export": "xlsx", "kind": "weak"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    headings, *values = sheet.iter_rows(values_only=True)
    assert dict(zip(headings, values[0], strict=True))["最佳结果覆盖率（%）"] == 33


def test_a_query_weak_one_day_and_found_nothing_another_is_listed_as_no_result(client, trainer, kb):
    today = timezone.localdate()
    ZeroResultQuery.objects.create(
        query_string="快递 理赔", date=today, hits=2, best_coverage=0.4, best_title="甲"
    )
    ZeroResultQuery.objects.create(query_string="快递 理赔", date=today - datetime.timedelta(days=1), hits=1)
    ZeroResultQuery.objects.create(
        query_string="少货 补发 时限", date=today, hits=1, best_coverage=0.33, best_title="乙"
    )
    ZeroResultQuery.objects.create(
        query_string="少货 补发 时限",
        date=today - datetime.timedelta(days=2),
        hits=1,
        best_coverage=0.2,
        best_title="丙",
    )
    client.force_login(trainer)
    rows = {row["搜索词"]: row for row in export_rows(client)}
    assert (rows["快递 理赔"]["结果"], rows["快递 理赔"]["次数"]) == ("无结果", "3")
    assert (
        rows["少货 补发 时限"]["最佳结果覆盖率（%）"] == "20" and rows["少货 补发 时限"]["最佳结果"] == "丙"
    )
    recent = {row["搜索词"]: row for row in export_rows(client, date_from=today.isoformat())}
    assert recent["快递 理赔"]["结果"] == "结果较弱" and recent["快递 理赔"]["最佳结果"] == "甲"
    assert recent["少货 补发 时限"]["最佳结果"] == "乙"


# --- one step from a row: a synonym, a promoted result ------------------------------------------------


def api_results(client, query):
    return client.get("/search/api/", {"q": query}).json()["results"]


def test_the_forms_open_with_the_query_filled_in(client, trainer, kb):
    client.force_login(trainer)
    html = client.get(SYNONYM, {"q": "包裹丢了怎么办", "next": REPORT + "?kind=weak"}).content.decode()
    assert 'value="包裹丢了怎么办"' in html  # the query, its words offered beside it
    assert '<option value="包裹">' in html
    assert 'name="next" value="/admin/reports/zero-results/?kind=weak"' in html
    html = client.get(PROMOTE, {"q": WEAK}).content.decode()
    assert (
        f'value="{WEAK}"' in html and 'data-chooser-url="/admin/choose-page/"' in html
    )  # Wagtail's page chooser


def test_a_new_synonym_group_from_a_row_expands_the_next_search(client, agent, trainer, kb):
    client.force_login(agent)
    assert api_results(client, "税号") == []
    client.force_login(trainer)
    data = {"q": "税号", "term": "税号", "new_terms": "工单", "next": REPORT + "?kind=nothing"}
    response = client.post(SYNONYM, data, follow=True)
    assert response.redirect_chain == [(REPORT + "?kind=nothing", 302)]
    assert "已添加同义词“税号”" in response.content.decode()
    client.post(SYNONYM, data)  # a double submit: still one group
    assert [group.term_list for group in SynonymGroup.objects.filter(terms__contains="税号")] == [
        ["税号", "工单"]
    ]

    client.force_login(agent)
    assert [plain(r["title"]) for r in api_results(client, "税号")] == ["客户投诉处理流程"]


def test_a_word_of_the_query_joins_an_existing_group(client, agent, trainer, kb):
    group = SynonymGroup.objects.create(terms="退款 = 退钱")
    client.force_login(trainer)
    response = client.post(SYNONYM, {"q": "返款 多久", "term": "返款", "group": group.pk})
    assert response.status_code == 302 and response["Location"] == REPORT
    client.post(SYNONYM, {"q": "返款 多久", "term": "返款", "group": group.pk})
    group.refresh_from_db()
    assert group.term_list == ["退款", "退钱", "返款"]

    client.force_login(agent)
    assert plain(api_results(client, "返款")[0]["title"]) == "退款时限说明"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"term": "", "new_terms": "工单"}, "必需字段"),
        ({"term": "税号 抬头", "new_terms": "工单"}, "一次只能添加一个词"),
        ({"term": "税号"}, "请选择一个已有的同义词组，或填写与它同义的词"),
        ({"term": "税号", "new_terms": "税号"}, "至少需要另一个不同的词"),
        ({"term": "的", "new_terms": "工单"}, "只由虚词组成"),
        ({"term": "税号", "group": "999999"}, "请选择一个存在的同义词组"),
        ({"term": "税号", "group": str(10**30)}, "请选择一个存在的同义词组"),
        ({"term": "税号", "group": "abc"}, "请选择一个存在的同义词组"),
        ({"term": "税号", "new_terms": "工单 单据"}, "同义词不能包含空格"),
    ],
)
def test_bad_synonym_input_is_a_form_error(client, trainer, kb, data, message):
    groups = list(SynonymGroup.objects.values_list("terms", flat=True))  # the default set, if any
    client.force_login(trainer)
    response = client.post(SYNONYM, {"q": "税号", **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(SynonymGroup.objects.values_list("terms", flat=True)) == groups


def test_a_promoted_result_from_a_row_comes_first_in_the_next_search(client, agent, trainer, kb):
    client.force_login(agent)
    assert api_results(client, WEAK)[0]["url"] != kb["parcel"].url
    client.force_login(trainer)
    data = {"q": WEAK, "query": WEAK, "page": kb["parcel"].pk, "description": "先查物流", "next": REPORT}
    response = client.post(PROMOTE, data, follow=True)
    assert response.redirect_chain == [(REPORT, 302)]
    assert "已为“投诉 税号 抬头”设置推荐结果“快递查询规范”" in response.content.decode()
    client.post(PROMOTE, data)  # a double submit: still one promotion
    assert SearchPromotion.objects.filter(query__query_string=WEAK).count() == 1

    client.force_login(agent)
    first = api_results(client, WEAK)[0]
    assert first["promoted"] is True and first["url"] == kb["parcel"].url


def test_bad_promotion_input_is_a_form_error(client, trainer, kb):
    from tests.search.frontend_data import restrict_to_group

    restrict_to_group(kb["refund"], "财务组")  # the trainer is not in it
    client.force_login(trainer)
    for page, message in (
        (kb["refund"].pk, "您无权查看这个页面"),
        (kb["draft"].pk, "尚未发布"),
        (kb["section"].get_parent().get_parent().pk, "您无权查看这个页面"),  # the root
        (999999, "请选择一个存在的页面"),
        (10**30, "请选择一个存在的页面"),
        ("abc", "请选择一个存在的页面"),
        ("", "必需字段"),
    ):
        response = client.post(PROMOTE, {"q": WEAK, "query": WEAK, "page": page})
        assert response.status_code == 400, page
        assert message in response.content.decode(), page
    response = client.post(PROMOTE, {"query": "  ", "page": kb["parcel"].pk})
    assert response.status_code == 400 and "必需字段" in response.content.decode()
    assert not SearchPromotion.objects.exists()


def test_next_goes_back_to_the_report_only(client, trainer, kb):
    client.force_login(trainer)
    for next_url in ("https://evil.example/", "/admin/users/", "//evil.example/admin/reports/zero-results/"):
        response = client.post(SYNONYM, {"term": "税号", "new_terms": "工单", "next": next_url})
        assert response["Location"] == REPORT, next_url
        SynonymGroup.objects.filter(terms__contains="税号").delete()


def test_who_may_use_the_forms(client, agent, trainer, supervisor, kb):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    client.force_login(agent)
    for url in (SYNONYM, PROMOTE):
        response = client.post(
            url, {"term": "税号", "new_terms": "工单", "query": WEAK, "page": kb["parcel"].pk}
        )
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    # An admin user without the permissions: refused as Wagtail refuses, and shown no buttons.
    editor = UserFactory(username="editor")
    editor.user_permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_zeroresultquery"),
    )
    ZeroResultQuery.record(WEAK, coverage=0.2, title="快递查询规范")
    client.force_login(editor)
    for url in (SYNONYM, PROMOTE):
        response = client.post(
            url, {"term": "税号", "new_terms": "工单", "query": WEAK, "page": kb["parcel"].pk}
        )
        assert response.status_code == 302 and response["Location"] == "/admin/", url
        assert client.get(url).status_code == 302
    html = client.get(REPORT).content.decode()
    assert row_text(html, WEAK) and "加同义词" not in html and "设推荐结果" not in html
    client.logout()
    assert client.get(SYNONYM)["Location"].startswith("/admin/login/")
    assert not SynonymGroup.objects.filter(terms__contains="税号").exists()
    assert not SearchPromotion.objects.exists()

    client.force_login(supervisor)
    assert client.get(SYNONYM, {"q": WEAK}).status_code == 200
    assert client.get(PROMOTE, {"q": WEAK}).status_code == 200


def test_the_forms_need_the_csrf_token(trainer, kb):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(trainer)
    assert client.post(SYNONYM, {"term": "税号", "new_terms": "工单"}).status_code == 403
    assert client.post(PROMOTE, {"query": WEAK, "page": kb["parcel"].pk}).status_code == 403
    assert not SynonymGroup.objects.filter(terms__contains="税号").exists()
    assert not SearchPromotion.objects.exists()


def test_weak_searches_count_as_near_zero_result_searches_in_content_health(client, trainer, kb):
    from tests.site.test_health import dashboard, items_of

    ZeroResultQuery.record("退款 税号 抬头", coverage=0.33, title="退款时限说明")
    item = items_of(dashboard(client, trainer))["退款时限说明"]
    assert item.zero_result_queries == [("退款 税号 抬头", 1)]


def test_the_demo_weak_searches_load_once_and_show_in_the_report(client, trainer):
    from pathlib import Path

    from search.demo import WEAK_SEARCHES, load_weak_searches

    fixtures = "".join(path.read_text() for path in Path("fixtures/demo").rglob("*.yaml"))
    for _query, title, _days in WEAK_SEARCHES:
        assert title in fixtures, title  # a real title of the demo content
    added = load_weak_searches()
    assert added == sum(len(days) for _q, _t, days in WEAK_SEARCHES)
    assert load_weak_searches() == 0
    assert ZeroResultQuery.objects.count() == added
    assert all(0 < row.best_coverage < 0.5 for row in ZeroResultQuery.objects.all())

    client.force_login(trainer)
    html = client.get(REPORT, {"kind": "weak"}).content.decode()
    assert "结果较弱" in row_text(html, "停电了要求赔偿") and "33%" in row_text(html, "停电了要求赔偿")
