"""A 主管 approves a change from the editor in one click (the footer's primary button, not an item of
the "…" menu) and is told that it was approved and published; approving from the dashboard's
等待你的审查 panel says so too."""

import re

import pytest
from django.urls import reverse
from wagtail.models import WorkflowState
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from kb_site.content.models import ArticlePage, Phrasing
from tests.browser import browser  # noqa: F401
from tests.factories import PASSWORD, ArticlePageFactory, PhrasingFactory, phrasing_form, publish

PHRASINGS = "wagtailsnippets_content_phrasing"


def article_form(**changes):
    data = {
        "title": "少货处理规范",
        "slug": "missing-item",
        "summary": "摘要",
        "body": streamfield([("heading", "核实")]),
        "tags": "",
        "related_pages": inline_formset([]),
        "maintainer": "",
        "last_reviewed": "2026-11-01",
        "review_interval_days": "180",
    }
    data.update(changes)
    return nested_form_data(data)


@pytest.fixture
def article_in_review(client, section, trainer):
    """A published article whose new title a trainer has submitted to the 内容审核 workflow."""
    article = publish(ArticlePageFactory(parent=section, title="少货处理规范", slug="missing-item"))
    client.force_login(trainer)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[article.pk]),
        article_form(title="少货处理规范（修订）", **{"action-submit": "1"}),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    return ArticlePage.objects.get(pk=article.pk)


@pytest.fixture
def phrasing_in_review(client, section, trainer):
    phrasing = publish(PhrasingFactory(title="开场问候", section=section, text="您好，很高兴为您服务。"))
    client.force_login(trainer)
    response = client.post(
        reverse(f"{PHRASINGS}:edit", args=[phrasing.pk]),
        phrasing_form(phrasing, text="您好，我是{工号}号客服。", **{"action-submit": "1"}),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()
    return Phrasing.objects.get(pk=phrasing.pk)


def primary_action(html):
    """The footer's primary button: the one before the "…" toggle of the action menu's dropdown."""
    footer = html[html.index("<footer") :]
    return re.search(r"<button[^>]*>.*?</button>", footer, re.S).group(0)


def success_messages(html):
    """The text of each success message the admin page shows."""
    items = re.findall(r'<li class="success[^"]*"[^>]*>(.*?)</li>', html, re.S)
    texts = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip() for item in items]
    return [text for text in texts if text]  # the empty one is the template the admin's script fills


# In the test client


def test_approve_is_the_primary_action_of_the_page_editor(client, article_in_review, supervisor):
    client.force_login(supervisor)
    html = client.get(reverse("wagtailadmin_pages:edit", args=[article_in_review.pk])).content.decode()
    button = primary_action(html)
    assert 'data-workflow-action-name="approve"' in button
    assert "data-workflow-action-modal-url" not in button  # one click, no comment dialog
    assert "批准并发布" in button


def test_approving_from_the_editor_publishes_and_says_so(client, article_in_review, supervisor):
    client.force_login(supervisor)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[article_in_review.pk]),
        article_form(
            title="少货处理规范（修订）",
            **{"action-workflow-action": "true", "workflow-action-name": "approve"},
        ),
        follow=True,
    )
    live = ArticlePage.objects.get(pk=article_in_review.pk)
    assert live.title == "少货处理规范（修订）" and not live.has_unpublished_changes
    assert live.current_workflow_state is None
    assert WorkflowState.objects.get().status == WorkflowState.STATUS_APPROVED
    # Wagtail's "page updated" is replaced, not repeated.
    assert success_messages(response.content.decode()) == ["已批准并发布“少货处理规范（修订）”。"]


def test_a_trainer_still_has_no_approve_button(client, article_in_review, trainer):
    client.force_login(trainer)
    html = client.get(reverse("wagtailadmin_pages:edit", args=[article_in_review.pk])).content.decode()
    assert 'data-workflow-action-name="approve"' not in html


def test_requesting_changes_says_so(client, article_in_review, supervisor):
    client.force_login(supervisor)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[article_in_review.pk]),
        article_form(
            title="少货处理规范（修订）",
            **{
                "action-workflow-action": "true",
                "workflow-action-name": "reject",
                "workflow-action-extra-data": '{"comment": "请补充核实步骤"}',
            },
        ),
        follow=True,
    )
    assert ArticlePage.objects.get(pk=article_in_review.pk).title == "少货处理规范"
    assert success_messages(response.content.decode()) == ["已退回“少货处理规范（修订）”，要求修改。"]


def test_saving_a_page_in_review_keeps_wagtails_message(client, article_in_review, supervisor):
    client.force_login(supervisor)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[article_in_review.pk]),
        article_form(title="少货处理规范（修订）"),
        follow=True,
    )
    shown = success_messages(response.content.decode())
    assert len(shown) == 1 and "已批准" not in shown[0]


def test_approve_is_the_primary_action_of_the_phrasing_editor(client, phrasing_in_review, supervisor):
    client.force_login(supervisor)
    html = client.get(reverse(f"{PHRASINGS}:edit", args=[phrasing_in_review.pk])).content.decode()
    button = primary_action(html)
    assert 'data-workflow-action-name="approve"' in button and "批准并发布" in button


def test_approving_a_phrasing_from_the_editor_publishes_and_says_so(client, phrasing_in_review, supervisor):
    client.force_login(supervisor)
    latest = phrasing_in_review.get_latest_revision_as_object()
    response = client.post(
        reverse(f"{PHRASINGS}:edit", args=[phrasing_in_review.pk]),
        phrasing_form(latest, **{"action-workflow-action": "true", "workflow-action-name": "approve"}),
        follow=True,
    )
    phrasing = Phrasing.objects.get(pk=phrasing_in_review.pk)
    assert phrasing.text == "您好，我是{工号}号客服。" and not phrasing.has_unpublished_changes
    assert success_messages(response.content.decode()) == ["已批准并发布“开场问候”。"]


# From the dashboard's 等待你的审查 panel


def dashboard_action_url(html, action, modal=False):
    """The URL a button of the panel's "…" menu posts to (approve: the one-click one)."""
    for url, attributes in re.findall(r'<button data-workflow-action-url="([^"]+)"([^>]*)>', html):
        if f"/{action}/" in url and ("data-launch-modal" in attributes) == modal:
            return url
    raise AssertionError(f"no {action} button")


def test_approving_from_the_dashboard_publishes_and_says_so(client, article_in_review, supervisor):
    client.force_login(supervisor)
    url = dashboard_action_url(client.get("/admin/").content.decode(), "approve")
    response = client.post(url, {"next": "/admin/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/admin/"
    live = ArticlePage.objects.get(pk=article_in_review.pk)
    assert live.title == "少货处理规范（修订）" and not live.has_unpublished_changes
    assert success_messages(response.content.decode()) == ["已批准并发布“少货处理规范（修订）”。"]


def test_approving_a_phrasing_from_the_dashboard_says_so(client, phrasing_in_review, supervisor):
    client.force_login(supervisor)
    url = dashboard_action_url(client.get("/admin/").content.decode(), "approve")
    response = client.post(url, {"next": "/admin/"}, follow=True)
    assert Phrasing.objects.get(pk=phrasing_in_review.pk).text == "您好，我是{工号}号客服。"
    assert success_messages(response.content.decode()) == ["已批准并发布“开场问候”。"]


def test_the_dashboards_comment_dialogs_still_open(client, article_in_review, supervisor):
    client.force_login(supervisor)
    url = dashboard_action_url(client.get("/admin/").content.decode(), "reject", modal=True)
    response = client.get(url, headers={"x-requested-with": "XMLHttpRequest"})
    assert response.status_code == 200 and response.json()["step"] == "action"


def test_a_second_approval_says_nothing_more(client, article_in_review, supervisor):
    client.force_login(supervisor)
    url = dashboard_action_url(client.get("/admin/").content.decode(), "approve")
    client.post(url, {"next": "/admin/"}, follow=True)
    response = client.post(url, {"next": "/admin/"}, follow=True)
    assert success_messages(response.content.decode()) == []


def test_a_trainer_cannot_approve_through_the_dashboard_url(client, article_in_review, trainer, supervisor):
    client.force_login(supervisor)
    url = dashboard_action_url(client.get("/admin/").content.decode(), "approve")
    client.force_login(trainer)
    response = client.post(url, {"next": "/admin/"}, follow=True)
    assert ArticlePage.objects.get(pk=article_in_review.pk).title == "少货处理规范"
    assert success_messages(response.content.decode()) == []


def test_an_unknown_task_is_a_404(client, supervisor):
    client.force_login(supervisor)
    assert client.post("/admin/approvals/1/approve/999999/").status_code == 404


# In Chromium


def supervisor_page(browser, live_server, supervisor):  # noqa: F811
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", supervisor.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.press("#id_password", "Enter")
    return page


def shown_message(page):
    message = page.locator(".messages .success").first
    message.wait_for()
    return message.inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_supervisor_approves_in_one_click_in_the_browser(
    browser,  # noqa: F811
    live_server,
    article_in_review,
    supervisor,
):
    page = supervisor_page(browser, live_server, supervisor)
    page.goto(f"{live_server.url}/admin/pages/{article_in_review.pk}/edit/")
    approve = page.locator("footer button[data-workflow-action-name=approve]").first
    assert approve.is_visible(), "批准 is hidden in the … menu"
    assert "批准并发布" in approve.inner_text()
    with page.expect_navigation():
        approve.click()

    assert "已批准并发布“少货处理规范（修订）”。" in shown_message(page)
    live = ArticlePage.objects.get(pk=article_in_review.pk)
    assert live.title == "少货处理规范（修订）" and not live.has_unpublished_changes
    page.context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_approving_from_the_dashboard_shows_a_message_in_the_browser(
    browser,  # noqa: F811
    live_server,
    article_in_review,
    supervisor,
):
    page = supervisor_page(browser, live_server, supervisor)
    row = page.locator("tr", has_text="少货处理规范")
    row.locator(".w-dropdown__toggle").click()
    with page.expect_navigation():
        row.locator("button[data-workflow-action-url]:not([data-launch-modal])", has_text="批准").click()

    assert "已批准并发布“少货处理规范（修订）”。" in shown_message(page)
    assert ArticlePage.objects.get(pk=article_in_review.pk).title == "少货处理规范（修订）"
    page.context.close()
