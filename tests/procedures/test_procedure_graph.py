"""Graph validation of procedures: plain unit tests, no database."""

from procedures import graph


def step(key, kind, **fields):
    return {"key": key, "kind": kind, "title": key, **fields}


def valid_steps():
    return [
        step("greet", "instruction", next="ask"),
        step(
            "ask", "question", answers=[{"label": "是", "next": "collect"}, {"label": "否", "next": "done"}]
        ),
        step("collect", "input", variables=["金额"], next="by-amount"),
        step(
            "by-amount",
            "rule",
            branches=[{"variable": "金额", "op": "lte", "value": "50", "next": "done"}],
            default="escalate",
        ),
        step("done", "outcome", outcome="已解决"),
        step("escalate", "outcome", outcome="已升级"),
    ]


def messages(errors):
    return [(e.key, e.field, e.message) for e in errors]


def test_valid_procedure_has_no_errors():
    assert graph.validate(valid_steps(), {"金额": "number"}) == []


def test_empty_procedure():
    errors = graph.validate([])
    assert len(errors) == 1 and errors[0].index is None


def test_duplicate_and_malformed_keys():
    steps = valid_steps()
    steps[2]["key"] = "greet"
    steps.append(step("坏 key", "outcome", outcome="已解决"))
    errors = graph.validate(steps)
    assert (2, "key") in [(e.index, e.field) for e in errors]
    assert any(e.index == 6 and e.field == "key" for e in errors)


def test_missing_target_is_reported_on_the_arrow():
    steps = valid_steps()
    steps[1]["answers"][1]["next"] = "nowhere"
    errors = graph.validate(steps)
    assert [(e.index, e.field) for e in errors] == [(1, "answers")]
    assert "nowhere" in errors[0].message


def test_empty_target_and_question_without_answers():
    steps = valid_steps()
    steps[0]["next"] = ""
    steps[1]["answers"] = []
    fields = {(e.index, e.field) for e in graph.validate(steps)}
    assert {(0, "next"), (1, "answers")} <= fields


def test_unreachable_step():
    steps = valid_steps() + [step("orphan", "outcome", outcome="已解决")]
    errors = graph.validate(steps)
    assert [(e.key, e.index) for e in errors] == [("orphan", 6)]
    assert "无法到达" in errors[0].message


def test_loop_without_way_out():
    steps = [
        step("ask", "question", answers=[{"label": "a", "next": "a1"}, {"label": "b", "next": "done"}]),
        step("a1", "instruction", next="a2"),
        step("a2", "instruction", next="a1"),
        step("done", "outcome", outcome="已解决"),
    ]
    errors = graph.validate(steps)
    assert sorted(e.key for e in errors) == ["a1", "a2"]
    assert all("无法走到任何结果" in e.message for e in errors)


def test_loop_with_a_way_out_is_fine():
    steps = [
        step(
            "ask",
            "question",
            answers=[{"label": "再问一次", "next": "again"}, {"label": "好了", "next": "done"}],
        ),
        step("again", "instruction", next="ask"),
        step("done", "outcome", outcome="已解决"),
    ]
    assert graph.validate(steps) == []


def test_loop_of_rule_steps_is_reported():
    steps = [
        step(
            "r1", "rule", branches=[{"variable": "x", "op": "eq", "value": "1", "next": "done"}], default="r2"
        ),
        step("r2", "rule", branches=[], default="r1"),
        step("done", "outcome", outcome="已解决"),
    ]
    errors = graph.validate(steps)
    assert len(errors) == 1 and "循环" in errors[0].message


def test_procedure_without_outcome():
    steps = [step("a", "instruction", next="b"), step("b", "question", answers=[{"label": "x", "next": "a"}])]
    errors = graph.validate(steps)
    assert any(e.index is None and "结果" in e.message for e in errors)


def test_outcome_step_needs_an_outcome():
    steps = valid_steps()
    steps[4]["outcome"] = ""
    assert [(e.index, e.field) for e in graph.validate(steps)] == [(4, "outcome")]


def test_variable_references_are_checked_when_variables_are_given():
    steps = valid_steps()
    assert graph.validate(steps) == []  # the steps field alone cannot know the variables
    errors = graph.validate(steps, {})
    assert {(e.key, e.field) for e in errors} == {("collect", "variables"), ("by-amount", "branches")}


def test_operator_must_fit_the_variable_type():
    steps = valid_steps()
    assert any("不能用比较方式" in e.message for e in graph.validate(steps, {"金额": "choice"}))
    steps[3]["branches"][0]["value"] = "五十"
    assert any("必须是数字" in e.message for e in graph.validate(steps, {"金额": "number"}))
    steps[3]["branches"][0].update(op="days_since_gt", value="15")
    assert graph.validate(steps, {"金额": "date"}) == []


def test_path_depths_for_the_overview():
    depths = graph.path_depths(valid_steps())
    assert depths == {"greet": 0, "ask": 1, "collect": 2, "done": 2, "by-amount": 3, "escalate": 4}
