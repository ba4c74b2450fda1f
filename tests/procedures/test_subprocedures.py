"""Sub-procedures (子流程): a step that runs another procedure inside the same run and comes back.

Engine units first (plain data, no database), then runs through the Django test client and the
refusals at save.
"""

import datetime

import pytest

from procedures import engine
from procedures.engine import MoveRejected, Procedure, Variable

TODAY = datetime.date(2026, 11, 30)


# --- the engine ---------------------------------------------------------------------------------


def verify_procedure():
    """身份核验: asks one question, ends 已核实 or 未通过; needs 手机号, which no step of it collects."""
    return Procedure(
        [
            {
                "key": "ask",
                "kind": "question",
                "title": "核对手机号后四位",
                "answers": [{"label": "一致", "next": "ok"}, {"label": "不一致", "next": "fail"}],
            },
            {"key": "ok", "kind": "outcome", "title": "通过", "outcome": "已核实"},
            {"key": "fail", "kind": "outcome", "title": "未通过", "outcome": "未通过"},
        ],
        [Variable("手机号", required=True), Variable("客户称呼")],
        title="身份核验",
    )


def calling_procedure(page=1, sub_page=2):
    return Procedure(
        [
            {"key": "greet", "kind": "instruction", "title": "问候", "next": "verify"},
            {
                "key": "verify",
                "kind": "subprocedure",
                "title": "核验身份",
                "procedure": sub_page,
                "next": "done",
            },
            {"key": "done", "kind": "outcome", "title": "完成", "outcome": "已解决"},
        ],
        [Variable("客户称呼", required=True)],
        title="少货处理",
        page=page,
    )


def loader(pages):
    """``load`` for the engine: page id → (revision, title, procedure), or None for an unknown page."""

    def load(page_id):
        found = pages.get(page_id)
        return None if found is None else (found[0], found[1].title, found[1])

    return load


def test_entering_walks_the_called_steps_under_the_calling_key_and_comes_back():
    procedure = calling_procedure()
    load = loader({2: (20, verify_procedure())})
    values = {"客户称呼": "王女士", "手机号": "1234"}
    moves, landing, values = engine.act(procedure, "greet", "next", values=values, today=TODAY, load=load)
    assert [m.key for m in moves] == ["greet"] and landing == "verify/ask"
    assert procedure.subprocedure_of("verify/ask").revision == 20
    assert procedure.revision_of("verify/ask", 10) == 20 and procedure.revision_of("verify", 10) == 10
    assert procedure.display_title("verify/ask", "核对手机号后四位") == "身份核验 › 核对手机号后四位"

    moves, landing, _values = engine.act(
        procedure, "verify/ask", "answer", answer=0, values=values, today=TODAY, load=load
    )
    assert [(m.key, m.kind, m.action, m.answer, m.next_key) for m in moves] == [
        ("verify/ask", "question", "answer", "一致", "verify/ok"),
        ("verify", "subprocedure", "next", "身份核验：已核实", "done"),
        ("done", "outcome", "outcome", "", None),
    ]
    assert landing is None and moves[-1].outcome == "已解决"  # the inner outcome did not end the run


def test_missing_required_values_are_asked_on_entering_and_known_ones_are_not():
    load = loader({2: (20, verify_procedure())})
    procedure = calling_procedure()
    _moves, landing, values = engine.act(
        procedure, "greet", "next", values={"客户称呼": "王女士"}, today=TODAY, load=load
    )
    assert landing == "verify/_start"
    asking = procedure.step("verify/_start")
    assert asking["kind"] == "input" and asking["variables"] == ["手机号"]
    with pytest.raises(engine.InputError):
        engine.act(procedure, "verify/_start", "next", inputs={}, values=values, today=TODAY, load=load)
    moves, landing, values = engine.act(
        procedure, "verify/_start", "next", inputs={"手机号": "5678"}, values=values, today=TODAY, load=load
    )
    assert landing == "verify/ask" and values["手机号"] == "5678"


def test_snapshot_round_trip_keeps_the_pinned_revision():
    procedure = calling_procedure()
    engine.act(
        procedure,
        "greet",
        "next",
        values={"手机号": "1"},
        today=TODAY,
        load=loader({2: (20, verify_procedure())}),
    )
    again = Procedure.from_dict(procedure.to_dict())
    assert again.subprocedures["verify"].revision == 20 and again.page == 1
    assert again.step("verify/ask")["answers"][0]["next"] == "verify/ok"
    # the called procedure's own variables join by name; the calling one's stay its own
    assert set(again.variables) == {"客户称呼", "手机号"} and again.own_variables == ["客户称呼"]
    assert again.required_at_start() == ["客户称呼"]
    # entering again (after Back) keeps the pinned revision, whatever would load now
    newer = verify_procedure()
    newer.steps[0]["title"] = "新版本"
    assert again.enter("verify", {"手机号": "1"}, loader({2: (21, newer)})) == "verify/ask"
    assert (
        again.subprocedures["verify"].revision == 20
        and again.step("verify/ask")["title"] == "核对手机号后四位"
    )


def test_nesting_three_deep_and_back_across_the_boundary():
    c = Procedure(
        [
            {"key": "c1", "kind": "instruction", "title": "C 的一步", "next": "c-end"},
            {"key": "c-end", "kind": "outcome", "title": "C 完", "outcome": "已解决"},
        ],
        title="地址核验",
    )
    b = Procedure(
        [
            {"key": "b1", "kind": "instruction", "title": "B 的一步", "next": "call-c"},
            {"key": "call-c", "kind": "subprocedure", "title": "调用 C", "procedure": 3, "next": "b-end"},
            {"key": "b-end", "kind": "outcome", "title": "B 完", "outcome": "已核实"},
        ],
        title="身份核验",
    )
    procedure = calling_procedure()
    load = loader({2: (20, b), 3: (30, c)})
    _m, landing, v = engine.act(procedure, "greet", "next", values={}, today=TODAY, load=load)
    assert landing == "verify/b1"
    moves, landing, v = engine.act(procedure, landing, "next", values=v, today=TODAY, load=load)
    assert landing == "verify/call-c/c1" and procedure.revision_of(landing, 10) == 30
    assert procedure.scope_titles(landing) == ["身份核验", "地址核验"]
    path = ["greet", "verify/b1"]
    assert engine.scope_step_number(procedure, path, landing) == 1
    assert engine.scope_step_number(procedure, ["greet"], "verify/b1") == 1
    moves, landing, v = engine.act(procedure, landing, "next", values=v, today=TODAY, load=load)
    assert [(m.key, m.answer) for m in moves] == [
        ("verify/call-c/c1", "继续"),
        ("verify/call-c", "地址核验：已解决"),
        ("verify", "身份核验：已核实"),
        ("done", ""),
    ]
    # Back from after both returns goes into the innermost procedure's last step
    keys = ["greet", "verify/b1", "verify/call-c/c1", "verify/call-c", "verify"]
    assert engine.back_target(procedure, keys) == "verify/call-c/c1"


def test_a_procedure_calling_itself_at_run_time_is_refused():
    procedure = calling_procedure(page=1, sub_page=1)
    with pytest.raises(MoveRejected) as refused:
        engine.act(
            procedure, "greet", "next", values={}, today=TODAY, load=loader({1: (10, calling_procedure())})
        )
    assert refused.value.code == "sub_loop" and "无限循环" in refused.value.message
    assert not procedure.subprocedures


def test_a_loop_through_another_procedure_is_stopped_by_the_chain_and_depth():
    # B calls A again: the page chain refuses it on entering the second level
    b = Procedure(
        [
            {"key": "back", "kind": "subprocedure", "title": "回到 A", "procedure": 1, "next": "end"},
            {"key": "end", "kind": "outcome", "title": "完", "outcome": "已解决"},
        ],
        title="B",
    )
    procedure = calling_procedure(page=1, sub_page=2)
    with pytest.raises(MoveRejected) as refused:
        engine.act(
            procedure,
            "greet",
            "next",
            values={},
            today=TODAY,
            load=loader({1: (10, calling_procedure()), 2: (20, b)}),
        )
    assert refused.value.code == "sub_loop"

    # pages that each call a new one (data changed after save): the depth guard stops the run
    def endless(page):
        return (
            page * 10,
            f"第{page}层",
            Procedure(
                [
                    {
                        "key": "call",
                        "kind": "subprocedure",
                        "title": "再调用",
                        "procedure": page + 1,
                        "next": "end",
                    },
                    {"key": "end", "kind": "outcome", "title": "完", "outcome": "已解决"},
                ]
            ),
        )

    deep = calling_procedure(page=1, sub_page=2)
    with pytest.raises(MoveRejected) as refused:
        engine.act(deep, "greet", "next", values={}, today=TODAY, load=endless)
    assert refused.value.code == "sub_loop" and "嵌套超过 5 层" in refused.value.message


def test_a_called_procedure_not_live_is_refused_with_a_clear_message():
    procedure = calling_procedure()
    with pytest.raises(MoveRejected) as refused:
        engine.act(procedure, "greet", "next", values={}, today=TODAY, load=loader({}))
    assert refused.value.code == "sub_unavailable" and "没有发布或已被删除" in refused.value.message
