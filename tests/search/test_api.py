"""GET /search/api/: the JSON twin of the results page."""

import pytest

from tests.search.frontend_data import article, refresh_index

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kb_for_the_module", "search_index")]


def test_anonymous_gets_401_json(client, kb):
    response = client.get("/search/api/", {"q": "投诉"})
    assert response.status_code == 401
    assert response.json()["error"] == "login_required"


def test_shape_and_highlighting(agent_client, kb):
    response = agent_client.get("/search/api/", {"q": "投诉"})
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= {"query", "total", "took_ms", "results"}
    assert data["query"] == "投诉"
    assert data["total"] == len(data["results"]) == 2
    assert isinstance(data["took_ms"], float)
    for result in data["results"]:
        assert set(result) >= {"title", "url", "type", "section", "snippet", "score"}
        assert "<mark>投诉</mark>" in result["title"]
    by_type = {r["type"]: r for r in data["results"]}
    assert by_type["article"]["url"] == kb["complaint"].url
    assert by_type["article"]["section"] == "电商售前售后"
    assert "<mark>投诉</mark>" in by_type["article"]["snippet"]
    assert by_type["phrasing"]["url"].endswith(f"#phrasing-{kb['greeting'].pk}")
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)


def test_snippet_escapes_everything_but_marks(agent_client, home, section):
    article(section, "投诉升级规范", summary="<img src=x onerror=alert(1)> 投诉 & 升级")
    refresh_index()
    results = agent_client.get("/search/api/", {"q": "投诉"}).json()["results"]
    [result] = [r for r in results if "升级规范" in r["title"]]
    assert "<img" not in result["snippet"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in result["snippet"]
    assert "&amp;" in result["snippet"]
    assert "<mark>投诉</mark>" in result["snippet"]


def test_type_and_section_filters(agent_client, kb):
    data = agent_client.get("/search/api/", {"q": "投诉", "type": "phrasing"}).json()
    assert [r["type"] for r in data["results"]] == ["phrasing"]
    assert data["facets"]["type"]["article"] == 1
    data = agent_client.get("/search/api/", {"q": "投诉", "section": kb["other"].id}).json()
    assert data["total"] == 0


def test_pages(agent_client, home, section):
    for n in range(25):
        article(section, f"回访话术规范{n:02d}")
    refresh_index()
    first = agent_client.get("/search/api/", {"q": "回访"}).json()
    second = agent_client.get("/search/api/", {"q": "回访", "page": 2}).json()
    assert first["total"] == second["total"] == 25
    assert len(first["results"]) == 20 and len(second["results"]) == 5
    assert {r["url"] for r in first["results"]}.isdisjoint({r["url"] for r in second["results"]})


def test_zero_results_carry_suggestions(agent_client, kb):
    data = agent_client.get("/search/api/", {"q": "kuaidii"}).json()
    assert data["total"] == 0 and data["results"] == []
    assert "快递" in data["suggestions"]


def test_procedure_hit_links_to_the_matching_step(agent_client, home):
    from django.utils.html import strip_tags

    from procedures.models import ProcedurePage
    from tests.procedures.conftest import load_demo_procedure

    page = load_demo_procedure("30-missing-item.yaml")
    refresh_index()
    expected = next(
        step["key"]
        for step in page.step_dicts()
        if "称重" in step.get("title", "") + strip_tags(step.get("text_html", ""))
    )
    results = agent_client.get("/search/api/", {"q": "物流单称重"}).json()["results"]
    procedure = next(r for r in results if r["type"] == "procedure")
    assert procedure["url"] == ProcedurePage.objects.get(pk=page.pk).url + f"#step-{expected}"
    assert "<mark>" in procedure["snippet"]
