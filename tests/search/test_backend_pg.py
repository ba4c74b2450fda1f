"""The PostgreSQL search backend (``search.backend_pg``, issue 14) with Callbook's Chinese analysis: what an
agent types finds the same pages as on the Whoosh backend. Runs only when the database is PostgreSQL
(``DATABASE_URL``); modelsearch's own suite runs on it in ``test_conformance.py``."""

import pytest
from django.db import connection
from modelsearch.backends import get_search_backend
from wagtail.models import Page
from wagtail.search.query import PlainText

from kb_site.content.models import ArticlePage
from search.backend.query import MinimumMatch
from search.models import SynonymGroup
from tests.search.frontend_data import article, knowledge_base, refresh_index

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend needs PostgreSQL"),
]


@pytest.fixture
def pg_search(settings):
    settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "search.backend_pg", "AUTO_UPDATE": True}}
    backend = get_search_backend("default")
    assert type(backend).__module__ == "search.backend_pg"
    return backend


@pytest.fixture
def kb(pg_search, home, section):
    return knowledge_base(home, section)


def api_titles(client, query):
    data = client.get("/search/api/", {"q": query}).json()
    return [r["title"].replace("<mark>", "").replace("</mark>", "") for r in data["results"]]


def live_titles(query, **kwargs):
    return [page.title for page in Page.objects.live().search(query, **kwargs)]


def test_the_search_page_finds_articles_and_phrasings(agent_client, kb):
    found = api_titles(agent_client, "投诉")
    assert found[0] == "客户投诉处理流程"
    assert "投诉安抚话术" in found
    assert "投诉草稿文章" not in found and "投诉内部话术" not in found  # not live
    assert "退款时限说明" not in found
    html = agent_client.get("/search/", {"q": "投诉"}).content.decode()
    assert "客户<mark>投诉</mark>处理流程" in html


def test_a_traditional_query_finds_simplified_text(agent_client, kb):
    assert api_titles(agent_client, "客戶投訴")[0] == "客户投诉处理流程"
    assert "退款时限说明" in api_titles(agent_client, "原路退款")
    assert "快递查询规范" in api_titles(agent_client, "快遞單號")


def test_a_word_inside_a_longer_word_is_found(kb):
    # 快递单号 is one word of the text; 单号 is one of its sub-words, 投诉 one of 客户投诉's.
    assert live_titles("单号") == ["快递查询规范"]
    assert "客户投诉处理流程" in live_titles("投诉")
    # A lone character finds the words it starts (退 → 退款).
    assert "退款时限说明" in live_titles("退")


def test_a_word_the_segmenter_splits_matches_its_parts_together(pg_search, kb):
    article(kb["section"], "发票抬头修改", summary="开票后修改抬头需要作废重开。")
    refresh_index()
    # 抬头修改 is not one word: its parts next to each other rank first, a page with both elsewhere too.
    article(kb["section"], "修改地址", summary="地址修改后核对抬头信息。")
    refresh_index()
    found = live_titles("抬头修改")
    assert found[0] == "发票抬头修改"
    assert "修改地址" in found


def test_phrase_and_operators(kb):
    from wagtail.search.query import Not, Phrase

    assert live_titles(Phrase("原路退款")) == ["退款时限说明"]
    assert live_titles(Phrase("退款原路")) == []
    assert set(live_titles("投诉 退款", operator="or")) >= {"客户投诉处理流程", "退款时限说明"}
    assert live_titles("投诉 退款") == []  # "and" by default: no page has both
    both = PlainText("客户") & Not(PlainText("退款"))
    found = live_titles(both)
    assert "客户投诉处理流程" in found and "退款时限说明" not in found


def test_minimum_match_needs_a_share_of_the_words_and_ranks_by_coverage(pg_search, kb):
    three = article(kb["section"], "包裹破损赔偿标准", summary="快递包裹破损后按标准赔偿。")
    two = article(kb["section"], "包裹破损登记", summary="登记破损包裹。")
    one = article(kb["section"], "包裹寄存说明", summary="包裹可寄存三天。")
    refresh_index()
    query = MinimumMatch([PlainText("包裹"), PlainText("破损"), PlainText("赔偿")], 2)
    found = [page.pk for page in ArticlePage.objects.live().search(query)]
    assert found[0] == three.pk
    assert two.pk in found
    assert one.pk not in found  # only one of three words
    # Optional parts only add to the score.
    query = MinimumMatch([PlainText("登记"), PlainText("包裹")], 1, optional=[PlainText("赔偿")])
    found = [page.pk for page in ArticlePage.objects.live().search(query)]
    assert set(found) >= {two.pk, three.pk, one.pk}


def test_trainers_synonyms_widen_what_is_typed(agent_client, kb):
    assert "退款时限说明" not in api_titles(agent_client, "退钱")
    SynonymGroup.objects.create(terms="退钱 = 退款")
    assert api_titles(agent_client, "退钱")[0] == "退款时限说明"


def test_autocomplete_by_prefix_pinyin_and_infix(kb):
    def completed(text):
        return [page.title for page in Page.objects.live().autocomplete(text)]

    assert "客户投诉处理流程" in completed("客户投")
    assert "客户投诉处理流程" in completed("tousu")  # the pinyin of a word of the title
    assert "客户投诉处理流程" in completed("khts")  # initials
    assert "退款时限说明" in completed("tuikuan")
    assert "客户投诉处理流程" in completed("户投诉")  # from the middle of a word: trigram index
    assert "客户投诉处理流程" in completed("客戶")  # traditional
    assert completed("xyzzy") == []


def test_document_frequencies_count_entries(pg_search, kb):
    found = pg_search.document_frequencies(["投诉", "单号", "退款", "没有这个词", "！"])
    # 投诉: the complaint article and the greeting phrasing (drafts are not indexed while unpublished).
    assert found["投诉"] >= 2
    assert found["单号"] == 1
    assert found["退款"] == 1
    assert found["没有这个词"] == 0
    assert found["！"] == 0


def test_a_word_in_no_document_falls_back_to_its_parts(agent_client, kb):
    article(kb["section"], "物业服务收费说明", summary="物业管理的收费项目和标准。")
    refresh_index()
    # No text has 物业费; 物业 and 收费 (费's related word) do, found through document_frequencies.
    SynonymGroup.objects.create(terms="收费 = 费用")
    assert api_titles(agent_client, "物业费")[0] == "物业服务收费说明"
    assert api_titles(agent_client, "xyzabc不存在") == []


def test_unpublishing_and_deleting_remove_the_entry(pg_search, kb):
    complaint = kb["complaint"]
    assert "客户投诉处理流程" in live_titles("投诉")
    complaint.specific.unpublish()
    assert "客户投诉处理流程" not in live_titles("投诉")
    refund = kb["refund"]
    refund.delete()
    assert pg_search.document_frequencies(["原路"])["原路"] == 0


def test_a_word_in_most_entries_is_ranked_without_the_index(pg_search, kb):
    # 流程 in most entries: ranked in one pass over them (``ranked``), still only the entries with it,
    # a title with it above a body with it.
    in_body = [article(kb["section"], f"工单说明{n}", summary="按流程办理。") for n in range(4)]
    in_title = article(kb["section"], "报修流程", summary="报修后两小时内上门。")
    refresh_index()
    total = pg_search.count_matches([])[None]
    assert pg_search.document_frequencies(["流程"])["流程"] >= 0.3 * total
    found = [page.pk for page in ArticlePage.objects.live().search("流程")]
    assert set(found) == {kb["complaint"].pk, in_title.pk, *(page.pk for page in in_body)}
    assert found.index(in_title.pk) < min(found.index(page.pk) for page in in_body)
    assert Page.objects.live().search("流程")[:2].count() == 2
