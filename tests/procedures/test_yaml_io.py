"""Export a procedure as YAML and import it from the admin (issue 12), through the admin URLs."""

import io

import pytest
import yaml
from django.urls import reverse

from kb_site.content.models import Phrasing
from procedures import demo as procedures_demo
from procedures.blocks import stream_to_steps
from procedures.interchange import MAX_BYTES
from procedures.models import ProcedurePage
from tests.factories import ArticlePageFactory, SectionPageFactory
from tests.procedures.conftest import load_demo_procedure


def export_url(page):
    return reverse("procedures_export_yaml", args=[page.pk])


def import_url(section):
    return reverse("procedures_import_yaml", args=[section.pk])


def upload(client, section, content, name="flow.yaml"):
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    handle = io.BytesIO(data)
    handle.name = name
    return client.post(import_url(section), {"file": handle})


def exported(client, page):
    response = client.get(export_url(page))
    assert response.status_code == 200
    return response.content.decode("utf-8")


def steps_of(page):
    """A page's steps (its latest revision) as plain dicts, as the graph and the engine see them."""
    return stream_to_steps(page.get_latest_revision_as_object().steps)


def saved_state():
    return (ProcedurePage.objects.count(), sum(p.revisions.count() for p in ProcedurePage.objects.all()))


@pytest.fixture
def trainer_client(client, trainer):
    client.force_login(trainer)
    return client


@pytest.fixture
def empty_section(home):
    return SectionPageFactory(parent=home, title="新栏目", slug="new-section")


def small_flow(**changes):
    """A small valid procedure spec in the fixture format, with ``changes`` applied to its steps by key."""
    spec = {
        "section": "ecommerce",  # its phrasings are found there when the target section has none
        "title": "小流程",
        "slug": "small-flow",
        "when_to_use": "测试导入",
        "variables": [{"name": "客户称呼", "type": "text", "required": True}],
        "steps": [
            {
                "key": "greet",
                "kind": "instruction",
                "title": "问候",
                "phrasings": ["开场问候"],
                "next": "ask",
            },
            {
                "key": "ask",
                "kind": "question",
                "title": "问题解决了吗？",
                "answers": [{"label": "是", "next": "done"}, {"label": "否", "next": "done"}],
            },
            {"key": "done", "kind": "outcome", "title": "结束", "outcome": "已解决"},
        ],
    }
    for key, values in changes.items():
        step = next(s for s in spec["steps"] if s["key"] == key)
        step.update(values)
    return spec


def dump(spec):
    return yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)


# --- export ---------------------------------------------------------------------------------------------


def test_export_downloads_the_fixture_format(trainer_client, missing_item):
    response = trainer_client.get(export_url(missing_item))

    assert response.status_code == 200
    assert 'filename="missing-item-flow.yaml"' in response["Content-Disposition"]
    spec = yaml.safe_load(response.content.decode("utf-8"))
    assert spec["section"] == "ecommerce" and spec["slug"] == "missing-item-flow"
    assert spec["title"] == "少货处理"
    steps = {step["key"]: step for step in spec["steps"]}
    assert list(steps)[0] == "greet"
    assert steps["greet"]["phrasings"] == ["开场问候"]  # a 话术库 phrasing by its title
    assert steps["verify"]["phrasings"][0]["label"] == "请客户稍候"  # an inline one written out
    assert steps["verify"]["checklist"] == ["已查出库单底单", "已看物流单称重", "已数库存数量"]
    assert steps["verify"]["text"].startswith("核实之前不要向客户承诺补发或退款。\n\n一查出库单底单")
    assert steps["by-amount"]["branches"] == [
        {"variable": "少货金额", "op": "lte", "value": "50", "next": "refund"}
    ]
    rules = [rule for step in spec["steps"] for rule in step.get("follow_ups") or []]
    assert rules and rules[0]["group"] == "售后组" and rules[0]["amount"] == 3


def test_export_and_import_are_offered_in_the_admin(trainer_client, missing_item):
    edit = trainer_client.get(reverse("wagtailadmin_pages:edit", args=[missing_item.pk]))
    assert export_url(missing_item) in edit.content.decode()
    section = missing_item.get_parent()
    explore = trainer_client.get(reverse("wagtailadmin_explore", args=[section.pk]))
    assert import_url(section) in explore.content.decode()
    parent_listing = trainer_client.get(reverse("wagtailadmin_explore", args=[section.get_parent().pk]))
    assert import_url(section) in parent_listing.content.decode()  # the listing's 更多 menu


def test_export_needs_the_right_to_edit(client, agent, missing_item):
    client.force_login(agent)
    assert client.get(export_url(missing_item)).status_code in (302, 403)


def test_export_of_a_page_that_is_no_procedure_is_404(trainer_client, missing_item):
    assert trainer_client.get(export_url(missing_item.get_parent())).status_code == 404


# --- import ---------------------------------------------------------------------------------------------


def test_round_trip_into_an_empty_section(trainer_client, missing_item, empty_section):
    text = exported(trainer_client, missing_item)

    response = upload(trainer_client, empty_section, text)

    assert response.status_code == 302
    copy = ProcedurePage.objects.child_of(empty_section).get(slug="missing-item-flow")
    assert response["Location"] == reverse("wagtailadmin_pages:edit", args=[copy.pk])
    assert not copy.live and copy.get_latest_revision() is not None
    assert steps_of(copy) == steps_of(missing_item)
    draft = copy.get_latest_revision_as_object()
    assert draft.step_dicts() == missing_item.step_dicts()  # phrasings resolved to the same texts
    assert [v.name for v in draft.variable_defs()] == [v.name for v in missing_item.variable_defs()]
    assert sorted(t.name for t in draft.tags.all()) == ["售后", "少发货", "少货"]
    # and exporting the copy gives the same file but for nothing
    again = yaml.safe_load(exported(trainer_client, copy))
    original = yaml.safe_load(text)
    assert again["steps"] == original["steps"] and again["variables"] == original["variables"]


@pytest.mark.parametrize("path", procedures_demo.procedure_files(), ids=lambda p: p.name)
def test_every_demo_procedure_round_trips(trainer_client, empty_section, path):
    page = load_demo_procedure(path.name)

    assert upload(trainer_client, empty_section, exported(trainer_client, page)).status_code == 302

    copy = ProcedurePage.objects.child_of(empty_section).get(slug=page.slug)
    assert steps_of(copy) == steps_of(page)
    assert copy.get_latest_revision_as_object().step_dicts() == page.step_dicts()


def test_importing_a_slug_the_section_has_makes_a_draft_revision_and_keeps_the_live_one(
    trainer_client, missing_item
):
    spec = yaml.safe_load(exported(trainer_client, missing_item))
    spec["title"] = "少货处理（修订）"
    spec["steps"][0]["title"] = "先问候"
    live_revision = missing_item.live_revision_id

    response = upload(trainer_client, missing_item.get_parent(), dump(spec))

    assert response.status_code == 302
    page = ProcedurePage.objects.get(pk=missing_item.pk)
    assert page.live and page.title == "少货处理" and page.live_revision_id == live_revision
    assert page.has_unpublished_changes
    draft = page.get_latest_revision_as_object()
    assert draft.title == "少货处理（修订）" and steps_of(page)[0]["title"] == "先问候"
    assert ProcedurePage.objects.filter(slug="missing-item-flow").count() == 1


def test_the_newer_keys_survive_export_and_import(trainer_client, missing_item, empty_section):
    """必说, target times, a 子流程 step and 接着进入的流程 by slug, related articles."""
    article = ArticlePageFactory(parent=missing_item.get_parent(), title="少货处理规范", slug="missing-item")
    spec = small_flow(
        greet={
            "phrasings": [{"phrasing": "开场问候", "must_say": True}],
            "target_seconds": 30,
            "next": "sub",
        },
        done={"continue_with": "missing-item-flow", "phrasings": [{"text": "再见", "must_say": True}]},
    )
    spec["steps"].insert(
        1,
        {
            "key": "sub",
            "kind": "subprocedure",
            "title": "走少货流程",
            "procedure": "missing-item-flow",
            "next": "ask",
        },
    )
    spec["related"] = ["missing-item"]

    assert upload(trainer_client, empty_section, dump(spec)).status_code == 302

    page = ProcedurePage.objects.get(slug="small-flow")
    steps = {step["key"]: step for step in steps_of(page)}
    assert steps["sub"]["procedure"] == missing_item.pk
    assert steps["done"]["continue_with"] == missing_item.pk
    assert steps["greet"]["target_seconds"] == 30
    draft = page.get_latest_revision_as_object()
    assert [link.article_id for link in draft.related_articles.all()] == [article.pk]
    back = yaml.safe_load(exported(trainer_client, page))
    by_key = {step["key"]: step for step in back["steps"]}
    assert by_key["greet"]["phrasings"] == [{"phrasing": "开场问候", "must_say": True}]
    assert by_key["greet"]["target_seconds"] == 30
    assert by_key["sub"]["procedure"] == "missing-item-flow"
    assert by_key["done"]["continue_with"] == "missing-item-flow"
    assert by_key["done"]["phrasings"] == [{"text": "再见", "must_say": True}]
    assert back["related"] == ["missing-item"]


def test_every_problem_is_shown_with_its_step_and_nothing_is_saved(
    trainer_client, missing_item, empty_section
):
    spec = small_flow(
        greet={"phrasings": ["开场问候", "没有这条话术"], "next": "nowhere"},
        done={"continue_with": "no-such-flow", "outcome": "已解决"},
    )
    spec["steps"][1]["follow_ups"] = [{"title": "回访", "amount": 1, "procedure": "no-such-callback"}]
    before = saved_state()

    response = upload(trainer_client, empty_section, dump(spec))

    assert response.status_code == 400
    html = response.content.decode()
    assert "第 1 步「问候」（greet）：话术库中没有标题为“没有这条话术”的话术" in html
    assert saved_state() == before

    spec["steps"][0]["phrasings"] = ["开场问候"]
    response = upload(trainer_client, empty_section, dump(spec))
    html = response.content.decode()
    assert response.status_code == 400
    assert "第 3 步「结束」（done）：没有地址（slug）为“no-such-flow”的流程" in html
    assert "第 2 步「问题解决了吗？」（ask）：没有地址（slug）为“no-such-callback”的流程" in html
    assert saved_state() == before

    del spec["steps"][1]["follow_ups"]
    del spec["steps"][2]["continue_with"]
    spec["variables"].append({"name": "金额", "type": "money"})
    response = upload(trainer_client, empty_section, dump(spec))
    assert "变量 2：“type”的值“money”不是可选值之一" in response.content.decode()

    spec["variables"].pop()
    spec["steps"][2]["outcome"] = "已退货"
    response = upload(trainer_client, empty_section, dump(spec))
    html = response.content.decode()
    assert response.status_code == 400
    assert "第 1 步「问候」（greet）" in html and "nowhere" in html  # the missing target, on its step
    assert "第 3 步「结束」（done）" in html and "已退货" in html  # an outcome not offered
    assert saved_state() == before


def test_a_sub_procedure_calling_itself_is_refused(trainer_client, missing_item, empty_section):
    spec = small_flow(greet={"next": "self"})
    spec["steps"].insert(
        1, {"key": "self", "kind": "subprocedure", "title": "再来一遍", "procedure": "small-flow"}
    )
    spec["steps"][1]["next"] = "ask"
    before = saved_state()

    response = upload(trainer_client, empty_section, dump(spec))

    assert response.status_code == 400
    assert "第 2 步「再来一遍」（self）：子流程不能运行本流程自己" in response.content.decode()
    assert saved_state() == before


def test_an_error_in_a_variable_reference_is_named(trainer_client, missing_item, empty_section):
    spec = small_flow()
    spec["steps"].insert(
        1,
        {
            "key": "by-amount",
            "kind": "rule",
            "title": "按金额",
            "branches": [{"variable": "金额", "op": "lte", "value": "50", "next": "done"}],
            "default": "ask",
        },
    )
    spec["steps"][0]["next"] = "by-amount"
    before = saved_state()

    response = upload(trainer_client, empty_section, dump(spec))

    assert response.status_code == 400
    assert "第 2 步「按金额」（by-amount）" in response.content.decode()
    assert saved_state() == before


def test_a_procedure_locked_by_someone_else_is_not_revised(trainer_client, supervisor, missing_item):
    spec = yaml.safe_load(exported(trainer_client, missing_item))
    ProcedurePage.objects.filter(pk=missing_item.pk).update(locked=True, locked_by=supervisor)
    before = saved_state()

    response = upload(trainer_client, missing_item.get_parent(), dump(spec))

    assert response.status_code == 400
    assert "已被锁定" in response.content.decode()
    assert saved_state() == before


def test_a_slug_taken_by_another_page_in_the_section_is_refused(trainer_client, missing_item):
    section = missing_item.get_parent()
    ArticlePageFactory(parent=section, title="同名文章", slug="small-flow")
    before = saved_state()

    response = upload(trainer_client, section, dump(small_flow()))

    assert response.status_code == 400
    assert "已有地址为“small-flow”的其他页面" in response.content.decode()
    assert saved_state() == before


HOSTILE = {
    "too-big": b"title: x\n" + b"#" * (MAX_BYTES + 10),
    "not-utf8": "title: 少货处理\n".encode("gbk"),
    "a-list": "- title: x\n- slug: y\n",
    "a-scalar": "just words",
    "empty": "",
    "bad-yaml": "title: [unclosed\nslug: x\n",
    "deep": "a: " + "[" * 200 + "]" * 200,
    "alias-bomb": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n",
    "python-tag": "title: !!python/object/apply:os.system ['echo hi']\nslug: x\n",
    "two-documents": "title: a\n---\ntitle: b\n",
    "nul": "title: a\x00b\n",
    "steps-a-string": "title: x\nslug: x\nwhen_to_use: y\nsteps: nope\n",
    "step-a-list": "title: x\nslug: x\nwhen_to_use: y\nsteps: [[1, 2]]\n",
    "wrong-types": (
        "title: [x]\nslug: {a: b}\nexpected_minutes: soon\nvariables: {name: x}\ntags: [[a]]\n"
        "steps:\n  - key: [a]\n    kind: question\n    title: {t: 1}\n    answers: {label: x}\n"
        "    follow_ups: [{title: t, amount: three, unit: fortnights}]\n"
        "  - kind: teleport\n    title: x\n"
        "  - kind: rule\n    title: r\n    branches: [{variable: v, op: like, value: [1], next: x}]\n"
        "    follow_ups: [{title: t, amount: 0}]\n"
    ),
    "bad-slug": "title: x\nslug: 'a b/c'\nwhen_to_use: y\nsteps: [{key: a, kind: outcome, title: t, outcome: 已解决}]\n",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_uploads_get_a_message_and_save_nothing(trainer_client, missing_item, empty_section, name):
    before = saved_state()

    response = upload(trainer_client, empty_section, HOSTILE[name])

    assert response.status_code == 400
    html = response.content.decode()
    assert "error-message" in html or "import-problems" in html
    assert saved_state() == before


def test_wrong_types_are_each_named(trainer_client, missing_item, empty_section):
    html = upload(trainer_client, empty_section, HOSTILE["wrong-types"]).content.decode()
    for message in (
        "“title”应是文字",
        "“expected_minutes”应是整数",
        "“variables”应是列表",
        "“answers”应是列表",
        "“amount”应是整数",
        "“unit”的值“fortnights”不是可选值之一",
        "第 3 步「r」：规则步骤不能有跟进规则",
        "“amount”应是正整数",
        "第 2 步「x」：“kind”应是以下之一",
        "“op”的值“like”不是可选值之一",
    ):
        assert message in html, message
    assert (
        "文件不是 UTF-8 编码的文本"
        in upload(trainer_client, empty_section, HOSTILE["not-utf8"]).content.decode()
    )
    assert "最多 512 KB" in upload(trainer_client, empty_section, HOSTILE["too-big"]).content.decode()
    assert "YAML 别名" in upload(trainer_client, empty_section, HOSTILE["alias-bomb"]).content.decode()


def test_a_missing_file_is_asked_for(trainer_client, empty_section):
    response = trainer_client.post(import_url(empty_section), {})
    assert response.status_code == 400
    assert "error-message" in response.content.decode()


def test_only_those_who_may_add_pages_there_may_import(client, agent, trainer, missing_item, empty_section):
    client.force_login(agent)
    assert client.get(import_url(empty_section)).status_code in (302, 403)
    assert upload(client, empty_section, dump(small_flow())).status_code in (302, 403)
    assert not ProcedurePage.objects.filter(slug="small-flow").exists()


def test_a_tampered_section_id_is_404(trainer_client, missing_item):
    assert trainer_client.get(import_url(missing_item)).status_code == 404  # a procedure, not a section
    assert trainer_client.get(reverse("procedures_import_yaml", args=[999999])).status_code == 404


def test_the_import_form_is_shown(trainer_client, empty_section):
    response = trainer_client.get(import_url(empty_section))
    assert response.status_code == 200
    assert "导入流程 (YAML)" in response.content.decode()


def test_phrasings_of_the_target_section_come_first(trainer_client, missing_item, empty_section):
    own = Phrasing.objects.create(title="开场问候", text="新栏目的问候", section=empty_section, live=True)

    assert upload(trainer_client, empty_section, dump(small_flow())).status_code == 302

    draft = ProcedurePage.objects.get(slug="small-flow").get_latest_revision_as_object()
    assert draft.steps[0].value["phrasings"][0]["phrasing"].pk == own.pk
