"""What only a browser shows: copying a phrasing with a gap the agent filled in."""

import pytest

from kb_site.content.demo import build_body
from tests.browser import browser, login  # noqa: F401
from tests.factories import ArticlePageFactory, PhrasingFactory, publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def article(section, agent):
    phrasing = publish(
        PhrasingFactory(
            title="少货致歉", section=section, text="非常抱歉{客户称呼}，我们会在{天数}天内补发。"
        )
    )
    body = build_body(
        [
            {"heading": "致歉"},
            {"phrasing": "少货致歉"},
            {"phrasing": {"label": "结束语", "text": "{客户称呼}，感谢您的耐心。"}},
        ],
        {"少货致歉": phrasing},
        "test",
    )
    return publish(ArticlePageFactory(parent=section, title="少货处理规范", slug="missing-item", body=body))


def test_agent_fills_gaps_and_copies_the_phrasing(browser, live_server, article):  # noqa: F811
    context = browser.new_context(locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    login(page, live_server.url, "agent", "pw-callbook-123")

    page.goto(f"{live_server.url}{article.url}")
    gap = page.locator('input.ph-gap[data-ph="客户称呼"]').first
    assert gap.is_visible()
    assert "{客户称呼}" not in page.inner_text("main")
    gap.fill("王女士")

    page.locator("copy-button").first.click()
    page.wait_for_function("document.querySelector('copy-button').classList.contains('is-done')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == "非常抱歉王女士，我们会在【天数】天内补发。"

    # The name typed once fills the same gap in the other phrasing too.
    assert page.locator('input.ph-gap[data-ph="客户称呼"]').nth(1).input_value() == "王女士"
    context.close()


def test_slash_focuses_the_header_search(browser, live_server, article):  # noqa: F811
    page = browser.new_page()
    login(page, live_server.url, "agent", "pw-callbook-123")
    page.goto(f"{live_server.url}{article.url}")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-search"
