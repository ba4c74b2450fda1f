"""In Chromium: a trainer builds a new branching procedure in the admin only by picking targets and
"＋ 新建步骤…" (no key typed), following the flow map; a supervisor approves it and it is published."""

import re

import pytest
from playwright.sync_api import expect

from procedures.models import ProcedurePage
from tests.browser import browser  # noqa: F401
from tests.procedures import flow_editor as fe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

KEY = re.compile(r"^s-[0-9a-f]{6}$")


@pytest.fixture(autouse=True)
def no_autosave(settings):
    """Wagtail 8's editor autosaves every 500 ms: the add form's autosave created the page half-built
    (its invalid states answered 400) while the test went on, and the 提交审核 that followed, raced with
    it, left a page the supervisor could not approve (one CI run on PostgreSQL, two workers busy). What
    is tested here is what the trainer builds and submits, so the editor saves when told to."""
    settings.WAGTAIL_AUTOSAVE_INTERVAL = 0


# In one clean-clone run in six (2026-12-01, SQLite, two workers busy) the steps field's first inserter lost
# its click: no step block appeared within 90 s, and the server logged no error. A real fault in the editor
# or the flow tools fails both runs; one rerun keeps a lost click in a busy browser from blocking CI.
@pytest.mark.flaky(reruns=1)
def test_trainer_builds_a_branching_procedure_without_typing_a_key(
    browser,  # noqa: F811
    live_server,
    trainer,
    supervisor,
    section,
):
    page = fe.admin_page(browser, live_server.url, trainer)
    fe.start_new_procedure(page, live_server.url, section, "外包装破损", "客户说收到的包裹外包装破损")

    # 说明 → 判断, the question made from the instruction's own picker.
    fe.add_first_step(page, "说明", "问候并确认来意")
    assert KEY.match(fe.key_of(page, "steps-0"))
    fe.create_step_from(page, "steps-0-value-next", "外包装是否完好？", "判断")
    question_key = fe.key_of(page, "steps-1")
    assert KEY.match(question_key) and fe.target_of(page, "steps-0-value-next") == question_key
    expect(fe.map_step(page, "外包装是否完好？")).to_be_visible()
    fe.expect_map_arrows(page, "问候并确认来意", [("", "外包装是否完好？")])

    # The first answer leads to a new 结果.
    page.fill('input[name="steps-1-value-answers-0-value-label"]', "完好")
    fe.create_step_from(page, "steps-1-value-answers-0-value-next", "正常处理", "结果")
    page.fill('input[name="steps-2-value-outcome"]', "已解决")

    # A second answer with no target yet: the map marks the question.
    fe.add_list_item(page, "steps-1-value-answers")
    page.fill('input[name="steps-1-value-answers-1-value-label"]', "破损")
    question = fe.map_step(page, "外包装是否完好？")
    expect(question).to_have_class(re.compile(r"\bhas-errors\b"))
    expect(question.locator(".cb-flow-step__errors")).to_contain_text("请选择下一步")
    fe.expect_map_arrows(page, "外包装是否完好？", [("完好", "正常处理"), ("破损", "未选择")])

    # Fixed with another new step; the pickers already list every step by kind and title.
    fe.create_step_from(page, "steps-1-value-answers-1-value-next", "转运输破损处理", "结果")
    page.fill('input[name="steps-3-value-outcome"]', "已转接")
    expect(question).not_to_have_class(re.compile(r"\bhas-errors\b"))
    fe.expect_map_summary(page, "4 个步骤，没有发现问题。")
    fe.expect_map_arrows(page, "外包装是否完好？", [("完好", "正常处理"), ("破损", "转运输破损处理")])
    expect(fe.picker_options(page, "steps-0-value-next")).to_have_text(
        [
            "请选择步骤",
            "说明 · 问候并确认来意（本步骤）",
            "判断 · 外包装是否完好？",
            "结果 · 正常处理",
            "结果 · 转运输破损处理",
            "＋ 新建步骤…",
        ]
    )

    # A rename shows in the pickers at once; a click on the map opens that step's block.
    page.fill('input[name="steps-3-value-title"]', "转运输破损流程")
    damaged_picker = fe.picker(page, "steps-1-value-answers-1-value-next").locator(".cb-step-target__select")
    expect(damaged_picker).to_have_value(fe.key_of(page, "steps-3"))
    expect(damaged_picker.locator("option:checked")).to_have_text("结果 · 转运输破损流程")
    fe.open_from_map(page, "正常处理")
    expect(page.locator('input[name="steps-2-value-title"]')).to_be_focused()
    expect(page.locator('input[name="steps-2-value-title"]')).to_be_in_viewport()

    fe.submit_for_review(page)
    procedure = ProcedurePage.objects.get(title="外包装破损")
    page.context.close()

    reviewer = fe.admin_page(browser, live_server.url, supervisor)
    fe.approve_and_publish(reviewer, live_server.url, procedure.pk)
    reviewer.context.close()

    procedure = ProcedurePage.objects.get(pk=procedure.pk)
    assert procedure.live and not procedure.has_unpublished_changes
    steps = procedure.to_procedure().steps
    keys = [step["key"] for step in steps]
    assert all(KEY.match(key) for key in keys) and len(set(keys)) == 4
    greet, ask, fine, damaged = steps
    assert [greet["title"], ask["title"], fine["title"], damaged["title"]] == [
        "问候并确认来意",
        "外包装是否完好？",
        "正常处理",
        "转运输破损流程",
    ]
    assert greet["next"] == ask["key"]
    assert [(a["label"], a["next"]) for a in ask["answers"]] == [
        ("完好", fine["key"]),
        ("破损", damaged["key"]),
    ]
    assert (fine["outcome"], damaged["outcome"]) == ("已解决", "已转接")


def test_duplicated_steps_get_a_key_of_their_own_and_deleted_targets_are_marked(
    browser,  # noqa: F811
    live_server,
    trainer,
    missing_item,
):
    page = fe.admin_page(browser, live_server.url, trainer)
    page.goto(f"{live_server.url}/admin/pages/{missing_item.pk}/edit/")
    fe.expect_map_summary(page, "12 个步骤，没有发现问题。")
    assert [fe.block_key(page, index) for index in range(3)] == ["greet", "ask-package", "collect"]

    # A copy of 三步核实 (verify) gets a new key; the original keeps its readable one. Nothing leads to the
    # copy, and the map says so.
    fe.duplicate_step(page, 3)
    expect(fe.step_blocks(page)).to_have_count(13)
    assert fe.block_key(page, 3) == "verify"
    copy_key = fe.block_key(page, 4)
    assert KEY.match(copy_key)
    copy = fe.flow_map(page).locator(f'.cb-flow-step[data-step-key="{copy_key}"]')
    expect(copy).to_have_class(re.compile(r"\bhas-errors\b"))
    expect(copy.locator(".cb-flow-step__errors")).to_contain_text("无法到达这个步骤")
    fe.delete_step(page, 4)
    fe.expect_map_summary(page, "12 个步骤，没有发现问题。")

    # Deleting 说明核实结果 (no-shortage) leaves the answer that led there pointing nowhere: its picker and the
    # map say which step lost its target.
    fe.delete_step(page, 10)
    fe.expect_map_summary(page, "1 个问题，已在下面的步骤上标出。")
    confirmed = fe.map_step(page, "核实结果：是否确实少发？")
    expect(confirmed.locator(".cb-flow-step__errors")).to_contain_text("下一步“no-shortage”不存在")
    expect(confirmed.locator(".cb-flow-arrow.is-missing")).to_have_text(
        "数量无误 → 不存在的步骤“no-shortage”"
    )
    missing = page.locator("callbook-step-target .cb-step-target__select.is-missing")
    expect(missing).to_have_count(1)
    expect(missing.locator("option:checked")).to_have_text("不存在的步骤：no-shortage")
    page.context.close()
