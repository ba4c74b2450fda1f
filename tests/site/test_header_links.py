"""The header's links on every page: 我的培训 for trainees, 培训看板 for their mentors (and trainers), the
bell for everyone, read in few queries."""

import pytest

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
