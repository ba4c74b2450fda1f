"""The search results page: kinds, filters, facets, highlighting, visibility, pagination, robustness."""

import re

import pytest

from tests.factories import make_user
from tests.search.frontend_data import article, phrasing, refresh_index, restrict_to_group

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kb_for_the_module", "search_index")]


def hit_titles(response):
    """Plain titles of the hits on a results page, in order."""
    html = response.content.decode()
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'class="search-hit-title"[^>]*>(.*?)</a>', html)]


def test_anonymous_user_is_sent_to_login(client, kb):
    response = client.get("/search/", {"q": "投诉"})
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_results_of_every_kind_with_highlighting(agent_client, kb):
    response = agent_client.get("/search/", {"q": "投诉"})
    assert response.status_code == 200
    html = response.content.decode()
    titles = hit_titles(response)
    assert "客户投诉处理流程" in titles
    assert "投诉安抚话术" in titles
    assert "客户<mark>投诉</mark>处理流程" in html
    # the phrasing hit carries its copy button
    assert "<copy-button" in html
    # keyboard navigation hooks and the script
    assert "data-search-results" in html and "data-hit-link" in html
    assert "js/search.js" in html


def test_drafts_and_unpublished_phrasings_never_show(agent_client, kb):
    titles = hit_titles(agent_client.get("/search/", {"q": "投诉"}))
    assert "投诉草稿文章" not in titles
    assert "投诉内部话术" not in titles


def test_type_filter_and_facet_counts(agent_client, kb):
    response = agent_client.get("/search/", {"q": "投诉", "type": "phrasing"})
    assert hit_titles(response) == ["投诉安抚话术"]
    html = response.content.decode()
    # facet tabs still count the other kinds
    assert re.search(r"文章 <span class=\"facet-count\">1</span>", html)
    assert re.search(r"话术 <span class=\"facet-count\">1</span>", html)


def test_section_filter(agent_client, kb):
    other = kb["other"]
    response = agent_client.get("/search/", {"q": "快递", "section": other.id})
    assert hit_titles(response) == ["快递查询规范"]
    response = agent_client.get("/search/", {"q": "快递", "section": kb["section"].id})
    assert hit_titles(response) == []


def test_section_facet_lists_sections_with_counts(agent_client, kb):
    html = agent_client.get("/search/", {"q": "投诉"}).content.decode()
    assert re.search(r"电商售前售后 <span class=\"facet-count\">2</span>", html)


def test_view_restricted_page_only_for_allowed_users(client, kb):
    restrict_to_group(kb["refund"], "质检组")
    agent = make_user("坐席")
    client.force_login(agent)
    assert "退款时限说明" not in hit_titles(client.get("/search/", {"q": "退款"}))

    inspector = make_user("坐席", username="inspector")
    inspector.groups.add(
        __import__("django.contrib.auth.models").contrib.auth.models.Group.objects.get(name="质检组")
    )
    client.force_login(inspector)
    assert "退款时限说明" in hit_titles(client.get("/search/", {"q": "退款"}))


def test_pagination(agent_client, home, section):
    for n in range(23):
        article(section, f"回访记录规范{n:02d}", summary="回访客户的要求")
    refresh_index()
    first = agent_client.get("/search/", {"q": "回访"})
    assert len(hit_titles(first)) == 20
    assert "1 / 2" in first.content.decode()
    second = agent_client.get("/search/", {"q": "回访", "page": 2})
    assert len(hit_titles(second)) == 3
    assert not set(hit_titles(first)) & set(hit_titles(second))
    # an out-of-range page shows the last page rather than an error
    assert agent_client.get("/search/", {"q": "回访", "page": 99}).status_code == 200


def test_titles_and_snippets_are_escaped(agent_client, home, section):
    article(section, "<b>投诉</b> 升级规范", summary="<script>alert(1)</script> 投诉 升级")
    refresh_index()
    html = agent_client.get("/search/", {"q": "投诉"}).content.decode()
    assert "&lt;b&gt;<mark>投诉</mark>&lt;/b&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_pinyin_homophone_is_searched_as_meant(agent_client, kb):
    # 头诉 (tóu sù) is the IME slip for 投诉 (tóu sù): searched as 投诉 at once (``search.reading``)
    response = agent_client.get("/search/", {"q": "头诉"})
    html = response.content.decode()
    assert "客户投诉处理流程" in hit_titles(response)
    assert "按读音 头诉：投诉" in html
    assert "您是不是要找" not in html


def test_did_you_mean_from_mistyped_pinyin(agent_client, kb):
    # kuaidi is read as 快递 at once; kuaidii reads as nothing, finds nothing, and is corrected
    html = agent_client.get("/search/", {"q": "kuaidii"}).content.decode()
    assert "您是不是要找" in html
    assert re.search(r'<a href="\?q=%E5%BF%AB%E9%80%92"[^>]*>快递</a>', html)


def test_no_suggestion_when_nothing_resembles(agent_client, kb):
    html = agent_client.get("/search/", {"q": "量子力学"}).content.decode()
    assert "没有找到相关内容" in html
    assert "您是不是要找" not in html


NASTY_QUERIES = [
    '"unbalanced',
    'a"b"c"',
    "投诉 AND 退款",
    "投诉 OR",
    "NOT",
    "NOT 投诉",
    "*",
    "投*",
    "~",
    "投诉~2",
    "title:投诉",
    "section:电商 type:x",
    "(投诉",
    "投诉)",
    "[]{}^:",
    "x" * 10_000,
    "投诉" * 5_000,
    "\x00\x01\x1b[31m投诉\x7f",
    "😀🙏🏻",
    "投诉😀",
    "   ",
    "\t\n",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "%",
    "\\",
    "－－全角－－",
    "\u202e投诉",
]


@pytest.fixture
def small_kb(home, section):
    article(section, "客户投诉处理流程", summary="受理投诉后十分钟内响应。")
    phrasing("投诉安抚话术", "非常理解您的心情。", section=section)
    refresh_index()


@pytest.mark.parametrize("query", NASTY_QUERIES)
def test_any_query_answers_200_everywhere(agent_client, small_kb, query):
    """Whatever is typed, the page, the API and the suggestions answer 200 with results or nothing."""
    page = agent_client.get("/search/", {"q": query})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.content.decode().split("<main", 1)[1]
    api = agent_client.get("/search/api/", {"q": query})
    assert api.status_code == 200
    data = api.json()
    assert isinstance(data["results"], list) and data["total"] >= len(data["results"])
    suggest = agent_client.get("/search/suggest/", {"q": query})
    assert suggest.status_code == 200
    assert isinstance(suggest.json(), list)


def test_nasty_queries_still_find_what_they_contain(agent_client, small_kb):
    for query in ['"投诉', "投诉 AND", "title:投诉", "投诉😀", "\x00投诉\x1b", "投诉~2"]:
        titles = [r["title"] for r in agent_client.get("/search/api/", {"q": query}).json()["results"]]
        assert "客户<mark>投诉</mark>处理流程" in titles, query


@pytest.mark.parametrize(
    "params",
    [
        {"q": "投诉", "type": "nonsense"},
        {"q": "投诉", "section": "abc"},
        {"q": "投诉", "page": "-1"},
        {"page": "x"},
    ],
)
def test_invalid_filters_are_ignored(agent_client, kb, params):
    assert agent_client.get("/search/", params).status_code == 200


def test_any_word_fallback_when_no_hit_has_every_word(agent_client, kb):
    response = agent_client.get("/search/", {"q": "投诉 发票"})
    assert "客户投诉处理流程" in hit_titles(response)
    assert "下面是包含部分关键词的结果" in response.content.decode()


def test_counts_say_when_they_are_lower_bounds(agent_client, home, section, monkeypatch):
    from search import results

    monkeypatch.setattr(results, "MAX_HITS_PER_KIND", 3)
    for n in range(4):
        article(section, f"升级处理规范{n}")
    refresh_index()
    response = agent_client.get("/search/", {"q": "升级"})
    assert len(hit_titles(response)) == 3
    assert "至少 3 条结果" in response.content.decode()
    assert agent_client.get("/search/api/", {"q": "升级"}).json()["truncated"] is True
