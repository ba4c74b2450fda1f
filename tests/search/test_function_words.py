"""Function words (了, 的, 请问…) never match on their own: a query of only them finds nothing, is counted
as a zero-result search and gets a tip; in a longer query they are dropped (``zhtext.function_words``)."""

import datetime

import pytest
from django.utils import timezone
from wagtail.contrib.search_promotions.models import Query, QueryDailyHits

from search.models import ZeroResultQuery
from tests.search.frontend_data import article, refresh_index

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kb_for_the_module", "search_index")]

TIP = "这类词单独搜不到内容"


@pytest.fixture
def chatty_kb(kb):
    """The search tests' knowledge base (its texts are full of 了 and 的), a page that has 了 in its title
    and nothing else in common with a lost parcel, and the page about lost parcels."""
    kb["trees"] = article(
        kb["other"], "讨论题：装变压器砍了果树", summary="施工时砍了业主的果树，业主来电了。"
    )
    kb["lost"] = article(
        kb["other"], "包裹丢失处理", summary="客户反映包裹丢失时，先查物流轨迹，再登记理赔。"
    )
    refresh_index()
    return kb


def api(client, query):
    return client.get("/search/api/", {"q": query}).json()


@pytest.mark.parametrize("query", ["了", "的", "请问", "好的好的", "请问，好的！"])
def test_a_query_of_only_function_words_finds_nothing(agent_client, chatty_kb, query):
    data = api(agent_client, query)
    assert data["total"] == 0 and data["results"] == []
    assert data["function_words_only"] is True
    assert data["suggestions"] == []


def test_le_alone_gives_no_results_a_tip_and_a_zero_result_record(agent_client, chatty_kb):
    response = agent_client.get("/search/", {"q": "了"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="search-hit-title"' not in html
    assert "共 0 条结果" in html
    assert "您是不是要找具体的事情" in html and TIP in html
    assert ZeroResultQuery.objects.get(query_string="了").hits == 1


def test_function_words_alone_are_offered_what_colleagues_searched_most(agent_client, chatty_kb):
    """您是不是要找 lists the most searched queries of the last 30 days that find something, most first;
    not one that finds nothing, nor one searched longer ago."""
    today = timezone.localdate()
    searches = [("包裹丢失", today, 5), ("果树", today - datetime.timedelta(days=3), 2)]
    searches += [("量子力学", today, 9), ("砍了果树", today - datetime.timedelta(days=40), 50)]
    for text, day, hits in searches:
        QueryDailyHits.objects.create(query=Query.get(text), date=day, hits=hits)
    data = api(agent_client, "好的好的")
    assert data["total"] == 0 and data["suggestions"] == ["包裹丢失", "果树"]
    html = agent_client.get("/search/", {"q": "了"}).content.decode()
    assert "您是不是要找：" in html and 'href="?q=%E5%8C%85%E8%A3%B9%E4%B8%A2%E5%A4%B1"' in html


def test_a_real_zero_result_query_gets_no_function_word_tip(agent_client, chatty_kb):
    html = agent_client.get("/search/", {"q": "量子力学"}).content.decode()
    assert TIP not in html
    assert "没有找到相关内容" in html
    assert api(agent_client, "投诉")["function_words_only"] is False


def test_a_colloquial_query_is_matched_on_its_content_words(agent_client, chatty_kb):
    titles = [
        r["title"].replace("<mark>", "").replace("</mark>", "")
        for r in api(agent_client, "包裹丢了")["results"]
    ]
    assert titles[0] == "包裹丢失处理"
    assert "讨论题：装变压器砍了果树" not in titles  # it shares only 了 with the query
    # 了 is never highlighted, the content words are
    html = agent_client.get("/search/", {"q": "包裹丢了"}).content.decode()
    assert "<mark>了</mark>" not in html and "<mark>包裹</mark>" in html
    assert not ZeroResultQuery.objects.filter(query_string="包裹丢了").exists()


def test_function_words_around_a_keyword_change_nothing(agent_client, chatty_kb):
    plain = [r["title"] for r in api(agent_client, "退款")["results"]]
    assert plain
    for query in ["请问退款", "我想退款", "可以退款吗", "退款 了"]:
        assert [r["title"] for r in api(agent_client, query)["results"]] == plain, query


def test_a_negation_is_searched_with_the_word_it_negates_not_on_its_own(agent_client, chatty_kb):
    article(chatty_kb["section"], "付款后不发货的处理", summary="客户付款三天仍未发货。")
    refresh_index()
    assert "付款后不发货的处理" in [
        r["title"].replace("<mark>", "").replace("</mark>", "")
        for r in api(agent_client, "不发货")["results"]
    ]
    # 不 alone carries nothing: Latin noise that matches nothing finds nothing
    assert api(agent_client, "xyzabc不")["total"] == 0
    assert api(agent_client, "xyzabc不存在")["total"] == 0
