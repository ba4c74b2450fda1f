"""In headless Chromium: no page of the site, front end or admin, loads anything from outside the site.

Call centres run on closed networks, so every request to another host is blocked and recorded; a page
that asks for one (the Wagtail dashboard's upgrade check, a web font, a CDN script) fails the test.
"""

import re

import pytest

from tests.browser import browser, login  # noqa: F401
from tests.factories import PASSWORD, UserFactory
from tests.procedures.conftest import load_demo_procedure
from tests.search.conftest import search_index  # noqa: F401
from tests.search.frontend_data import knowledge_base

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LOCAL_SCHEMES = ("data:", "blob:", "about:")


@pytest.fixture
def content(search_index, home, section):  # noqa: F811
    """A small knowledge base and one demo procedure, published and indexed."""
    data = knowledge_base(home, section)
    data["home"] = home
    data["procedure"] = load_demo_procedure("30-missing-item.yaml")
    return data


class Visitor:
    """One user's browser context; requests to any host but the live server are aborted and recorded."""

    def __init__(self, browser, live_server_url, user):  # noqa: F811
        self.origin = live_server_url
        self.username = user.username
        self.context = browser.new_context()
        self.outside = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        login(self.page, live_server_url, user.username, PASSWORD)

    def _route(self, route):
        url = route.request.url
        if url == self.origin or url.startswith((f"{self.origin}/", *LOCAL_SCHEMES)):
            route.continue_()
        else:
            self.outside.append(f"{self.username} on {self.page.url}: {url}")
            route.abort("blockedbyclient")

    def visit(self, path):
        response = self.page.goto(f"{self.origin}{path}")  # returns on the load event
        assert response is not None and response.ok, f"{self.username} {path}: HTTP {response.status}"

    def close(self):
        self.context.close()
        return self.outside


def assert_nothing_outside(outside):
    assert not outside, "requests to outside the site:\n" + "\n".join(outside)


def test_front_end_pages_load_nothing_from_outside(
    browser,  # noqa: F811
    live_server,
    content,
    agent,
    trainer,
    supervisor,
    newhire,
):
    outside = []
    for user in (agent, trainer, supervisor, newhire):
        visitor = Visitor(browser, live_server.url, user)
        for path in ("/", content["section"].url, content["complaint"].url, "/search/?q=投诉"):
            visitor.visit(path)
        visitor.visit(content["procedure"].url + "?客户称呼=王女士")  # required at start
        visitor.page.click("#start-run")
        visitor.page.wait_for_selector("h1#step-title")  # the run's first step
        visitor.page.wait_for_load_state("load")
        visitor.visit("/procedures/runs/")
        outside += visitor.close()
    assert_nothing_outside(outside)


def test_admin_pages_load_nothing_from_outside(browser, live_server, content, trainer, supervisor):  # noqa: F811
    # Only superusers (the site's administrators) get the dashboard's upgrade check: their visit is the
    # dashboard and any report the roles do not see.
    admin = UserFactory(username="admin", is_superuser=True)
    outside = []
    reports_seen = set()
    for user in (trainer, supervisor, admin):
        visitor = Visitor(browser, live_server.url, user)
        visitor.visit("/admin/")
        # The sidebar menu is the JSON its script renders: each report in it is visited once, by the
        # first role that has it.
        sidebar = visitor.page.inner_text("#wagtail-sidebar-props")
        reports = set(re.findall(r"/admin/reports/[\w/-]+", sidebar))
        if user != admin:
            assert {"/admin/reports/overdue-review/", "/admin/reports/procedures/stats/"} <= reports
        main_pages = (
            f"/admin/pages/{content['home'].pk}/",
            f"/admin/pages/{content['procedure'].pk}/edit/",
            "/admin/snippets/content/phrasing/",
        )
        for path in (*(main_pages if user != admin else ()), *sorted(reports - reports_seen)):
            visitor.visit(path)
        reports_seen |= reports
        outside += visitor.close()
    assert_nothing_outside(outside)
