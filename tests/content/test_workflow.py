"""A trainer's change goes live only after a 主管 approves it in the moderation workflow."""

import pytest
from django.urls import reverse
from wagtail.models import WorkflowState

from kb_site.content.models import ArticlePage, Phrasing
from tests.factories import ArticlePageFactory, PhrasingFactory, phrasing_form, publish

NS = "wagtailsnippets_content_phrasing"


@pytest.fixture
def phrasing(section):
    return publish(PhrasingFactory(title="开场问候", section=section, text="您好，很高兴为您服务。"))


def test_trainer_phrasing_edit_waits_for_supervisor_approval(client, trainer, supervisor, phrasing):
    client.force_login(trainer)
    new_text = "您好{客户称呼}，我是{工号}号客服，很高兴为您服务。"
    response = client.post(
        reverse(f"{NS}:edit", args=[phrasing.pk]),
        phrasing_form(phrasing, text=new_text, **{"action-submit": "1"}),
    )
    assert response.status_code == 302, response.content.decode()[:500]

    phrasing.refresh_from_db()
    assert phrasing.text == "您好，很高兴为您服务。"  # live content untouched
    assert phrasing.has_unpublished_changes
    state = WorkflowState.objects.get(status=WorkflowState.STATUS_IN_PROGRESS)
    assert state.content_object == phrasing

    # A trainer cannot approve their own change.
    task_state = state.current_task_state
    approve_url = reverse(f"{NS}:workflow_action", args=[phrasing.pk, "approve", task_state.pk])
    assert client.post(approve_url, {}).status_code in (302, 403)
    phrasing.refresh_from_db()
    assert phrasing.text == "您好，很高兴为您服务。"

    client.force_login(supervisor)
    response = client.post(approve_url, {})
    assert response.status_code in (200, 302)
    phrasing = Phrasing.objects.get(pk=phrasing.pk)
    assert phrasing.text == new_text
    assert not phrasing.has_unpublished_changes
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_APPROVED


def test_trainer_cannot_publish_phrasing_directly(client, trainer, phrasing):
    client.force_login(trainer)
    client.post(
        reverse(f"{NS}:edit", args=[phrasing.pk]),
        phrasing_form(phrasing, text="改了", **{"action-publish": "1"}),
    )
    phrasing.refresh_from_db()
    assert phrasing.text == "您好，很高兴为您服务。"


def test_trainer_page_edit_goes_through_workflow(client, trainer, supervisor, section):
    article = publish(ArticlePageFactory(parent=section, title="少货处理规范", slug="missing-item"))
    client.force_login(trainer)
    edit_url = reverse("wagtailadmin_pages:edit", args=[article.pk])
    form_page = client.get(edit_url)
    assert form_page.status_code == 200

    from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

    data = nested_form_data(
        {
            "title": "少货处理规范（修订）",
            "slug": "missing-item",
            "summary": "新摘要",
            "body": streamfield([("heading", "核实")]),
            "tags": "",
            "related_pages": inline_formset([]),
            "maintainer": "",
            "last_reviewed": "2026-11-01",
            "review_interval_days": "180",
            "action-submit": "1",
        }
    )
    response = client.post(edit_url, data)
    assert response.status_code == 302, response.content.decode()[:2000]

    live = ArticlePage.objects.get(pk=article.pk)
    assert live.title == "少货处理规范"
    assert live.has_unpublished_changes
    state = live.current_workflow_state
    assert state is not None and state.status == WorkflowState.STATUS_IN_PROGRESS

    client.force_login(supervisor)
    task_state = state.current_task_state
    response = client.post(
        reverse("wagtailadmin_pages:workflow_action", args=[article.pk, "approve", task_state.pk]), {}
    )
    assert response.status_code in (200, 302)
    live = ArticlePage.objects.get(pk=article.pk)
    assert live.title == "少货处理规范（修订）"
    assert live.summary == "新摘要"
