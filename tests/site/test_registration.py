"""The site assembles what the apps register: the admin menu, the reports, home panels, the demo."""

import json
import re

import pytest
from django.utils.html import format_html
from wagtail import hooks


def sidebar_labels(client, user):
    """The admin sidebar's menu labels, in order, as the user's browser receives them."""
    client.force_login(user)
    html = client.get("/admin/").content.decode()
    return [json.loads(f'"{label}"') for label in re.findall(r'"label": "((?:[^"\\]|\\.)*)"', html)]


@pytest.mark.django_db
def test_knowledge_menu_groups_phrasings_and_synonyms(client, trainer):
    labels = sidebar_labels(client, trainer)
    start = labels.index("话术库")
    assert labels[start + 1 : start + 3] == ["标准话术", "同义词"]


@pytest.mark.django_db
def test_reports_menu_shows_each_role_what_its_permissions_allow(client, trainer, supervisor):
    trainer_labels = sidebar_labels(client, trainer)
    for label in ("待复核内容", "流程统计", "流程中断位置", "流程常见路径", "热门搜索", "无结果搜索"):
        assert label in trainer_labels
    assert "流程运行记录" not in trainer_labels  # runs name agents: supervisors only
    supervisor_labels = sidebar_labels(client, supervisor)
    for label in ("流程运行记录", "坐席流程统计", "流程统计", "热门搜索", "无结果搜索"):
        assert label in supervisor_labels


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/admin/reports/overdue-review/", "/admin/reports/top-queries/", "/admin/reports/zero-results/"],
)
def test_reports_refuse_agents(client, agent, url):
    client.force_login(agent)
    assert client.get(url).status_code in (302, 403)


@pytest.mark.django_db
def test_home_page_shows_the_panels_apps_register(client, agent, home):
    """A panel is HTML the app marked safe (format_html, render_to_string); plain text is escaped."""

    def panel(request):
        return format_html("<p id='test-panel'>{} 的面板</p>", request.user.get_username())

    def careless_panel(request):
        return "<script>alert(1)</script>"

    client.force_login(agent)
    with (
        hooks.register_temporarily("register_home_panel", panel),
        hooks.register_temporarily("register_home_panel", careless_panel),
    ):
        html = client.get(home.url).content.decode()
    assert "<p id='test-panel'>agent 的面板</p>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
