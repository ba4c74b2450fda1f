"""In headless Chromium: the admin that trainers and supervisors work in is in Chinese, all of it.

Wagtail's own zh_Hans catalogues leave about a fifth of the admin in English (the dashboard, autosave,
workflow messages, the table block); ``locale/zh_Hans`` fills the gaps. A trainer and a supervisor walk
their screens: the login page, dashboard, page explorer and search, an article's editor (its side
panels, the scheduling dialog, a table block's settings, a validation error), phrasings, the moderation
workflow from submission to approval, every report in their menu, documents and images. Every screen's
visible text and its title, placeholder and aria-label attributes must hold none of ``ENGLISH`` and no
Latin word (of two letters or more) but the names in ``ALLOWED``.
"""

import csv
import io
import re
from urllib.parse import unquote

import openpyxl
import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect
from wagtail.documents import get_document_model
from wagtail.models import Collection
from wagtail_factories import ImageFactory

from tests.browser import browser  # noqa: F401
from tests.factories import PASSWORD, PhrasingFactory, publish
from tests.search.conftest import search_index  # noqa: F401
from tests.search.frontend_data import knowledge_base

# What the issue quoted and what else was seen in English before the project catalogue.
ENGLISH = (
    "Insert row above",
    "Remove column",
    "Pages",
    "Documents",
    "Images",
    "Search all pages",
    "Privacy and access",
    "Your pages and snippets in a workflow",
    "has been submitted for moderation",
    "The page could not be saved due to validation errors",
    "Go to the first error",
    "Autosave is paused",
    "Saved",
    "Compare",
    "By workflow",
    "By task",
    "Table headers",
    "Display the first row as a header",
    "Select a header option",
    "Password",
    "True",
    "False",
    "Edit account avatar",
    "editor guide",
    "new items in this menu",
    "Exploring",
    "Actions",
    "Insert a block",
    "Toggle checks",
    "Content metrics",
    "Readability",
    "Schedule to publish",
    "Choose when this page should go live",
    "Sort by",
    "ascending order",
    "Grid layout",
    "List layout",
    "Oldest",
    "Usage count",
    "Maximum filesize",
    "Keyboard shortcuts",
    "Approve",
    "Request changes",
    "Status",
    "Edit",
    "Delete",
    "Cancel",
    "Save",
    "Submit",
    "Publish",
    "Preview",
    "Search",
    "Workflow",
    "Draft",
    "Live",
)

# Latin words that may show: names, file formats and units, the test users' usernames (listed in the
# pages' owner and maintainer choices) and the tree's root page, as Wagtail's migration names it.
ALLOWED = {
    "Wagtail",
    "Callbook",
    "PDF",
    "DOCX",
    "CSV",
    "XLSX",
    "TXT",
    "URL",
    "AVIF",
    "GIF",
    "JPG",
    "JPEG",
    "PNG",
    "WEBP",
    "MB",
    "trainer",
    "supervisor",
    "Root",
}

# Wagtail prints a missing value as "None" on three screens, whatever the language: the page search's
# results heading (its view has no model name), the aging pages report's publisher of a page published
# by no user, and a revision comparison's stream blocks stored without ids (the demo loader and these
# fixtures publish without a user and store bodies without block ids). No catalogue reaches them.
WAGTAIL_NONE = re.compile(r"/admin/(pages/search/|reports/aging-pages/|pages/\d+/revisions/compare/)")

LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
# Identifiers such as a content type's ``content.articlepage`` (the page types report) are not prose.
IDENTIFIER = re.compile(r"\b[a-z_]+\.[a-z_]+\b")

VISIBLE_TEXT = """() => {
    const texts = [document.title, document.body.innerText];
    for (const element of document.querySelectorAll("[title], [placeholder], [aria-label]")) {
        for (const name of ["title", "placeholder", "aria-label"]) {
            if (element.hasAttribute(name)) texts.push(element.getAttribute(name));
        }
    }
    return texts.join("\\n");
}"""


def english_in(text):
    """The phrases of ENGLISH in ``text``, and its Latin words that ALLOWED does not name."""
    found = {
        phrase for phrase in ENGLISH if re.search(rf"(?<![A-Za-z]){re.escape(phrase)}(?![A-Za-z])", text)
    }
    words = LATIN_WORD.findall(IDENTIFIER.sub(" ", text))
    return found | {word for word in words if word not in ALLOWED and word.upper() not in ALLOWED}


class Walk:
    """One user's admin session in Chinese; ``check`` records the English each screen shows."""

    def __init__(self, browser, origin, username):  # noqa: F811
        self.origin = origin
        self.username = username
        self.context = browser.new_context(locale="zh-CN")
        self.page = self.context.new_page()
        self.english = []

    def visit(self, path, label=None):
        response = self.page.goto(f"{self.origin}{path}")
        assert response is not None and response.ok, f"{self.username} {path}: HTTP {response.status}"
        landed = unquote(self.page.url.removeprefix(self.origin))
        assert landed == path, f"{self.username} {path}: sent to {landed}"
        self.check(label or path)

    def check(self, label):
        self.page.wait_for_load_state("networkidle")
        found = english_in(self.page.evaluate(VISIBLE_TEXT))
        if WAGTAIL_NONE.match(self.page.url.removeprefix(self.origin)):
            found.discard("None")
        if found:
            self.english.append(f"{self.username}, {label}: {', '.join(sorted(found))}")

    def log_in(self):
        self.visit("/admin/login/", "admin login")
        self.page.fill("#id_username", self.username)
        self.page.fill("#id_password", PASSWORD)
        self.page.press("#id_password", "Enter")
        self.page.wait_for_url(lambda url: "/login/" not in url)
        self.check("dashboard")

    def submit_for_moderation(self, edit_path, label):
        self.visit(edit_path, label)
        self.page.click("footer .w-dropdown__toggle")
        with self.page.expect_navigation():
            self.page.click('button[name="action-submit"]')
        self.check(f"{label}, submitted for moderation")

    def reports(self):
        """The paths of the reports in the user's Reports menu (the sidebar is JSON its script renders)."""
        sidebar = self.page.inner_text("#wagtail-sidebar-props")
        return sorted(set(re.findall(r"/admin/reports/[\w/-]+", sidebar)))

    def close(self):
        self.context.close()
        return self.english


@pytest.fixture
def content(search_index, home, section):  # noqa: F811
    """A small knowledge base, a document and an image, as the other admin browser tests have."""
    data = knowledge_base(home, section)
    data["home"] = home
    data["document"] = get_document_model().objects.create(
        title="退换货政策", file=ContentFile("七天无理由退换货。".encode(), name="退换货政策.txt")
    )
    data["image"] = ImageFactory(title="工单截图", collection=Collection.get_first_root_node())
    return data


def walk_editor(walk, article):
    """An article's editor: side panels, scheduling, a new table block, a save refused by validation."""
    edit = f"/admin/pages/{article.pk}/edit/"
    walk.visit(edit, "article editor")
    page = walk.page
    for panel in ("status", "checks", "comments"):
        page.click(f'[data-side-panel-toggle="{panel}"]')
        walk.check(f"article editor, {panel} panel")
        if panel == "status":
            page.click("text=设置计划")
            walk.check("article editor, scheduling dialog")
            page.keyboard.press("Escape")
    page.click(".w-minimap__toggle")
    walk.check("article editor, minimap")

    page.locator('[data-contentpath="body"] .c-sf-add-button').first.click()
    page.get_by_role("option", name="表格").click()
    page.wait_for_selector('select[name="table-header-choice"]')
    walk.check("article editor, table block")
    page.locator(".handsontable td").first.click(button="right")
    page.wait_for_selector(".htContextMenu td")
    menu = page.locator(".htContextMenu").first.inner_text()
    assert "在上方插入行" in menu and "删除列" in menu, menu  # Wagtail ships Handsontable's English only
    walk.check("article editor, table block's right-click menu")
    page.locator("#id_title").click()  # closes the menu; Handsontable keeps the keyboard while it is open
    page.wait_for_selector(".htContextMenu", state="hidden")

    page.fill("#id_title", "")
    with page.expect_navigation():
        page.click("button.action-save")
    assert page.locator(".messages .error, .messages [class*=error]").count(), "no validation message"
    walk.check("article editor, validation error")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
# A 3-minute walk through ~60 Wagtail admin screens and menus; it failed once in about six full runs
# for a reason the failure did not show. One rerun keeps CI honest about English text without letting a
# timing hiccup in Wagtail's menus block it; a real English string fails both runs.
@pytest.mark.flaky(reruns=1)
def test_trainer_and_supervisor_admin_is_chinese(browser, live_server, content, trainer, supervisor):  # noqa: F811
    article, phrasing = content["complaint"], content["greeting"]
    english = []

    trainer_walk = Walk(browser, live_server.url, trainer.username)
    trainer_walk.log_in()
    for path in (
        f"/admin/pages/{content['home'].pk}/",
        f"/admin/pages/{content['section'].pk}/",
        "/admin/pages/search/?q=投诉",
    ):
        trainer_walk.visit(path)
    walk_editor(trainer_walk, article)
    trainer_walk.submit_for_moderation(f"/admin/pages/{article.pk}/edit/", "article editor")
    trainer_walk.visit("/admin/snippets/content/phrasing/", "phrasing listing")
    trainer_walk.submit_for_moderation(
        f"/admin/snippets/content/phrasing/edit/{phrasing.pk}/", "phrasing editor"
    )
    trainer_walk.visit("/admin/", "dashboard, in moderation")
    for path in trainer_walk.reports():
        trainer_walk.visit(path)
    for path in (
        "/admin/documents/",
        "/admin/documents/multiple/add/",
        f"/admin/documents/edit/{content['document'].pk}/",
        "/admin/images/",
        "/admin/images/multiple/add/",
        f"/admin/images/{content['image'].pk}/",
    ):
        trainer_walk.visit(path)
    english += trainer_walk.close()

    supervisor_walk = Walk(browser, live_server.url, supervisor.username)
    supervisor_walk.log_in()
    page = supervisor_walk.page
    compare_paths = []
    for title in (article.title, phrasing.title):
        page.locator("#awaiting-review-section tr", has_text=title).locator(".w-dropdown__toggle").click()
        compare = page.locator("a:visible", has_text="与发布版本进行比较")
        compare_paths.append(compare.get_attribute("href"))
        page.keyboard.press("Escape")
        expect(compare).to_have_count(0)  # the menu is closed before the next row's opens
    for path in compare_paths:
        supervisor_walk.visit(path, "compare with the live version")
    supervisor_walk.visit(f"/admin/pages/{article.pk}/workflow_history/", "workflow history")
    supervisor_walk.visit(f"/admin/pages/{article.pk}/history/", "page history")

    # Approve the article with a comment and send the phrasing back, both through the dashboard's modal.
    for title, action in ((article.title, "带评论批准"), (phrasing.title, "请求修改")):
        supervisor_walk.visit("/admin/", "dashboard, awaiting review")
        row = page.locator("#awaiting-review-section tr", has_text=title)
        row.locator(".w-dropdown__toggle").click()
        row.locator("button", has_text=action).click()
        page.wait_for_selector(".modal-dialog textarea")
        supervisor_walk.check(f"{action} dialog")
        with page.expect_navigation():
            page.locator(".modal-dialog [type=submit]").click()
        supervisor_walk.check(f"{action}, done")

    supervisor_walk.visit("/admin/snippets/content/phrasing/", "phrasing listing")
    for path in supervisor_walk.reports():
        supervisor_walk.visit(path)
    for path in (
        "/admin/documents/",
        "/admin/documents/multiple/add/",
        f"/admin/documents/delete/{content['document'].pk}/",
        "/admin/images/",
        f"/admin/images/{content['image'].pk}/delete/",
    ):
        supervisor_walk.visit(path)
    english += supervisor_walk.close()

    assert not english, "English in the admin:\n" + "\n".join(english)


@pytest.mark.django_db
def test_phrasing_listing_and_exports_say_yes_or_no(client, trainer, section):
    publish(PhrasingFactory(title="开场问候", section=section))
    PhrasingFactory(title="内部草稿", section=section, live=False)
    client.force_login(trainer)
    listing = client.get("/admin/snippets/content/phrasing/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    cells = [cell.strip() for cell in re.findall(r"<td[^>]*>([^<]*)</td>", listing)]
    assert "是" in cells and "否" in cells
    assert not {"True", "False"} & set(cells)

    def export(export_format):
        response = client.get(
            "/admin/snippets/content/phrasing/", {"export": export_format}, HTTP_ACCEPT_LANGUAGE="zh-CN"
        )
        return b"".join(response.streaming_content) if response.streaming else response.content

    rows = list(csv.reader(io.StringIO(export("csv").decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(export("xlsx"))).active
    for table in (rows, [[cell.value for cell in row] for row in sheet.iter_rows()]):
        live = table[0].index("在用")
        assert {row[0]: row[live] for row in table[1:]} == {"内部草稿": "否", "开场问候": "是"}
