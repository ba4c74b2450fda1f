"""Procedures are found by what their steps say, not only by their title."""

import pytest
from modelsearch.backends import get_search_backend

from procedures.models import ProcedurePage
from tests.procedures.conftest import load_demo_procedure


@pytest.fixture
def backend(db, settings, tmp_path):
    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {
            "BACKEND": "search.backend",
            "PATH": tmp_path / "index",
            "FSYNC": False,
            "AUTO_UPDATE": True,
        }
    }
    return get_search_backend("default")


def test_search_fields_cover_steps_answers_phrasings_and_tags(db):
    page = load_demo_procedure("30-missing-item.yaml")
    text = page.search_steps_text()
    for expected in [
        "三步核实",
        "已看物流单称重",
        "有破损或被拆过",
        "补发商品",
        "请客户稍候",
        "少发了{商品名称}",
    ]:
        assert expected in text, expected
    fields = {f.field_name for f in ProcedurePage.search_fields if hasattr(f, "field_name")}
    assert {"title", "when_to_use", "search_steps_text", "tags"} <= fields


def test_backend_finds_a_procedure_by_a_step_phrase(backend):
    load_demo_procedure("30-missing-item.yaml")
    if hasattr(backend, "refresh_indexes"):
        backend.refresh_indexes()
    results = list(backend.search("物流单称重", ProcedurePage.objects.live()))
    assert [p.slug for p in results] == ["missing-item-flow"]


def test_procedure_titles_autocomplete_by_pinyin(backend):
    load_demo_procedure("30-missing-item.yaml")  # 少货处理
    backend.refresh_indexes()
    for typed in ["shaohuo", "shcl"]:
        results = list(backend.autocomplete(typed, ProcedurePage.objects.live()))
        assert [p.slug for p in results] == ["missing-item-flow"], typed


def test_overview_steps_carry_the_anchor_search_links_to(client, agent):
    page = load_demo_procedure("30-missing-item.yaml")
    client.force_login(agent)
    html = client.get(page.url).content.decode()
    for step in page.steps:
        assert f'id="step-{step.value["key"]}"' in html
