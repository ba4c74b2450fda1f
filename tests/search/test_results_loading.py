"""search.results ranks from scored primary keys and loads only the hits it shows; the web process warms up."""

import re

import pytest
from django.test import RequestFactory
from wagtail.models import Page

from kb_site.content.models import ArticlePage, Phrasing
from search import results
from search.backend import fastscore
from search.warmup import warm_up
from tests.search.frontend_data import refresh_index

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kb_for_the_module", "search_index")]


@pytest.fixture
def request_for(agent):
    request = RequestFactory().get("/search/")
    request.user = agent
    return request


def test_whoosh_results_give_scored_primary_keys_without_loading_objects(kb, django_assert_num_queries):
    search = Page.objects.live().search("投诉")[:10]
    with django_assert_num_queries(0):
        scored = search.scored_pks()
    assert str(kb["complaint"].pk) in [pk for pk, _ in scored]
    assert all(isinstance(score, float) and score > 0 for _, score in scored)
    # The same order and scores as the objects the backend returns.
    objects = list(Page.objects.live().search("投诉").annotate_score("s")[:10])
    assert [str(obj.pk) for obj in objects] == [pk for pk, _ in scored]
    assert [obj.s for obj in objects] == pytest.approx([score for _, score in scored])


def test_hits_are_ranked_without_objects_and_described_with_them(kb, request_for):
    outcome = results.search_all(request_for, "投诉")
    assert outcome.hits and all(hit.obj is None for hit in outcome.hits if not hit.promoted)
    shown = results.describe_all(outcome.hits[:5], request_for, outcome.terms)
    by_title = {hit.title: hit for hit in shown}
    assert isinstance(by_title["客户投诉处理流程"].obj, ArticlePage)  # the specific page
    assert by_title["客户投诉处理流程"].url == kb["complaint"].url
    assert "<mark>投诉</mark>" in by_title["客户投诉处理流程"].snippet_html
    phrasing = by_title["投诉安抚话术"]
    assert isinstance(phrasing.obj, Phrasing) and phrasing.obj.text.startswith("您好")


def test_a_hit_deleted_between_search_and_display_is_shown_without_a_link(kb, request_for):
    outcome = results.search_all(request_for, "投诉")
    Phrasing.objects.filter(pk=kb["greeting"].pk).delete()
    shown = results.describe_all(outcome.hits, request_for, outcome.terms)
    gone = next(hit for hit in shown if hit.pk == kb["greeting"].pk)
    assert gone.obj is None and gone.url == ""
    assert "<mark>投诉</mark>" in gone.title_html


def test_stale_index_entries_are_dropped_from_the_ranking(kb, request_for):
    # Deleted behind the index's back (no signal): the index still has it, the ranking must not.
    Phrasing.objects.filter(pk=kb["greeting"].pk)._raw_delete(Phrasing.objects.db)
    titles = [hit.title for hit in results.search_all(request_for, "投诉").hits]
    assert "投诉安抚话术" not in titles and "客户投诉处理流程" in titles


def test_warm_up_loads_the_field_lengths_and_never_raises(kb, settings, tmp_path):
    fastscore._lengths_cache.clear()
    warm_up()
    assert any(key[-1] == "x_all" for key in fastscore._lengths_cache)
    # A broken configuration is logged, not raised: the site must still start.
    settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "search.no_such_backend"}}
    warm_up()


def test_warm_up_builds_the_title_vocabulary_and_the_suggestion_index(kb):
    from search import spelling, suggest

    spelling.shared_vocabulary.forget()
    suggest.shared_index.clear()
    warm_up()
    assert suggest.shared_index._index is not None and not suggest.shared_index._stale
    assert spelling.shared_vocabulary._value is not None


def test_snippet_text_follows_each_new_publication(kb, request_for):
    page = kb["refund"]
    assert page.last_published_at is not None  # published through a revision, so its text is cached

    def refund_snippet():
        outcome = results.search_all(request_for, "退款")
        shown = results.describe_all(outcome.hits, request_for, outcome.terms)
        # The text shown, without the highlighting.
        return re.sub(r"</?mark>", "", next(hit for hit in shown if hit.pk == page.pk).snippet_html)

    assert "三到七个工作日" in refund_snippet()
    refund_snippet()  # from the cache now
    page.summary = "退款改为五个工作日内到账，节假日顺延。"
    page.save_revision().publish()
    refresh_index()
    assert "节假日顺延" in refund_snippet()


def test_warm_up_leaves_no_index_file_open(kb):
    from search.backend.storage import IndexStore

    warm_up()
    assert getattr(IndexStore._local, "searchers", {}) == {}
    # Searches reopen them.
    assert Page.objects.live().search("投诉").count() >= 1
    assert IndexStore._local.searchers


def test_snippet_text_follows_a_phrasing_published_elsewhere(section, request_for):
    # An article shows the current text of the phrasing it references. A publication made by another
    # process sends no signal here: the cache key's phrasing version must notice it.
    from django.utils import timezone

    from kb_site.content.demo import build_body
    from tests.factories import ArticlePageFactory, PhrasingFactory, publish

    apology = PhrasingFactory(title="少货致歉", section=section, text="非常抱歉，您的订单少发了商品。")
    body = build_body([{"phrasing": "少货致歉"}], {"少货致歉": apology}, "test")
    page = publish(ArticlePageFactory(parent=section, title="少货处理规范", slug="short", body=body))
    refresh_index()

    def snippet():
        outcome = results.search_all(request_for, "少货")
        shown = results.describe_all(outcome.hits, request_for, outcome.terms)
        # The text shown, without the highlighting (少发 is a synonym of 少货: its characters are marked).
        return re.sub(r"</?mark>", "", next(hit for hit in shown if hit.pk == page.pk).snippet_html)

    assert "少发了商品" in snippet()
    Phrasing.objects.filter(pk=apology.pk).update(
        text="非常抱歉，我们马上为您补发缺少的商品。", last_published_at=timezone.now()
    )
    assert "马上为您补发" in snippet()
