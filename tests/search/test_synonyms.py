"""Trainer-managed synonyms, expanded at query time without reindexing."""

import pytest
from wagtail.search.query import And, Or, Phrase, PlainText

from search.models import SynonymGroup, parse_terms
from search.synonyms import alternatives, build_query, clean_query, split_query, synonym_map
from tests.search.frontend_data import article, refresh_index

pytestmark = pytest.mark.usefixtures("search_index")


def test_parse_terms_accepts_common_separators():
    assert parse_terms("快递 = 物流＝包裹") == ["快递", "物流", "包裹"]
    assert parse_terms("退钱，退款、 退费\n退钱") == ["退钱", "退款", "退费"]
    assert parse_terms("  ") == []


def test_alternatives_swap_terms_inside_a_word():
    mapping = synonym_map([["退钱", "退款"]])
    assert alternatives("退钱", mapping) == ["退钱", "退款"]
    assert alternatives("怎么退钱", mapping) == ["怎么退钱", "怎么退款"]
    assert alternatives("发票", mapping) == ["发票"]


def test_build_query_structure():
    mapping = synonym_map([["快递", "物流", "包裹"]])
    query = build_query('快递 "原路退款" 时限', mapping)
    assert isinstance(query, And)
    first, phrase, last = query.subqueries
    assert isinstance(first, Or)
    assert [q.query_string for q in first.subqueries] == ["快递", "物流", "包裹"]
    assert isinstance(phrase, Phrase) and phrase.query_string == "原路退款"
    assert isinstance(last, PlainText) and last.query_string == "时限"


def test_unsearchable_input_builds_no_query():
    assert build_query("* ~ 😀 \x00") is None
    assert build_query("   ") is None


def test_stray_quote_and_control_characters():
    assert split_query('投诉 "退款') == [("word", "投诉"), ("word", "退款")]
    assert clean_query("投\x00诉\u200b  时限") == "投 诉 时限"
    assert len(clean_query("x" * 10_000)) == 200


@pytest.mark.django_db
def test_synonym_group_normalises_and_validates():
    group = SynonymGroup(terms="退钱 ＝ 退款")
    group.full_clean()
    group.save()
    assert group.terms == "退钱 = 退款"
    assert str(group) == "退钱 = 退款"
    with pytest.raises(Exception, match="至少需要两个词"):
        SynonymGroup(terms="退款").full_clean()


@pytest.mark.django_db
def test_synonyms_apply_at_once_without_reindexing(agent_client, home, section):
    article(section, "退款时限说明", summary="原路退款一般三到七个工作日到账。")
    refresh_index()

    def found():
        return [r["title"] for r in agent_client.get("/search/api/", {"q": "退钱"}).json()["results"]]

    assert found() == []
    SynonymGroup.objects.create(terms="退钱 = 退款")
    assert found() == ["<mark>退款</mark>时限说明"]
    SynonymGroup.objects.all().delete()
    assert found() == []


@pytest.mark.django_db
def test_synonym_admin_is_registered(client, trainer):
    client.force_login(trainer)
    response = client.get("/admin/snippets/search/synonymgroup/add/")
    assert response.status_code == 200
    response = client.post("/admin/snippets/search/synonymgroup/add/", {"terms": "快递 = 物流", "note": ""})
    assert response.status_code == 302
    assert SynonymGroup.objects.get(terms="快递 = 物流").term_list == ["快递", "物流"]


@pytest.mark.django_db
def test_demo_synonyms_load_once():
    from search.demo import DEMO_SYNONYMS, load_synonyms

    before = SynonymGroup.objects.count()  # the default set (migration search 0006)
    assert load_synonyms() == (len(DEMO_SYNONYMS), 0)
    assert load_synonyms() == (0, 0)
    assert SynonymGroup.objects.count() == before + len(DEMO_SYNONYMS)
    assert all(len(group.term_list) >= 2 for group in SynonymGroup.objects.all())
