"""Fixtures for the follow-up tests: the demo 少货处理 with a callback rule on its refund outcome, and a
回访 procedure whose 不满意 outcome asks for a 重办. Users per role come from tests/conftest.py."""

import pytest
from django.contrib.auth.models import Group

from procedures.models import ProcedurePage, forget_cached_procedures
from tests.procedures.conftest import load_demo_procedure


def block(kind, **value):
    return {"type": kind, "value": value}


def rule(
    title,
    kind="callback",
    amount=3,
    unit="workdays",
    before_hour=None,
    assign_to="agent",
    group="",
    procedure=None,
    priority="normal",
):
    return {
        "title": title,
        "kind": kind,
        "amount": amount,
        "unit": unit,
        "before_hour": before_hour,
        "assign_to": assign_to,
        "group": group,
        "priority": priority,
        "procedure": procedure,
    }


@pytest.fixture
def aftersales_group(db):
    # get_or_create: the demo procedures' rules name 售后组, and loading one creates the group.
    return Group.objects.get_or_create(name="售后组")[0]


@pytest.fixture
def missing_item(db):
    return load_demo_procedure("30-missing-item.yaml")


@pytest.fixture
def callback_procedure(missing_item, aftersales_group):
    """回访: confirm identity, 问题是否已解决？, satisfaction; 不满意 or unresolved ask for a 重办 (售后组)."""
    redo = [
        rule("重办：客户不满意", kind="redo", amount=1, unit="workdays", assign_to="group", group="售后组")
    ]
    page = ProcedurePage(
        title="售后回访",
        slug="aftersales-callback",
        when_to_use="处理结果回访",
        outcomes="回访满意\n回访不满意\n问题未解决",
        variables=[
            block("variable", name="客户称呼", label="", type="text", choices=[], required=False),
            block(
                "variable",
                name="满意度",
                label="",
                type="choice",
                choices=["满意", "较满意", "不满意"],
                required=False,
            ),
        ],
        steps=[
            block(
                "instruction",
                key="verify",
                title="核对身份，说明来意",
                text="",
                phrasings=[],
                checklist=[],
                next="resolved",
            ),
            block(
                "question",
                key="resolved",
                title="问题是否已解决？",
                text="",
                phrasings=[],
                answers=[{"label": "已解决", "next": "rate"}, {"label": "未解决", "next": "unresolved"}],
            ),
            block(
                "input",
                key="rate",
                title="满意度",
                text="",
                phrasings=[],
                variables=["满意度"],
                next="by-rate",
            ),
            block(
                "rule",
                key="by-rate",
                title="按满意度",
                branches=[{"variable": "满意度", "op": "eq", "value": "不满意", "next": "unhappy"}],
                default="happy",
            ),
            block("outcome", key="happy", title="感谢客户", outcome="回访满意", text="", phrasings=[]),
            block(
                "outcome",
                key="unhappy",
                title="记录不满意",
                outcome="回访不满意",
                text="",
                phrasings=[],
                follow_ups=redo,
            ),
            block(
                "outcome",
                key="unresolved",
                title="问题未解决",
                outcome="问题未解决",
                text="",
                phrasings=[],
                follow_ups=redo,
            ),
        ],
    )
    missing_item.get_parent().add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


@pytest.fixture
def missing_item_with_callback(missing_item, callback_procedure):
    """The demo 少货处理, its refund outcome asking for a callback in 3 working days by the same agent."""
    page = missing_item
    steps = page.steps.raw_data
    for step in steps:
        if step["value"]["key"] == "refund":
            step["value"]["follow_ups"] = [rule("3 个工作日内回访退款结果", procedure=callback_procedure.pk)]
    page.steps = steps
    page.save_revision().publish()
    page.refresh_from_db()
    forget_cached_procedures()
    return page
