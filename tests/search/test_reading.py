"""What a query reads as (``search.reading``): pinyin typed for Chinese and homophone typos are searched
as the words meant, and the results page and the API say so; what is typed wins when it finds something
itself. Traditional characters fold to simplified in the query, the content and the highlighting."""

import re

import pytest
from django.utils.html import strip_tags

from tests.search.frontend_data import article, refresh_index

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kb_for_the_module", "search_index")]


@pytest.fixture
def reading_kb(kb):
    """The search tests' knowledge base plus pages about short deliveries, returns and replies (one of
    them written in traditional characters), a system called TK, and a page that says 出力 (chū lì, the
    sound of 处理) in its text."""
    section, other = kb["section"], kb["other"]
    kb["short"] = article(section, "少货处理规范", summary="客户反映少货时，先核实出库单再补发。")
    kb["returns"] = article(section, "退货申请须知", summary="退货须在签收后七天内申请。")
    kb["reply"] = article(section, "留言回复时限", summary="客户留言须在二十四小时内回复。")
    kb["traditional"] = article(other, "退貨須知（繁體）", summary="請於七天內回覆客戶，退貨運費由賣家承擔。")
    kb["tk"] = article(other, "TK 工单系统登录", summary="TK 是工单系统的简称，登录 TK 后查看工单。")
    kb["app"] = article(other, "手机 APP 常见问题", summary="客户无法登录 app 时，请先更新 app 版本。")
    kb["lifting"] = article(other, "大件装卸规范", summary="搬运大件时两人一起出力，注意安全。")
    refresh_index()
    return kb


def api(client, query):
    return client.get("/search/api/", {"q": query}).json()


def titles(data):
    return [strip_tags(result["title"]) for result in data["results"]]


def notice(response):
    """The text of the reading notice on a results page, or None."""
    match = re.search(
        r'<p class="search-notice search-reading"[^>]*>(.*?)</p>', response.content.decode(), re.S
    )
    return " ".join(strip_tags(match.group(1)).split()) if match else None


@pytest.mark.parametrize(
    ("query", "searched", "title"),
    [
        ("tousu", "投诉", "客户投诉处理流程"),
        ("tou su", "投诉", "客户投诉处理流程"),
        ("ts", "投诉", "客户投诉处理流程"),
        ("TouSu", "投诉", "客户投诉处理流程"),
        ("tuikuan", "退款", "退款时限说明"),
        ("shaohuo", "少货", "少货处理规范"),
        ("tousuchuli", "投诉处理", "客户投诉处理流程"),
        ("tousu shixian", "投诉时限", "客户投诉处理流程"),
    ],
)
def test_pinyin_is_searched_as_the_chinese_it_stands_for(agent_client, reading_kb, query, searched, title):
    response = agent_client.get("/search/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert title in [strip_tags(t) for t in re.findall(r'class="search-hit-title"[^>]*>(.*?)</a>', html)]
    assert notice(response).startswith(f"按拼音 {query}：{searched}")
    assert f"<mark>{searched[:2]}</mark>" in html  # what was searched is highlighted
    data = api(agent_client, query)
    assert title in titles(data)
    assert data["reading"] == {
        "kind": "pinyin",
        "typed": query,
        "searched": searched,
        "applied": True,
        "message": f"按拼音 {query}：{searched}",
    }


def test_the_notice_links_to_the_query_as_typed_which_is_not_read(agent_client, reading_kb):
    html = agent_client.get("/search/", {"q": "tousu"}).content.decode()
    link = re.search(r'class="search-reading-verbatim" href="([^"]+)"', html).group(1)
    assert link == "?q=%22tousu%22"
    data = api(agent_client, '"tousu"')
    assert data["reading"] is None and data["total"] == 0


def test_a_latin_word_in_the_content_is_searched_as_typed(agent_client, reading_kb):
    # tk are also the initials of 退款: the TK pages come first, the reading is only offered.
    response = agent_client.get("/search/", {"q": "tk"})
    data = api(agent_client, "tk")
    assert titles(data) == ["TK 工单系统登录"]
    assert data["reading"]["applied"] is False and data["reading"]["searched"] == "退款"
    assert notice(response) == "也可以按拼音搜索：退款"
    assert '<a href="?q=%E9%80%80%E6%AC%BE"' in response.content.decode()
    data = api(agent_client, "app")
    assert titles(data) == ["手机 APP 常见问题"] and data["reading"] is None


def test_letters_that_read_as_nothing_are_searched_as_typed(agent_client, reading_kb):
    for query in ("xyzabc", "hello", "asdf"):
        data = api(agent_client, query)
        assert data["reading"] is None and data["total"] == 0, query


def test_function_words_are_never_read_as_something_else(agent_client, reading_kb):
    # 办呢 (bàn ne) sounds nearly like 办理, but 怎么办 and 呢 are function words: nothing is searched.
    kb = reading_kb
    article(kb["section"], "开户办理须知", summary="办理开户需要身份证。")
    refresh_index()
    for query in ("请问一下怎么办呢", "怎么办呢"):
        data = api(agent_client, query)
        assert data["reading"] is None and data["total"] == 0, query


@pytest.mark.parametrize(
    ("query", "searched", "title"),
    [
        ("投诉处里", "投诉处理", "客户投诉处理流程"),
        ("少货出理", "少货处理", "少货处理规范"),
        ("退宽", "退款", "退款时限说明"),
        ("头诉", "投诉", "客户投诉处理流程"),
        ("退宽时限", "退款时限", "退款时限说明"),
    ],
)
def test_a_homophone_typo_is_searched_as_the_word_that_sounds_the_same(
    agent_client, reading_kb, query, searched, title
):
    response = agent_client.get("/search/", {"q": query})
    data = api(agent_client, query)
    assert titles(data)[0] == title
    assert data["reading"]["kind"] == "homophone" and data["reading"]["searched"] == searched
    assert notice(response).startswith(f"按读音 {query}：{searched}")
    assert "您是不是要找" not in response.content.decode()


def test_correct_queries_are_not_rewritten(agent_client, reading_kb):
    for query in ("投诉", "客户投诉处理流程", "退款 时限", "快递单号"):
        data = api(agent_client, query)
        assert data["reading"] is None and data["total"], query
    # 出力 sounds like 处理, a title word, but the content says 出力 itself: it is searched as typed.
    data = api(agent_client, "出力")
    assert data["reading"] is None and titles(data) == ["大件装卸规范"]


def test_traditional_queries_find_simplified_pages(agent_client, reading_kb):
    assert "退货申请须知" in titles(api(agent_client, "退貨"))
    # 回 and 覆 are simplified characters too: only the word 回覆 says it is 回复.
    assert "留言回复时限" in titles(api(agent_client, "回覆"))
    assert "留言回复时限" in titles(api(agent_client, "留言回覆時限"))
    assert api(agent_client, "退貨")["reading"] is None


def test_traditional_text_is_found_and_highlighted(agent_client, reading_kb):
    data = api(agent_client, "退货")
    hit = next(r for r in data["results"] if "繁體" in r["title"])
    assert hit["title"].startswith("<mark>退貨</mark>須知")
    assert "<mark>退貨</mark>運費" in hit["snippet"]
    data = api(agent_client, "回复")
    hit = next(r for r in data["results"] if "繁體" in r["title"])
    assert "<mark>回覆</mark>客戶" in hit["snippet"]


@pytest.mark.parametrize(
    "query", ["tousu" * 2000, "x" * 10_000, "ts " * 3000, "tou su " * 1000, "头诉" * 3000, "a'b'c" * 500]
)
def test_hostile_latin_and_long_queries_answer(agent_client, reading_kb, query):
    assert agent_client.get("/search/", {"q": query}).status_code == 200
    data = api(agent_client, query)
    assert isinstance(data["results"], list)
    assert agent_client.get("/search/suggest/", {"q": query}).status_code == 200
