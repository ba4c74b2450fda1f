"""In headless Chromium: header-box suggestions and results-page keyboard navigation."""

import pytest

from search.models import SearchClick
from tests.browser import browser, login  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("search_index"),
]

PASSWORD = "pw-callbook-123"  # tests.factories.UserFactory


def test_header_box_suggests_by_pinyin_and_opens_by_keyboard(browser, live_server, agent, kb):  # noqa: F811
    page = browser.new_page()
    login(page, live_server.url, agent.username, PASSWORD)
    page.goto(f"{live_server.url}/")
    page.focus("#site-search")
    page.keyboard.type("tousu")
    page.wait_for_selector("#site-search-suggestions [role=option]")
    options = page.locator("#site-search-suggestions [role=option] .suggest-title").all_inner_texts()
    assert "客户投诉处理流程" in options and "投诉安抚话术" in options
    assert page.get_attribute("#site-search", "aria-expanded") == "true"

    page.keyboard.press("Escape")
    assert page.is_hidden("#site-search-suggestions")
    page.keyboard.press("ArrowDown")  # reopens and selects the first suggestion
    first = options[0]
    assert page.get_attribute("#site-search", "aria-activedescendant") == "site-search-suggestions-0"
    page.keyboard.press("Enter")
    expected = kb["complaint"].url if first == "客户投诉处理流程" else kb["section"].url
    page.wait_for_url(lambda url: url.split("#")[0].endswith(expected))


def test_enter_without_a_selection_opens_the_results_page(browser, live_server, agent, kb):  # noqa: F811
    page = browser.new_page()
    login(page, live_server.url, agent.username, PASSWORD)
    page.goto(f"{live_server.url}/")
    page.focus("#site-search")
    page.keyboard.type("投诉")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/search/?q=" in url)
    assert "客户投诉处理流程" in page.inner_text(".search-results")


def test_results_are_navigable_with_arrow_keys(browser, live_server, agent, kb):  # noqa: F811
    page = browser.new_page()
    login(page, live_server.url, agent.username, PASSWORD)
    page.goto(f"{live_server.url}/search/?q=投诉")
    titles = page.locator(".search-hit-title").all_inner_texts()
    assert len(titles) == 2
    page.focus("#search-page-q")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == titles[0]
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.textContent") == titles[1]
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.textContent") == titles[0]
    # The link goes through /search/open/ (the click is recorded) to the hit's own URL (data-url).
    target = page.evaluate("document.activeElement.dataset.url")
    assert page.evaluate("document.activeElement.getAttribute('href')").startswith("/search/open/")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith(target))
    assert SearchClick.objects.get(user=agent).position == 1
