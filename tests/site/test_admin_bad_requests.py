"""Tampered requests to Wagtail's own admin views answer 400 (or 404) with a message, never 500.

bench/hostile.py found these in Wagtail 8.0.1's views; the project's own views validate through forms.
"""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, home):
    client.force_login(get_user_model().objects.create_superuser("root", password="x"))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/documents/chooser/chosen/abc/",  # a chooser's "chosen" view given a non-numeric id
        "/admin/images/chooser/chosen/abc/",
        "/admin/images/chooser/chosen-multiple/?id=abc",
        "/admin/workflows/edit/1/?p=1e1000000",  # ValueError
    ],
)
def test_tampered_admin_gets_are_a_400_with_a_message(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 400
    assert "请求无效" in response.content.decode()


def test_a_chooser_create_posted_without_its_form_is_a_400(admin_client):
    response = admin_client.post("/admin/snippets/choose/content/phrasing/create/", {"title": "x"})
    assert response.status_code == 400


def test_a_missing_revision_or_page_number_is_not_a_500(admin_client, section):
    assert admin_client.get(f"/admin/pages/{section.pk}/revisions/0/revert/").status_code in (400, 404)
    assert admin_client.get("/admin/workflows/edit/1/?p=-1").status_code == 404


def test_the_front_end_is_left_to_its_own_forms(client, agent):
    """Only the admin is covered: front-end views validate their input (a bad id is a 404 by its URL)."""
    client.force_login(agent)
    assert client.get("/procedures/runs/not-a-uuid/").status_code == 404


def test_a_workflow_posted_with_tampered_task_ids_is_a_400(admin_client):
    from wagtail.models import Workflow

    workflow = Workflow.objects.first()
    fields = {
        "name": "x",
        "workflow_tasks-TOTAL_FORMS": "1",
        "workflow_tasks-INITIAL_FORMS": "0",
        "workflow_tasks-0-task": "x",
        "workflow_tasks-0-id": "x",
        "pages-TOTAL_FORMS": "0",
        "pages-INITIAL_FORMS": "0",
    }
    response = admin_client.post(f"/admin/workflows/edit/{workflow.pk}/", fields)
    assert response.status_code == 400
    workflow.refresh_from_db()
    assert workflow.name != "x"
