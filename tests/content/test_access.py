"""Login is required everywhere on the front end, and each role has the rights it needs."""

import pytest
from django.contrib.auth.models import Group
from wagtail.models import Page

from kb_site.content import roles
from tests.factories import ArticlePageFactory, publish


@pytest.fixture
def article(section):
    return publish(ArticlePageFactory(parent=section, title="少货处理规范", slug="missing-item"))


@pytest.mark.parametrize(
    "path", ["/", "/ecommerce/", "/ecommerce/missing-item/", "/search/?q=少货", "/no-such-page/"]
)
def test_anonymous_requests_end_at_login_and_come_back(client, article, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")

    login_page = client.get(response["Location"])
    assert login_page.status_code == 200
    assert "登录" in login_page.content.decode()


def test_login_returns_to_requested_page(client, article, agent):
    response = client.post(
        "/login/?next=/ecommerce/missing-item/",
        {"username": "agent", "password": "pw-callbook-123", "next": "/ecommerce/missing-item/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/ecommerce/missing-item/"
    assert client.get("/ecommerce/missing-item/").status_code == 200


def test_wrong_password_shows_a_clear_message(client, agent):
    response = client.post("/login/", {"username": "agent", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_static_files_and_admin_login_stay_reachable(client, db):
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/static/css/callbook.css").status_code == 200


def test_logout_is_a_post_and_ends_the_session(agent_client, home):
    response = agent_client.post("/logout/")
    assert response.status_code == 302
    assert agent_client.get("/").status_code == 302


def test_roles_exist_as_groups(db):
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_ROLES)


def test_agent_reads_but_has_no_admin(agent_client, article):
    assert agent_client.get(article.url).status_code == 200
    response = agent_client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_newhire_reads_but_has_no_admin(client, newhire, article):
    client.force_login(newhire)
    assert client.get(article.url).status_code == 200
    assert client.get("/admin/").status_code == 302


def test_trainer_edits_but_cannot_publish(trainer, section, article):
    perms = article.permissions_for_user(trainer)
    assert trainer.has_perm("wagtailadmin.access_admin")
    assert perms.can_edit()
    assert section.permissions_for_user(trainer).can_add_subpage()
    assert not perms.can_publish()
    assert trainer.has_perm("content.change_phrasing")
    assert not trainer.has_perm("content.publish_phrasing")
    assert not trainer.has_perm("content.delete_phrasing")


def test_supervisor_approves_and_publishes(supervisor, article):
    perms = article.permissions_for_user(supervisor)
    assert perms.can_publish()
    assert supervisor.has_perm("content.publish_phrasing")


def test_trainer_admin_pages_open(client, trainer, article):
    client.force_login(trainer)
    assert client.get("/admin/").status_code == 200
    assert client.get(f"/admin/pages/{article.pk}/edit/").status_code == 200
    assert client.get("/admin/snippets/content/phrasing/").status_code == 200


def test_workflow_covers_pages_and_phrasings(article):
    from kb_site.content.models import Phrasing

    workflow = article.get_workflow()
    assert workflow is not None and workflow.name == "内容审核"
    task = workflow.tasks.get().specific
    assert list(task.groups.values_list("name", flat=True)) == [roles.SUPERVISOR]
    assert Phrasing().get_workflow() == workflow
    assert Page.get_first_root_node().get_workflow() == workflow
