"""The site assembles what the apps register: the admin menu, the reports, home panels, the demo."""

import pytest
from wagtail import hooks
from wagtail.admin.menu import admin_menu, reports_menu


def menu_names(menu, request):
    return [item.name for item in menu.menu_items_for_request(request)]


@pytest.fixture
def admin_request(rf):
    def build(user):
        request = rf.get("/admin/")
        request.user = user
        return request

    return build


@pytest.mark.django_db
def test_knowledge_menu_groups_phrasings_and_synonyms(admin_request, trainer):
    request = admin_request(trainer)
    knowledge = next(item for item in admin_menu.menu_items_for_request(request) if item.name == "knowledge")
    assert str(knowledge.label) == "话术库"
    assert [str(item.label) for item in knowledge.menu.menu_items_for_request(request)] == [
        "标准话术",
        "同义词",
    ]


@pytest.mark.django_db
def test_reports_menu_shows_each_role_what_its_permissions_allow(admin_request, agent, trainer, supervisor):
    trainer_reports = menu_names(reports_menu, admin_request(trainer))
    supervisor_reports = menu_names(reports_menu, admin_request(supervisor))
    for name in ("overdue-review", "top-queries", "zero-results"):
        assert name in trainer_reports
    assert {"top-queries", "zero-results"} <= set(supervisor_reports)
    assert menu_names(reports_menu, admin_request(agent)) == []


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/reports/overdue-review/", "/admin/reports/top-queries/"])
def test_reports_refuse_agents(client, agent, url):
    client.force_login(agent)
    assert client.get(url).status_code in (302, 403)


@pytest.mark.django_db
def test_home_page_shows_the_panels_apps_register(client, agent, home):
    def panel(request):
        return f"<p id='test-panel'>{request.user.get_username()} 的面板</p>"

    client.force_login(agent)
    with hooks.register_temporarily("register_home_panel", panel):
        html = client.get(home.url).content.decode()
    assert "<p id='test-panel'>agent 的面板</p>" in html
