"""The demo procedure loader: every fixture loads and validates, reloads change nothing, and a
reference to a missing phrasing fails with a message naming it."""

import pytest
import yaml

from kb_site.content.demo import DemoReport
from procedures import demo
from procedures.models import ProcedurePage
from tests.procedures.conftest import load_demo_procedure


@pytest.mark.parametrize("path", demo.procedure_files(), ids=lambda p: p.name)
def test_every_demo_procedure_loads_and_is_valid(db, path):
    page = load_demo_procedure(path.name)
    assert page.live and page.live_revision_id
    page.full_clean()  # graph and variable references
    procedure = page.to_procedure()
    assert procedure.start_key == page.steps[0].value["key"]
    # phrasings by title resolve to the section's phrasing snippets
    for step in page.steps:
        for phrasing in step.value.get("phrasings") or []:
            assert phrasing.resolved_text()


def test_loading_twice_changes_nothing_and_update_publishes_a_new_revision(db):
    page = load_demo_procedure("30-missing-item.yaml")
    revision = page.live_revision_id
    report = DemoReport()
    demo.ensure_procedure(demo.DEMO_DIR / "procedures" / "30-missing-item.yaml", False, report)
    assert report.created == {} and report.updated == {"procedures": 1}
    assert ProcedurePage.objects.get(pk=page.pk).live_revision_id == revision
    demo.ensure_procedure(demo.DEMO_DIR / "procedures" / "30-missing-item.yaml", True, report)
    assert ProcedurePage.objects.get(pk=page.pk).live_revision_id != revision
    assert ProcedurePage.objects.filter(slug="missing-item-flow").count() == 1


def test_missing_phrasing_is_named(db, tmp_path):
    load_demo_procedure("30-missing-item.yaml")  # the ecommerce section exists now
    spec = {
        "section": "ecommerce",
        "title": "测试",
        "slug": "broken",
        "when_to_use": "测试",
        "steps": [
            {"key": "a", "kind": "instruction", "title": "A", "phrasings": ["不存在的话术"], "next": "b"},
            {"key": "b", "kind": "outcome", "title": "B", "outcome": "已解决"},
        ],
    }
    path = tmp_path / "99-broken.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(demo.DemoFixtureError, match="不存在的话术"):
        demo.ensure_procedure(path, False, DemoReport())


def test_missing_section_is_named(db, tmp_path):
    path = tmp_path / "99-nowhere.yaml"
    path.write_text("section: nowhere\ntitle: x\nslug: x\nsteps: []\n", encoding="utf-8")
    with pytest.raises(demo.DemoFixtureError, match="nowhere"):
        demo.ensure_procedure(path, False, DemoReport())
