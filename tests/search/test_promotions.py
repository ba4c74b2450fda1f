"""Promoted results first, query hits recorded, zero-result queries logged, and the admin reports."""

import datetime

import pytest
from django.utils import timezone
from wagtail.contrib.search_promotions.models import Query, QueryDailyHits, SearchPromotion

from search.models import ZeroResultQuery

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kb_for_the_module", "search_index")]


def test_promoted_result_comes_first(agent_client, kb):
    SearchPromotion.objects.create(
        query=Query.get("投诉"), page=kb["parcel"], description="投诉多与快递有关，先查物流", sort_order=0
    )
    data = agent_client.get("/search/api/", {"q": "投诉"}).json()
    first = data["results"][0]
    assert first["promoted"] is True
    assert first["url"] == kb["parcel"].url
    assert "<mark>投诉</mark>" in first["snippet"]
    assert [r["promoted"] for r in data["results"][1:]] == [False, False]

    html = agent_client.get("/search/", {"q": "投诉"}).content.decode()
    assert html.index("推荐") < html.index("客户<mark>投诉</mark>处理流程")


def test_promotion_of_a_page_that_is_also_a_hit_is_not_repeated(agent_client, kb):
    SearchPromotion.objects.create(query=Query.get("投诉"), page=kb["complaint"], sort_order=0)
    results = agent_client.get("/search/api/", {"q": "投诉"}).json()["results"]
    urls = [r["url"] for r in results]
    assert urls[0] == kb["complaint"].url and urls.count(kb["complaint"].url) == 1


def test_unpublished_promoted_page_is_not_shown(agent_client, kb):
    kb["parcel"].unpublish()
    SearchPromotion.objects.create(query=Query.get("投诉"), page=kb["parcel"], sort_order=0)
    results = agent_client.get("/search/api/", {"q": "投诉"}).json()["results"]
    assert not any(r["promoted"] for r in results)


def test_query_hits_are_recorded_once_per_search(agent_client, kb):
    agent_client.get("/search/", {"q": "投诉"})
    agent_client.get("/search/", {"q": " 投诉 "})
    agent_client.get("/search/", {"q": "投诉", "page": 2})  # paging is the same search
    agent_client.get("/search/suggest/", {"q": "投诉"})  # typing is not a search
    assert Query.get("投诉").hits == 2


def test_zero_result_queries_are_logged(agent_client, kb):
    agent_client.get("/search/", {"q": "发票抬头"})
    agent_client.get("/search/api/", {"q": "发票抬头"})
    agent_client.get("/search/", {"q": "投诉"})
    rows = ZeroResultQuery.objects.all()
    assert [(r.query_string, r.hits) for r in rows] == [("发票抬头", 2)]


def test_reports_with_date_range_and_export(client, trainer, agent, kb):
    today = timezone.localdate()
    old = today - datetime.timedelta(days=40)
    Query.get("投诉").add_hit(date=today)
    Query.get("投诉").add_hit(date=today)
    Query.get("退款").add_hit(date=old)
    ZeroResultQuery.record("发票抬头", date=today)
    ZeroResultQuery.record("发票抬头", date=old)
    ZeroResultQuery.record("开发票", date=old)

    client.force_login(trainer)
    html = client.get("/admin/reports/top-queries/").content.decode()
    assert "投诉" in html and "退款" in html
    since = (today - datetime.timedelta(days=7)).isoformat()
    recent = client.get("/admin/reports/top-queries/", {"date_from": since}).content.decode()
    assert "投诉" in recent and "退款" not in recent

    csv = client.get("/admin/reports/zero-results/", {"export": "csv"})
    assert csv.status_code == 200
    body = b"".join(csv.streaming_content).decode("utf-8-sig") if csv.streaming else csv.content.decode()
    lines = [line for line in body.splitlines() if line]
    assert lines[0].startswith("搜索词,次数")
    assert lines[1].startswith("发票抬头,2,2,")
    assert lines[2].startswith("开发票,1,1,")
    recent_csv = client.get("/admin/reports/zero-results/", {"export": "csv", "date_from": since})
    recent_body = b"".join(recent_csv.streaming_content).decode("utf-8-sig")
    assert "发票抬头,1,1," in recent_body and "开发票" not in recent_body
    xlsx = client.get("/admin/reports/zero-results/", {"export": "xlsx"})
    assert xlsx.status_code == 200

    client.force_login(agent)
    assert client.get("/admin/reports/zero-results/").status_code in (302, 403)


def test_trainer_can_edit_promotions(client, trainer, kb):
    client.force_login(trainer)
    assert client.get("/admin/searchpicks/add/").status_code == 200
    assert QueryDailyHits.objects.count() == 0
