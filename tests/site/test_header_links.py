"""The header's links on every page: 我的培训 for trainees, 培训看板 for their mentors (and trainers), the
bell for everyone, read in few queries."""

import pytest
from django.contrib.auth.models import Group, Permission

from kb_site.content import roles

# ruff: noqa: F811 (the fixtures are imported from fixtures_team and named as arguments)
from tests.training.fixtures_team import assignment, mentor, path, procedure  # noqa: F401

pytestmark = pytest.mark.django_db


def header(client, user):
    client.force_login(user)
    html = client.get("/").content.decode()
    return html[
        html.index('<nav class="user-menu"') : html.index("</nav>", html.index('<nav class="user-menu"'))
    ]


def test_trainee_mentor_and_agent_each_see_their_training_links(client, home, assignment, mentor, agent):
    trainee = header(client, assignment.user)
    assert "我的培训" in trainee and "培训看板" not in trainee
    mentoring = header(client, mentor)
    assert "培训看板" in mentoring and "我的培训" not in mentoring
    neither = header(client, agent)
    assert "培训看板" not in neither and "我的培训" not in neither and 'class="header-bell"' in neither


def test_the_menu_follows_a_users_groups_permissions_and_superuser_flag(client, home, agent, trainer):
    """What the permissions show is kept between pages, and changes with them (issue 14)."""
    menu = header(client, agent)
    assert (
        "内容反馈" not in menu
        and "内容健康" not in menu
        and "培训看板" not in menu
        and "管理后台" not in menu
    )
    assert "wagtail-userbar" not in client.get("/").content.decode()
    trainers = Group.objects.get(name=roles.TRAINER)
    agent.groups.add(trainers)
    menu = header(client, agent)
    assert "内容反馈" in menu and "内容健康" in menu and "培训看板" in menu and "管理后台" in menu
    assert "wagtail-userbar" in client.get("/").content.decode()
    agent.groups.remove(trainers)
    assert "内容反馈" not in header(client, agent)
    handle = Permission.objects.get(codename="handle_feedback")
    agent.user_permissions.add(handle)
    assert "内容反馈" in header(client, agent)
    agent.user_permissions.remove(handle)
    assert "内容反馈" not in header(client, agent)
    agent.is_superuser = True
    agent.save()
    assert "培训看板" in header(client, agent)
    # a group losing a permission: its members' menus lose the link
    assert "内容反馈" in header(client, trainer)
    trainers.permissions.remove(handle)
    menu = header(client, trainer)
    assert "内容反馈" not in menu and "内容健康" not in menu
