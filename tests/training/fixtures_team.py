"""Fixtures for the trainers' and mentors' side (admin, team pages, reports), imported by those test
modules: a small published procedure, a path of offline tasks and one with a practice item, and a
mentor with a trainee on it. Users come from tests/conftest.py (one per role)."""

import pytest

from kb_site.content import roles
from procedures.models import ProcedurePage
from tests.factories import make_user
from training import progress
from training.models import LearningPath


def block(kind, **value):
    return {"type": kind, "value": value}


@pytest.fixture
def procedure(section):
    """A published two-step procedure: ask, then one of two endings."""
    page = ProcedurePage(
        title="少货处理",
        slug="missing-goods",
        when_to_use="客户收到的商品比订单少",
        steps=[
            block(
                "question",
                key="ask",
                title="客户同意补发吗？",
                text="",
                phrasings=[],
                answers=[{"label": "同意", "next": "resend"}, {"label": "不同意", "next": "refund"}],
            ),
            block("outcome", key="resend", title="补发", outcome="已解决", text="", phrasings=[]),
            block("outcome", key="refund", title="退款", outcome="已解决", text="", phrasings=[]),
        ],
    )
    section.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def offline(item_id, title, due_day):
    return {
        "type": "offline",
        "id": item_id,
        "value": {"title": title, "description": "", "due_day": due_day},
    }


def stage(stage_id, title, gate, items):
    return {"type": "stage", "id": stage_id, "value": {"title": title, "gate": gate, "items": items}}


def make_path(title="客服上岗路径", stages=None):
    return LearningPath.objects.create(
        title=title,
        stages=stages
        or [
            stage(
                "s1", "业务培训", "all_done", [offline("i1", "熟悉工单系统", 1), offline("i2", "旁听来电", 2)]
            ),
            stage("s2", "跟岗", "mentor", [offline("i3", "跟岗 4 小时", 3)]),
        ],
    )


@pytest.fixture
def path(db):
    return make_path()


@pytest.fixture
def practice_path(procedure):
    return make_path(
        title="练习路径",
        stages=[
            stage(
                "p1",
                "试接",
                "all_done",
                [
                    {
                        "type": "practice",
                        "id": "pr1",
                        "value": {"procedure": procedure.pk, "passes": 2, "due_day": 5},
                    }
                ],
            )
        ],
    )


@pytest.fixture
def mentor(db):
    """An agent who mentors: no training permission, only the assignments that name them."""
    return make_user(roles.AGENT, username="mentor", first_name="王带教")


@pytest.fixture
def assignment(newhire, path, mentor):
    return progress.assign(newhire, path, mentor=mentor)


@pytest.fixture
def other_assignment(other_agent, path, trainer):
    """Someone else's trainee (mentored by the trainer, not by ``mentor``)."""
    return progress.assign(other_agent, path, mentor=trainer)
