"""The Whoosh backend's contract on the project's own models (real Whoosh index on disk, no mocks)."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db.models import Subquery
from modelsearch.backends.base import FilterFieldError, OrderByFieldError, SearchFieldError
from modelsearch.query import MATCH_ALL, And, Boost, Fuzzy, Not, Or, Phrase, PlainText
from wagtail.documents import get_document_model
from wagtail.models import Page
from wagtail.rich_text import RichText

from kb_site.content.models import ArticlePage, Phrasing
from tests.factories import ArticlePageFactory, PhrasingFactory, SectionPageFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("search_index")]


def article(section, title, text="", **kwargs):
    body = [("paragraph", RichText(f"<p>{text}</p>"))] if text else []
    return ArticlePageFactory(
        parent=section, title=title, summary=kwargs.pop("summary", ""), body=body, **kwargs
    )


def titles(results):
    return [r.title for r in results]


@pytest.fixture
def pages(section, refresh):
    pages = {
        "complaint": article(section, "客户投诉处理流程", "接到投诉后先安抚客户，再记录工单。"),
        "refund": article(section, "退款规则", "退款将按原路退款返回，三到五个工作日到账。"),
        "reverse": article(section, "投诉客户回访", "回访时确认问题已经解决。"),
        "express": article(section, "快递查询", "请客户提供快递单号，EMS 拨打 11183 查询。"),
        "draft": article(section, "投诉升级草稿", "尚未发布的内容。", live=False),
    }
    refresh()
    return pages


def test_complaint_finds_article_titled_with_it(pages):
    assert "客户投诉处理流程" in titles(Page.objects.live().search("投诉"))
    assert "客户投诉处理流程" in titles(ArticlePage.objects.live().search("投诉"))


def test_traditional_and_full_width_queries(pages):
    assert "客户投诉处理流程" in titles(Page.objects.live().search("投訴"))
    assert titles(Page.objects.live().search("１１１８３")) == ["快递查询"]


def test_latin_and_numbers(pages):
    assert titles(Page.objects.live().search("EMS")) == ["快递查询"]
    assert titles(Page.objects.live().search("ems 11183")) == ["快递查询"]


def test_word_inside_longer_word(pages):
    # 快递单号 is one word; its sub-word 快递 is indexed at the same position.
    assert titles(Page.objects.live().search("快递")) == ["快递查询"]
    assert titles(Page.objects.live().search("单号")) == ["快递查询"]


def test_refund_to_original_route(pages):
    assert titles(Page.objects.live().search("原路退款")) == ["退款规则"]
    assert "退款规则" in titles(Page.objects.live().search("退款"))


def test_autocomplete_prefix(pages):
    assert titles(Page.objects.live().autocomplete("客户投")) == ["客户投诉处理流程"]
    assert "客户投诉处理流程" in titles(ArticlePage.objects.live().autocomplete("投"))
    assert titles(Page.objects.live().autocomplete("退款规")) == ["退款规则"]


def test_phrase_respects_word_order(pages):
    assert titles(Page.objects.live().search(Phrase("客户投诉"))) == ["客户投诉处理流程"]
    assert titles(Page.objects.live().search(Phrase("投诉客户"))) == ["投诉客户回访"]
    # As plain text both match, the exact phrase ranks first.
    assert titles(Page.objects.live().search("客户投诉"))[:2] == ["客户投诉处理流程", "投诉客户回访"]


def test_drafts_never_found_with_live(pages):
    assert "投诉升级草稿" not in titles(Page.objects.live().search("草稿"))
    assert titles(Page.objects.search("草稿")) == ["投诉升级草稿"]
    assert "投诉升级草稿" not in titles(Page.objects.live().autocomplete("投诉升"))


def test_title_boost_ranks_title_matches_first(section, refresh):
    article(section, "安抚技巧", "遇到投诉时保持冷静。遇到投诉时保持冷静。")
    article(section, "投诉分类")
    refresh()
    assert titles(ArticlePage.objects.search("投诉"))[0] == "投诉分类"


def test_search_fields_argument(pages):
    assert titles(ArticlePage.objects.search("工单", fields=["title"])) == []
    assert titles(ArticlePage.objects.search("工单", fields=["body"])) == ["客户投诉处理流程"]
    with pytest.raises(SearchFieldError):
        ArticlePage.objects.search("工单", fields=["review_due"])


def test_operator_and_or(pages):
    assert titles(Page.objects.live().search("投诉 退款")) == []
    found = titles(Page.objects.live().search("投诉 退款", operator="or"))
    assert {"客户投诉处理流程", "退款规则", "投诉客户回访"} <= set(found)


def test_query_classes(pages):
    live = Page.objects.live()
    assert set(titles(live.search(Or([PlainText("原路退款"), PlainText("快递")])))) == {
        "退款规则",
        "快递查询",
    }
    assert titles(live.search(And([PlainText("投诉"), PlainText("回访")]))) == ["投诉客户回访"]
    not_complaint = set(titles(ArticlePage.objects.live().search(Not(PlainText("投诉")))))
    assert not_complaint == {"退款规则", "快递查询"}
    boosted = titles(live.search(Or([PlainText("退款"), Boost(PlainText("快递"), 10)])))
    assert boosted[0] == "快递查询"
    assert set(titles(ArticlePage.objects.live().search(MATCH_ALL))) == {
        "客户投诉处理流程",
        "退款规则",
        "投诉客户回访",
        "快递查询",
    }


def test_fuzzy_for_latin_words(section, refresh):
    article(section, "Complaint escalation", "escalate to supervisor")
    refresh()
    assert titles(ArticlePage.objects.search(Fuzzy("complant"))) == ["Complaint escalation"]
    assert titles(ArticlePage.objects.search("complant")) == []


def test_filters_translated_and_orm_fallback(home, pages, refresh):
    other = SectionPageFactory(parent=home, title="物流", slug="logistics")
    article(other, "物流投诉", "投诉物流延误")
    refresh()
    section = pages["complaint"].get_parent()
    in_section = ArticlePage.objects.live().descendant_of(section).search("投诉")
    assert "物流投诉" not in titles(in_section)
    assert "客户投诉处理流程" in titles(in_section)
    # A subquery filter cannot be translated to Whoosh: the ORM applies it.
    ids = Page.objects.filter(title__startswith="物流").values("id")
    assert titles(ArticlePage.objects.filter(id__in=Subquery(ids)).search("投诉")) == ["物流投诉"]
    # Date filter on a FilterField of the subclass
    due = ArticlePage.objects.filter(review_due__gte=datetime.date(2000, 1, 1)).search("投诉")
    assert set(titles(due)) <= set(titles(ArticlePage.objects.search("投诉")))
    with pytest.raises(FilterFieldError):
        list(ArticlePage.objects.filter(summary="x").search("投诉"))


def test_snippet_filters(section, refresh):
    PhrasingFactory(title="投诉开场白", text="您好，非常抱歉给您带来不便。", section=section)
    PhrasingFactory(title="投诉结束语", text="感谢您的耐心。", live=False)
    refresh()
    assert titles(Phrasing.objects.search("投诉")) == ["投诉开场白", "投诉结束语"] or set(
        titles(Phrasing.objects.search("投诉"))
    ) == {"投诉开场白", "投诉结束语"}
    assert titles(Phrasing.objects.live().search("投诉")) == ["投诉开场白"]
    assert titles(Phrasing.objects.filter(section=section).search("投诉")) == ["投诉开场白"]
    assert titles(Phrasing.objects.filter(section__isnull=True).search("投诉")) == ["投诉结束语"]
    assert titles(Phrasing.objects.autocomplete("投诉开")) == ["投诉开场白"]


def test_ordering_by_field(pages):
    results = ArticlePage.objects.order_by("-title").search("投诉", order_by_relevance=False)
    assert titles(results) == sorted(titles(results), reverse=True)
    assert len(titles(results)) == 3
    with pytest.raises(OrderByFieldError):
        list(ArticlePage.objects.order_by("summary").search("投诉", order_by_relevance=False))


def test_slicing_and_count(section, refresh):
    for i in range(7):
        PhrasingFactory(title=f"催单话术{i}", text="客户催单时使用。")
    refresh()
    results = Phrasing.objects.search("催单")
    assert results.count() == 7
    assert len(results[2:5]) == 3
    assert results[2:5].count() == 3
    assert results[5:].count() == 2
    assert results[:3][:6].count() == 3
    every = [results[i : i + 1][0].pk for i in range(7)]
    assert len(set(every)) == 7
    scored = results.annotate_score("_score")[:2]
    assert all(isinstance(r._score, float) for r in scored)


def test_facet_by_content_type(home, pages, refresh):
    facets = Page.objects.live().search("投诉").facet("content_type_id")
    article_ct = pages["complaint"].content_type_id
    assert facets[article_ct] == 2
    with pytest.raises(FilterFieldError):
        Page.objects.live().search("投诉").facet("summary")


def test_delete_removes_from_index(pages, refresh):
    pages["refund"].delete()
    refresh()
    assert titles(Page.objects.search("原路退款")) == []


def test_document_extracted_text_is_searchable(refresh, admin_client):
    Document = get_document_model()
    doc = Document(title="培训资料", extracted_text="坐席转接与升级规范")
    doc.file.save("training.txt", ContentFile("坐席转接与升级规范".encode()), save=False)
    doc.save()
    refresh()
    assert [d.title for d in Document.objects.search("转接")] == ["培训资料"]
    assert [d.title for d in Document.objects.autocomplete("培训")] == ["培训资料"]
    response = admin_client.get("/admin/documents/", {"q": "培训"})
    assert response.status_code == 200
    assert "培训资料" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "客户 AND OR NOT",
        "*",
        "~",
        "title:投诉",
        "投诉~2",
        "x" * 10_000,
        "投诉" * 3000,
        "\x00\x07\x1b",
        "😀🙏",
        "   ",
        "(((",
        "-",
    ],
)
def test_hostile_queries_never_raise(pages, query):
    list(Page.objects.live().search(query))
    list(Page.objects.live().autocomplete(query))
    list(Page.objects.live().search(Phrase(query)))
    Page.objects.live().search(query).count()


def test_rebuild_swaps_in_fresh_generation(pages, search_index):
    # An update the index never saw (QuerySet.update sends no signals) ...
    Phrasing.objects.create(title="旧标题", text="无关内容", live=True)
    search_index.refresh_indexes()
    Phrasing.objects.filter(title="旧标题").update(title="拒收处理")
    assert titles(Phrasing.objects.search("拒收")) == []
    store = search_index.get_index_for_model(Phrasing).store
    before = store.current_generation()
    call_command("update_index", verbosity=0)
    after = store.current_generation()
    assert after != before
    # ... is picked up by the rebuild, and everything else is still there.
    assert titles(Phrasing.objects.search("拒收")) == ["拒收处理"]
    assert "客户投诉处理流程" in titles(Page.objects.live().search("投诉"))


def test_wagtail_admin_search_views_use_the_backend(admin_client, pages, section, refresh):
    PhrasingFactory(title="投诉安抚话术", text="非常抱歉给您带来不便。", section=section)
    refresh()
    # Admin page search (autocomplete over parse_query_string's And/Phrase/MatchAll, facets by type)
    response = admin_client.get("/admin/pages/search/", {"q": "客户投"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "客户投诉处理流程" in html
    assert "退款规则" not in html
    response = admin_client.get("/admin/pages/search/", {"q": '"客户投诉"'})
    assert "客户投诉处理流程" in response.content.decode()
    # Page chooser search
    response = admin_client.get("/admin/choose-page/search/", {"q": "退款规"})
    assert response.status_code == 200
    assert "退款规则" in response.content.decode()
    # Snippet listing search
    response = admin_client.get("/admin/snippets/content/phrasing/", {"q": "投诉"})
    assert response.status_code == 200
    assert "投诉安抚话术" in response.content.decode()
    response = admin_client.get("/admin/snippets/content/phrasing/", {"q": "退款"})
    assert "投诉安抚话术" not in response.content.decode()
    # Snippet chooser (autocomplete on the title)
    response = admin_client.get("/admin/snippets/choose/content/phrasing/results/", {"q": "投诉安"})
    assert response.status_code == 200
    assert "投诉安抚话术" in response.content.decode()


def test_single_character_query_matches_words_it_starts(pages):
    found = titles(Page.objects.live().search("退"))
    assert found and found[0] == "退款规则"
    assert titles(Page.objects.live().search("款")) == []  # only word starts, not any character


def test_uuid_primary_keys_and_filter_values(refresh, search_index):
    from modelsearch.test.testapp.models import AdvertWithCustomUUIDPrimaryKey

    from search.backend.documents import clean_filter_value

    advert = AdvertWithCustomUUIDPrimaryKey.objects.create(text="会员积分兑换活动")
    refresh()
    assert list(search_index.search("积分", AdvertWithCustomUUIDPrimaryKey)) == [advert]
    # A UUID filter value matches whether it arrives as a UUID or as its string form.
    assert clean_filter_value("fu", advert.pk) == clean_filter_value("fu", str(advert.pk)) == advert.pk.hex
