"""search.kinds: what apps register decides what search covers, how hits are labelled, grouped, linked."""

import pytest
from wagtail import hooks

from kb_site.content.models import SectionPage
from search import kinds, results
from tests.search.frontend_data import knowledge_base, refresh_index

pytestmark = pytest.mark.usefixtures("search_index")


@pytest.fixture
def kb(home, section):
    return knowledge_base(home, section)


@pytest.fixture
def fresh_registry():
    """Forget the cached registry before and after a test that registers a hook of its own."""
    cached = (kinds._kinds, kinds.section_model, kinds.text_dependencies, results._caches_for)
    for function in cached:
        function.cache_clear()
    yield
    for function in cached:
        function.cache_clear()


def test_the_apps_register_four_kinds_in_facet_order():
    assert kinds.kind_names() == ("procedure", "article", "phrasing", "document")
    assert [str(kind.label) for kind in kinds.all_kinds()] == ["流程", "文章", "话术", "文档"]
    assert kinds.section_model() is SectionPage
    assert [model._meta.label for model in kinds.text_dependencies()] == ["content.Phrasing"]


@pytest.mark.django_db
def test_unregistered_page_types_are_not_hits(rf, agent, kb):
    request = rf.get("/search/")
    request.user = agent
    outcome = results.search_all(request, "电力热线服务")  # the title of a section page
    page_hits = [hit.pk for hit in outcome.hits if hit.kind in ("article", "procedure")]
    assert kb["other"].pk not in page_hits
    assert set(outcome.kind_counts) == {"procedure", "article", "phrasing", "document"}


@pytest.mark.django_db
def test_a_registered_kind_is_searched_faceted_and_linked(rf, agent, kb, fresh_registry):
    def section_kind():
        return {"name": "section", "label": "栏目", "model": SectionPage, "order": 50}

    with hooks.register_temporarily("register_search_kind", section_kind):
        kinds._kinds.cache_clear()
        refresh_index()
        request = rf.get("/search/")
        request.user = agent
        outcome = results.search_all(request, "电力热线服务")
        assert outcome.kind_counts["section"] == 1
        hit = next(hit for hit in outcome.hits if hit.kind == "section")
        assert hit.pk == kb["other"].pk
        described = results.describe_all([hit], request, outcome.terms)[0]
        assert described.url == kb["other"].url
        assert str(described.kind_label) == "栏目"
        assert "<mark>" in str(described.title_html)


@pytest.mark.django_db
def test_snippet_kinds_link_to_their_section(agent_client, kb):
    data = agent_client.get("/search/api/", {"q": "安抚", "type": "phrasing"}).json()
    [item] = data["results"]
    assert item["url"] == f"{kb['section'].url}#phrasing-{kb['greeting'].pk}"
    assert item["section"] == kb["section"].title and item["type_label"] == "话术"
