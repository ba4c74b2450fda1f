"""End to end in headless Chromium: an agent runs a demo procedure by keyboard to its outcome."""

import pytest

from procedures.models import ProcedureRun, RunEvent, RunStatus
from tests.browser import browser, login  # noqa: F401
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def wait_for_step(page, title):
    page.wait_for_selector(f"h1#step-title:has-text('{title}')")
    # Keys go to the page's script, which runs after parsing: wait for it, not just for the heading.
    page.wait_for_load_state("load")


def test_agent_runs_missing_item_by_keyboard(browser, live_server, agent, missing_item):  # noqa: F811
    page = browser.new_page()
    login(page, live_server.url, agent.username, PASSWORD)

    page.goto(f"{live_server.url}{missing_item.url}?客户称呼=王女士&ref=CALL-9")
    assert page.input_value('input[name="v-客户称呼"]') == "王女士"
    page.focus("#start-run")
    page.keyboard.press("Enter")

    wait_for_step(page, "问候并确认来意")
    assert "王女士" in page.inner_text(".phrasing-text")
    page.keyboard.press("1")

    wait_for_step(page, "外包装是否完好？")
    page.keyboard.press("1")  # 完好

    wait_for_step(page, "记录订单和少货信息")
    page.wait_for_function("document.activeElement && document.activeElement.tagName === 'INPUT'")
    page.keyboard.type("A100")  # the first field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type("保温杯")
    page.keyboard.press("Tab")
    page.keyboard.type("30")
    page.keyboard.press("Enter")

    wait_for_step(page, "三步核实")
    for index in range(3):
        if index:
            page.keyboard.press("Tab")
        page.keyboard.press("Space")
    page.keyboard.press("1")

    wait_for_step(page, "核实结果：是否确实少发？")
    page.keyboard.press("1")  # 确实少发 → amount ≤ 50 → refund

    page.wait_for_selector("h1#run-outcome")
    assert page.inner_text("h1#run-outcome") == "结果：已解决"
    summary = page.input_value("#run-summary-text")
    assert (
        "【单号】CALL-9" in summary and "【客户称呼】王女士" in summary and "【少货金额（元）】30" in summary
    )
    assert "5. 核实结果：是否确实少发？ → 确实少发" in summary
    assert "退款" in page.inner_text(".run-step-outcome")

    run = ProcedureRun.objects.get()
    assert run.status == RunStatus.COMPLETED and run.outcome == "已解决"
    assert list(RunEvent.objects.filter(run=run).values_list("step_key", flat=True)) == [
        "greet",
        "ask-package",
        "collect",
        "verify",
        "confirmed",
        "by-amount",
        "refund",
    ]
    page.close()
