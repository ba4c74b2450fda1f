"""Helpers for end-to-end tests in Debian's headless Chromium, driven by Playwright."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# How long Playwright waits for an element, a navigation or an expectation before failing (its default is
# 30 s). A wait ends as soon as the page is ready: this only bounds a machine so loaded that a busy CI runner
# or two parallel suites take longer than 30 s to run an admin page's scripts.
WAIT_MS = 90_000


def require_chromium():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does this)")


@pytest.fixture
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; Django must allow ORM calls from the test thread.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        from playwright.sync_api import expect

        expect.set_options(timeout=WAIT_MS)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        browser.new_context = _waiting(browser.new_context)
        browser.new_page = _waiting(browser.new_page)
        yield browser
        browser.close()


def _waiting(make):
    """``browser.new_context`` / ``new_page`` whose result waits up to ``WAIT_MS``."""

    def made(*args, **kwargs):
        context_or_page = make(*args, **kwargs)
        context_or_page.set_default_timeout(WAIT_MS)
        context_or_page.set_default_navigation_timeout(WAIT_MS)
        return context_or_page

    return made


def login(page, live_server_url, username, password):
    page.goto(f"{live_server_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")
    page.wait_for_url(lambda url: "/login/" not in url)
