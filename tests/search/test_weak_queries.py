"""Weak queries: a search whose best hit covers less than half of the query's content words is counted in
the 无结果搜索 report like one that found nothing, with that share and the hit's title; from a row a
trainer adds a synonym or a promoted result in one step."""

import datetime
import re

import pytest
from django.utils import timezone
from wagtail.contrib.search_promotions.models import Query, SearchPromotion

from search.models import SynonymGroup, ZeroResultQuery

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("search_index")]

# 投诉 is in the knowledge base (tests.search.frontend_data), 发票 and 抬头 are nowhere: the best hit
# covers one of three words.
WEAK = "投诉 发票 抬头"


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
    SynonymGroup.objects.create(terms="发票 = 工单")
    agent_client.get("/search/", {"q": "投诉 发票"})
    assert not ZeroResultQuery.objects.exists()
