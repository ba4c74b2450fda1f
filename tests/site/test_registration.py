"""The site assembles what the apps register: the admin menu, the reports, home panels, the demo."""

import io
import json
import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.utils.html import format_html
from wagtail import hooks

from tests.factories import make_user


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
    for label in ("无人点击的搜索", "点击学习关联"):
        assert label in trainer_labels
    assert (
        "流程运行记录" not in trainer_labels and "坐席流程统计" not in trainer_labels
    )  # per agent: supervisors
    supervisor_labels = sidebar_labels(client, supervisor)
    for label in ("流程运行记录", "坐席流程统计", "流程统计", "热门搜索", "无结果搜索"):
        assert label in supervisor_labels


REPORT_URLS = [
    "/admin/reports/overdue-review/",
    "/admin/reports/top-queries/",
    "/admin/reports/zero-results/",
    "/admin/reports/unclicked-queries/",
    "/admin/reports/learned-links/",
    "/admin/reports/procedures/runs/",
    "/admin/reports/procedures/stats/",
    "/admin/reports/procedures/agents/",
    "/admin/reports/procedures/abandonment/",
    "/admin/reports/procedures/paths/",
    "/admin/reports/feedback/open/",
]


@pytest.fixture
def admin_without_reports(db):
    """Someone who may enter the admin and nothing more: each report's own permission check must stop them."""
    user = make_user("坐席", "clerk")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return user


@pytest.mark.django_db
@pytest.mark.parametrize("url", REPORT_URLS)
def test_reports_check_their_own_permission(client, admin_without_reports, url):
    client.force_login(admin_without_reports)
    assert client.get("/admin/").status_code == 200  # the admin itself is open to them
    for response in (client.get(url), client.get(url, {"export": "csv"})):
        assert response.status_code in (302, 403)
        assert "login" not in response.get("Location", "")  # refused by the report, not the admin gate


@pytest.mark.django_db
def test_admin_without_reports_sees_no_report_menu(client, admin_without_reports):
    labels = sidebar_labels(client, admin_without_reports)
    assert not {"待复核内容", "流程运行记录", "流程统计", "热门搜索", "无结果搜索", "点击学习关联"} & set(
        labels
    )


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


@pytest.mark.django_db
def test_every_page_links_to_my_runs_and_has_a_local_icon(client, agent, home):
    client.force_login(agent)
    html = client.get(home.url).content.decode()
    assert '<a href="/procedures/runs/">我的流程记录</a>' in html
    assert '<link rel="icon" href="/static/favicon.svg"' in html
    assert finders.find("favicon.svg")  # served by the site, never fetched from elsewhere


def test_demo_logins_print_the_address_make_run_serves():
    out = io.StringIO()
    call_command("demo_logins", "--url", "http://127.0.0.1:8100/", stdout=out)
    assert "http://127.0.0.1:8100/  (admin: http://127.0.0.1:8100/admin/)" in out.getvalue()
    assert "agent" in out.getvalue() and "callbook-agent" in out.getvalue()
