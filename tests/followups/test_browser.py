"""End to end in headless Chromium: an agent escalates a run to the 主管 group through the confirming
screen; a supervisor finds it in the queue and hands it to another agent; that agent opens it by
keyboard, works it as a callback run, answers 未解决, and a 重办 appears in the queue."""

import pytest

from followups.models import FollowUp
from procedures.runs import start_run
from tests.browser import browser, login  # noqa: F401
from tests.factories import PASSWORD
from tests.training.journeys import START_VALUES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def as_user(browser, live_server, user):  # noqa: F811
    page = browser.new_context().new_page()
    login(page, live_server.url, user.username, PASSWORD)
    return page


def test_escalate_assign_work_and_redo(
    browser,  # noqa: F811
    live_server,
    agent,
    other_agent,
    supervisor,
    missing_item,
    callback_procedure,
):
    run = start_run(missing_item, agent, variables=dict(START_VALUES))

    # The agent escalates on the confirming screen, with a reason, to the 主管 group.
    page = as_user(browser, live_server, agent)
    page.goto(f"{live_server.url}{run.get_absolute_url()}")
    page.click("button:has-text('升级…')")
    page.wait_for_selector("#ending-confirm")
    page.fill("#ending-confirm textarea[name=reason]", "客户要求主管回电处理")
    page.select_option("#ending-confirm select[name=handoff_group]", label="主管")
    page.click("#confirm-ending")
    page.wait_for_selector("#run-outcome")
    follow_up = FollowUp.objects.get(source_run=run)
    assert (follow_up.kind, follow_up.group.name, follow_up.reason) == (
        "escalation",
        "主管",
        "客户要求主管回电处理",
    )
    # Working it is a 回访 run (the escalation gets the callback procedure, as a rule would give it).
    FollowUp.objects.filter(pk=follow_up.pk).update(procedure=callback_procedure)

    # The supervisor finds it in 本组 and 全部, and hands it to the other agent.
    boss = as_user(browser, live_server, supervisor)
    boss.goto(f"{live_server.url}/followups/?queue=group")
    assert follow_up.title in boss.inner_text(".followup-table")
    boss.goto(f"{live_server.url}/followups/?queue=all")
    assert follow_up.title in boss.inner_text(".followup-table")
    boss.check(f"input[name=follow_ups][value='{follow_up.pk}']")
    boss.select_option("#reassign-form select[name=user]", str(other_agent.pk))
    boss.click("#reassign-submit")
    boss.wait_for_selector(".message-success")
    follow_up.refresh_from_db()
    assert follow_up.assignee == other_agent

    # The assignee sees it in 我的 (the header counts it when due today), opens it by keyboard, starts work.
    work = as_user(browser, live_server, other_agent)
    work.goto(f"{live_server.url}/followups/")
    assert follow_up.title in work.inner_text(".followup-table")
    work.keyboard.press("j")
    work.keyboard.press("Enter")
    work.wait_for_selector("#followup-title")
    assert "客户要求主管回电处理" in work.inner_text(".followup-reason")
    work.click("#start-work")
    work.wait_for_selector("h1#step-title:has-text('核对身份')")
    work.wait_for_load_state("load")
    work.keyboard.press("1")
    work.wait_for_selector("h1#step-title:has-text('问题是否已解决')")
    work.wait_for_load_state("load")
    work.keyboard.press("2")  # 未解决
    work.wait_for_selector("#run-outcome")
    assert "问题未解决" in work.inner_text("#run-outcome")
    assert "这次运行处理的跟进" in work.inner_text(".followup-chain")

    follow_up.refresh_from_db()
    assert follow_up.status == "done" and follow_up.result == "问题未解决"
    redo = FollowUp.objects.get(kind="redo")
    assert redo.parent == follow_up and redo.group.name == "售后组"

    # The 重办 is in the supervisor's queue.
    boss.goto(f"{live_server.url}/followups/?queue=all&kind=redo")
    assert redo.title in boss.inner_text(".followup-table")
