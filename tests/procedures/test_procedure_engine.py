"""The run engine without Django or HTTP."""

import datetime

import pytest

from procedures import engine
from procedures.engine import InputError, MoveRejected, Procedure, Variable

TODAY = datetime.date(2026, 11, 22)


def make_procedure():
    steps = [
        {
            "key": "greet",
            "kind": "instruction",
            "title": "问候",
            "checklist": ["已核对订单号"],
            "next": "ask",
        },
        {
            "key": "ask",
            "kind": "question",
            "title": "包装完好吗？",
            "answers": [{"label": "完好", "next": "collect"}, {"label": "破损", "next": "damaged"}],
        },
        {
            "key": "collect",
            "kind": "input",
            "title": "记录",
            "variables": ["金额", "寄出日期", "类型"],
            "next": "rule",
        },
        {
            "key": "rule",
            "kind": "rule",
            "title": "判断",
            "branches": [
                {"variable": "类型", "op": "eq", "value": "质量问题", "next": "quality"},
                {"variable": "寄出日期", "op": "days_since_gt", "value": "10", "next": "late"},
                {"variable": "金额", "op": "lte", "value": "50", "next": "refund"},
            ],
            "default": "reship",
        },
        {"key": "quality", "kind": "outcome", "title": "质量", "outcome": "已转接"},
        {"key": "late", "kind": "outcome", "title": "超时", "outcome": "已升级"},
        {"key": "refund", "kind": "outcome", "title": "退款", "outcome": "已解决"},
        {"key": "reship", "kind": "outcome", "title": "补发", "outcome": "已解决"},
        {"key": "damaged", "kind": "outcome", "title": "破损", "outcome": "已转接"},
    ]
    variables = [
        Variable("金额", type="number", required=True),
        Variable("寄出日期", type="date"),
        Variable("类型", type="choice", choices=["质量问题", "少货"]),
    ]
    return Procedure(steps, variables)


def test_clean_value_by_type():
    number = Variable("n", type="number")
    assert engine.clean_value(number, "1,200") == "1200"
    assert engine.clean_value(number, " 12.50 ") == "12.50"
    with pytest.raises(ValueError):
        engine.clean_value(number, "十二")
    with pytest.raises(ValueError):
        engine.clean_value(number, "NaN")
    date = Variable("d", type="date")
    assert engine.clean_value(date, "2026-03-01") == "2026-03-01"
    with pytest.raises(ValueError):
        engine.clean_value(date, "3月1日")
    choice = Variable("c", type="choice", choices=["甲", "乙"])
    assert engine.clean_value(choice, "乙") == "乙"
    with pytest.raises(ValueError):
        engine.clean_value(choice, "丙")
    with pytest.raises(ValueError):
        engine.clean_value(Variable("r", required=True), "  ")
    assert engine.clean_value(Variable("o"), "") == ""


def act(procedure, key, action, values=None, **kwargs):
    return engine.act(procedure, key, action, values=values or {}, today=TODAY, **kwargs)


def test_checklist_must_be_ticked():
    procedure = make_procedure()
    with pytest.raises(InputError) as error:
        act(procedure, "greet", "next")
    assert "已核对订单号" in error.value.errors["checklist"]
    moves, landing, _ = act(procedure, "greet", "next", checked=(0,))
    assert [m.action for m in moves] == ["next"] and landing == "ask"


def test_answer_must_belong_to_the_step():
    procedure = make_procedure()
    for bad in ("2", "-1", "x", None):
        with pytest.raises(MoveRejected) as error:
            act(procedure, "ask", "answer", answer=bad)
        assert error.value.code == "invalid_answer"
    with pytest.raises(MoveRejected):
        act(procedure, "greet", "answer", answer="0")
    with pytest.raises(MoveRejected):
        act(procedure, "ask", "next")
    with pytest.raises(MoveRejected):
        act(procedure, "nowhere", "next")


def test_answer_leading_to_an_outcome_ends_the_run():
    moves, landing, _ = act(make_procedure(), "ask", "answer", answer="1")
    assert landing is None
    assert [(m.key, m.action) for m in moves] == [("ask", "answer"), ("damaged", "outcome")]
    assert moves[0].answer == "破损" and moves[-1].outcome == "已转接"


@pytest.mark.parametrize(
    "inputs, expected",
    [
        ({"金额": "30", "寄出日期": "", "类型": ""}, "refund"),
        ({"金额": "80", "寄出日期": "", "类型": ""}, "reship"),
        ({"金额": "30", "寄出日期": "2026-11-01", "类型": ""}, "late"),
        ({"金额": "30", "寄出日期": "2026-11-12", "类型": ""}, "refund"),  # exactly 10 days: not over
        ({"金额": "30", "寄出日期": "2026-11-01", "类型": "质量问题"}, "quality"),  # first match wins
    ],
)
def test_input_then_rule_branches(inputs, expected):
    moves, landing, values = act(make_procedure(), "collect", "next", inputs=inputs)
    assert landing is None
    assert [m.action for m in moves] == ["input", "rule", "outcome"]
    assert moves[1].next_key == expected and moves[2].key == expected
    assert values["金额"] == inputs["金额"]


def test_invalid_inputs_list_every_problem():
    with pytest.raises(InputError) as error:
        act(make_procedure(), "collect", "next", inputs={"金额": "", "寄出日期": "昨天", "类型": "别的"})
    assert set(error.value.errors) == {"金额", "寄出日期", "类型"}


def test_end_actions_finish_from_any_step():
    moves, landing, _ = act(make_procedure(), "ask", "escalate")
    assert landing is None and moves[0].outcome == "已升级" and moves[0].key == "ask"


def test_active_path_and_back_target():
    procedure = make_procedure()
    events = [
        {"action": "next", "step_key": "greet"},
        {"action": "answer", "step_key": "ask"},
        {"action": "back", "step_key": "collect", "next_key": "ask"},
        {"action": "answer", "step_key": "ask"},
    ]
    path = engine.active_path(events)
    assert [e["step_key"] for e in path] == ["greet", "ask"]
    assert engine.back_target(procedure, ["greet", "ask", "rule"]) == "ask"
    assert engine.back_target(procedure, ["rule"]) is None
    assert engine.back_target(procedure, []) is None


def test_call_summary_text():
    text = engine.call_summary(
        title="少货处理",
        ref="CALL-1",
        variables=[("客户称呼", "王女士"), ("订单号", "")],
        path=[("问候", ""), ("包装完好吗？", "完好")],
        outcome="已解决",
        seconds=75,
        notes=["客户很着急"],
    )
    assert text.splitlines() == [
        "【流程】少货处理",
        "【单号】CALL-1",
        "【客户称呼】王女士",
        "【经过】",
        "1. 问候",
        "2. 包装完好吗？ → 完好",
        "【结果】已解决（用时 1分15秒）",
        "【备注】客户很着急",
    ]


def test_rule_steps_that_loop_are_refused_with_a_message():
    """Validation keeps loops out of published procedures; the engine still refuses one it meets."""
    procedure = Procedure(
        [
            {"key": "a", "kind": "rule", "title": "A", "branches": [], "default": "b"},
            {"key": "b", "kind": "rule", "title": "B", "branches": [], "default": "a"},
        ]
    )
    with pytest.raises(MoveRejected) as raised:
        engine.follow(procedure, "a", {}, TODAY)
    assert raised.value.code == "loop" and "循环" in str(raised.value.message)
