"""In Chromium, the trainers' loop of issue 12 end to end: a trainer builds a branching procedure of four
steps only by picking targets (a supervisor approves and publishes it), an agent reports a step as unclear
from inside a run, the trainer fixes the step and publishes it as a 重大变更, marks the feedback fixed, and
the agent must acknowledge the before / after diff before the next live run starts."""

import re

import pytest
from playwright.sync_api import expect

from changes.models import ChangeNotice
from feedback.models import Feedback
from procedures.models import ProcedurePage, ProcedureRun, RunStatus
from tests.browser import browser, login  # noqa: F401
from tests.factories import PASSWORD
from tests.procedures import flow_editor as fe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TITLE = "外包装破损"
QUESTION = "外包装是否完好？"
OLD_TEXT = "请客户描述外包装的样子。"
NEW_TEXT = "请客户拍照上传外包装的样子。"
REMARK = "“完好”要看到什么程度才算？客户说有点压痕。"


def step_text_editor(page, prefix):
    """The rich-text editor of a step's 说明 (Draftail, beside the field's hidden input)."""
    return (
        page.locator(f'input[name="{prefix}-value-text"]')
        .locator("xpath=..")
        .locator('[contenteditable="true"]')
    )


def type_step_text(page, prefix, text, replace=False):
    """Type a step's 说明 and wait until Draftail has written it to the field the form sends (it does so a
    moment after the last key)."""
    editor = step_text_editor(page, prefix)
    editor.click()
    if replace:
        page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(text)
    expect(editor).to_have_text(text)
    expect(page.locator(f'input[name="{prefix}-value-text"]')).to_have_value(re.compile(re.escape(text)))


def wait_for_step(page, title):
    expect(page.locator("h1#step-title")).to_have_text(title)


def front_page(chromium, live_server_url, user):
    """A new page of a fresh browser context, logged into the site (not the admin) as ``user``."""
    page = chromium.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    login(page, live_server_url, user.username, PASSWORD)
    return page


def test_trainers_loop_from_building_to_an_acknowledged_major_change(
    browser,  # noqa: F811
    live_server,
    trainer,
    supervisor,
    agent,
    section,
):
    url = live_server.url

    # 1. The trainer builds 说明 → 判断 (two answers) → two 结果 only by picking targets and 新建步骤, and
    # submits it; the supervisor approves and publishes it.
    builder = fe.admin_page(browser, url, trainer)
    fe.start_new_procedure(builder, url, section, TITLE, "客户说收到的包裹外包装破损")
    fe.add_first_step(builder, "说明", "问候并确认来意")
    fe.create_step_from(builder, "steps-0-value-next", QUESTION, "判断")
    type_step_text(builder, "steps-1", OLD_TEXT)
    builder.fill('input[name="steps-1-value-answers-0-value-label"]', "完好")
    fe.create_step_from(builder, "steps-1-value-answers-0-value-next", "正常处理", "结果")
    builder.fill('input[name="steps-2-value-outcome"]', "已解决")
    fe.add_list_item(builder, "steps-1-value-answers")
    builder.fill('input[name="steps-1-value-answers-1-value-label"]', "破损")
    fe.create_step_from(builder, "steps-1-value-answers-1-value-next", "转运输破损处理", "结果")
    builder.fill('input[name="steps-3-value-outcome"]', "已转接")
    fe.expect_map_summary(builder, "4 个步骤，没有发现问题。")
    fe.expect_map_arrows(builder, QUESTION, [("完好", "正常处理"), ("破损", "转运输破损处理")])
    fe.submit_for_review(builder)
    procedure = ProcedurePage.objects.get(title=TITLE)

    reviewer = fe.admin_page(browser, url, supervisor)
    fe.approve_and_publish(reviewer, url, procedure.pk)
    expect(reviewer.locator(".messages")).to_contain_text(f"已批准并发布“{TITLE}”")
    procedure.refresh_from_db()
    assert procedure.live and not procedure.has_unpublished_changes
    first_revision = procedure.live_revision_id

    # 2. An agent runs it; on the 判断 step, 反馈这一步 (不清楚) goes to the trainers (the new procedure has
    # no 负责培训师 yet), then the run ends.
    desk = front_page(browser, url, agent)
    desk.goto(f"{url}{procedure.url}")
    expect(desk.locator("h1")).to_contain_text(TITLE)
    desk.click("#start-run")
    wait_for_step(desk, "问候并确认来意")
    desk.locator("#run-form .btn-answer").first.click()
    wait_for_step(desk, QUESTION)
    expect(desk.locator(".run-text")).to_have_text(OLD_TEXT)
    desk.get_by_role("link", name="反馈这一步").click()
    form = desk.locator(".feedback-slot form.feedback-form")
    expect(form).to_contain_text(f"反馈：{TITLE} · 步骤“{QUESTION}”（将提交给 培训师）")
    form.get_by_label("不清楚").check()
    form.locator("textarea").fill(REMARK)
    form.get_by_role("button", name="提交反馈").click()
    expect(desk.locator(".feedback-sent")).to_contain_text("已提交给 培训师。")
    wait_for_step(desk, QUESTION)  # still on the step, the run goes on
    desk.get_by_role("button", name="完好").click()
    expect(desk.locator("h1#run-outcome")).to_have_text("结果：已解决")
    run = ProcedureRun.objects.get()
    assert run.status == RunStatus.COMPLETED and not run.practice
    feedback = Feedback.objects.get()
    assert (feedback.kind, feedback.run_id, feedback.revision_id) == ("unclear", run.pk, first_revision)
    # The procedure page stays open in another tab from before the change.
    stale_tab = desk.context.new_page()
    stale_tab.goto(f"{url}{procedure.url}")
    expect(stale_tab.locator("#start-run")).to_be_visible()

    # 3. The trainer sees the feedback and its notice, rewrites the step's 说明, classes it 重大变更 with a
    # summary and submits; the supervisor approves; the trainer marks the feedback 已修正 with the new revision.
    builder.goto(f"{url}/inbox/")
    expect(builder.locator(".notice-list")).to_contain_text(f"不清楚：{TITLE}")
    builder.goto(f"{url}/feedback/")
    item = builder.locator(f"#feedback-{feedback.pk}")
    expect(item.locator(".feedback-text")).to_have_text(REMARK)
    expect(item).to_contain_text("不清楚")
    expect(item).to_contain_text("来自流程运行")

    builder.goto(f"{url}/admin/pages/{procedure.pk}/edit/")
    fe.open_from_map(builder, QUESTION)
    expect(step_text_editor(builder, "steps-1")).to_have_text(OLD_TEXT)
    type_step_text(builder, "steps-1", NEW_TEXT, replace=True)
    builder.select_option("#id_change_class", label="重大变更")
    builder.fill("#id_change_summary", "外包装要请客户拍照上传")
    fe.submit_for_review(builder)
    fe.approve_and_publish(reviewer, url, procedure.pk)
    expect(reviewer.locator(".messages")).to_contain_text(f"已批准并发布“{TITLE}”")
    procedure.refresh_from_db()
    assert procedure.live_revision_id != first_revision and not procedure.has_unpublished_changes
    notice = ChangeNotice.objects.get(page=procedure)
    assert (notice.revision_id, notice.previous_revision_id) == (procedure.live_revision_id, first_revision)

    builder.goto(f"{url}/feedback/")
    item = builder.locator(f"#feedback-{feedback.pk}")
    item.locator('select[name="revision"]').select_option(str(procedure.live_revision_id))
    item.get_by_role("button", name="已修正").click()
    expect(builder.locator(".messages")).to_be_visible()
    feedback.refresh_from_db()
    assert (feedback.status, feedback.fixed_revision_id) == ("fixed", procedure.live_revision_id)

    desk.goto(f"{url}/inbox/")
    fixed = desk.locator(".notice", has=desk.locator(".notice-kind", has_text="已修正"))
    expect(fixed).to_contain_text(f"不清楚：{TITLE}")

    # 4. The agent opens the procedure: the change notice with its diff comes first; the start button of the
    # tab opened before the change is refused; after 我已了解这些变更 a run starts normally.
    desk.goto(f"{url}{procedure.url}")
    expect(desk.locator(".change-notice h1")).to_contain_text(f"变更通知：{TITLE}")
    expect(desk.locator(".change-summary")).to_contain_text("外包装要请客户拍照上传")
    changed = desk.locator(".change-block.change-changed", has=desk.locator("h2", has_text=QUESTION))
    expect(changed.locator(".change-diff del")).to_have_text("描述")
    expect(changed.locator(".change-diff ins")).to_have_text("拍照上传")
    expect(changed.locator(".change-diff")).to_contain_text("内容：请客户描述拍照上传外包装的样子。")

    stale_tab.click("#start-run")
    expect(stale_tab.locator(".messages")).to_contain_text("这个流程有重大变更，请先确认变更再开始。")
    expect(stale_tab.locator(".change-notice h1")).to_contain_text(f"变更通知：{TITLE}")
    assert ProcedureRun.objects.count() == 1

    desk.get_by_role("button", name="我已了解这些变更").click()
    expect(desk.locator(".messages")).to_contain_text(f"已确认“{TITLE}”的变更。")
    expect(desk.locator("h1")).to_contain_text(TITLE)
    desk.click("#start-run")
    wait_for_step(desk, "问候并确认来意")
    desk.locator("#run-form .btn-answer").first.click()
    wait_for_step(desk, QUESTION)
    expect(desk.locator(".run-text")).to_have_text(NEW_TEXT)
    second = ProcedureRun.objects.exclude(pk=run.pk).get()
    assert second.revision_id == procedure.live_revision_id and not second.practice
    for context in (builder.context, reviewer.context, desk.context):
        context.close()
