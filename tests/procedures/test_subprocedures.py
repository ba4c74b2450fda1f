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


# --- through the Django client ------------------------------------------------------------------


def block(kind, **value):
    if kind != "rule":
        value.setdefault("text", "")
        value.setdefault("phrasings", [])
    return {"type": kind, "value": value}


def add_procedure(section, slug, title, steps, variables=(), outcomes=""):
    from procedures.models import ProcedurePage

    page = ProcedurePage(
        title=title,
        slug=slug,
        when_to_use="测试",
        outcomes=outcomes,
        variables=[
            block("variable", name=name, label="", type="text", choices=[], required=required)
            for name, required in variables
        ],
        steps=steps,
    )
    section.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


@pytest.fixture
def verify_page(section):
    """身份核验: 手机号 is required and no step of it collects it."""
    return add_procedure(
        section,
        "verify-identity",
        "身份核验",
        [
            block(
                "question",
                key="ask",
                title="核对手机号后四位",
                answers=[{"label": "一致", "next": "ok"}, {"label": "不一致", "next": "fail"}],
            ),
            block("outcome", key="ok", title="核验通过", outcome="已核实"),
            block("outcome", key="fail", title="核验未通过", outcome="未通过"),
        ],
        variables=[("手机号", True)],
        outcomes="已核实\n未通过",
    )


@pytest.fixture
def caller_page(section, verify_page):
    """少货处理 (test copy): 问候 → 子流程 身份核验 → 确认方案 → 已解决."""
    return add_procedure(
        section,
        "missing-with-verify",
        "少货登记",
        [
            block("instruction", key="greet", title="问候", checklist=[], next="verify"),
            block("subprocedure", key="verify", title="核验身份", procedure=verify_page.pk, next="confirm"),
            block("question", key="confirm", title="确认方案", answers=[{"label": "同意", "next": "done"}]),
            block("outcome", key="done", title="已登记", outcome="已解决"),
        ],
        variables=[("客户称呼", True), ("手机号", False)],
    )


def _step_page(client, run):
    from django.urls import reverse

    return client.get(reverse("procedures:run", args=[run.pk])).content.decode()


def test_a_run_enters_walks_and_comes_back_from_a_sub_procedure(client, agent, caller_page, verify_page):
    from django.urls import reverse

    from procedures.models import RunEvent
    from tests.procedures.test_procedure_views import start, step

    client.force_login(agent)
    run = start(client, caller_page, **{"v-客户称呼": "王女士"})
    step(client, run, action="next")
    run.refresh_from_db()
    # 手机号 is required by 身份核验 and not known yet: asked on entering it
    assert run.current_step == "verify/_start"
    html = _step_page(client, run)
    assert "子流程：身份核验 · 第 1 步" in html and "身份核验：需要的信息" in html
    step(client, run, action="next", **{"v-手机号": "13800001234"})
    html = _step_page(client, run)
    assert "子流程：身份核验 · 第 2 步" in html and "核对手机号后四位" in html
    step(client, run, answer="0")
    run.refresh_from_db()
    assert run.current_step == "confirm" and run.status == "in_progress"
    assert "子流程：" not in _step_page(client, run)
    step(client, run, answer="0")
    run.refresh_from_db()
    assert run.status == "completed" and run.outcome == "已解决"

    events = list(RunEvent.objects.filter(run=run).order_by("seq"))
    assert [(e.step_key, e.kind, e.action, e.answer) for e in events] == [
        ("greet", "instruction", "next", "继续"),
        ("verify/_start", "input", "input", ""),
        ("verify/ask", "question", "answer", "一致"),
        ("verify", "subprocedure", "next", "身份核验：已核实"),
        ("confirm", "question", "answer", "同意"),
        ("done", "outcome", "outcome", ""),
    ]
    sub_revision = verify_page.live_revision_id
    assert [e.revision_id for e in events] == [run.revision_id, sub_revision, sub_revision] + [
        run.revision_id
    ] * 3
    assert run.variables["手机号"] == "13800001234"
    assert run.visited_steps() == ["greet", "verify/_start", "verify/ask", "verify", "confirm", "done"]

    summary = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    assert "身份核验 › 核对手机号后四位 → 一致" in summary and "核验身份 → 身份核验：已核实" in summary
    # the 经过 table names the inner step's procedure
    assert "<td>身份核验 › 核对手机号后四位</td>" in summary
    data = client.get(reverse("procedures:run_json", args=[run.pk])).json()
    assert data["subprocedures"] == [
        {"step": "verify", "procedure": verify_page.pk, "title": "身份核验", "revision": sub_revision}
    ]
    assert [e["revision"] for e in data["events"]][2] == sub_revision
    inner = events[2]
    replay = client.get(reverse("procedures:replay", args=[run.pk, inner.seq]))
    assert replay.status_code == 200 and "核对手机号后四位" in replay.content.decode()


def test_values_already_known_are_not_asked_again(client, agent, caller_page):
    from tests.procedures.test_procedure_views import start, step

    client.force_login(agent)
    run = start(client, caller_page, **{"v-客户称呼": "王女士", "v-手机号": "13800001234"})
    step(client, run, action="next")
    run.refresh_from_db()
    assert run.current_step == "verify/ask"
    assert "子流程：身份核验 · 第 1 步" in _step_page(client, run)


def test_back_goes_across_the_boundary_both_ways(client, agent, caller_page):
    from tests.procedures.test_procedure_views import start, step

    client.force_login(agent)
    run = start(client, caller_page, **{"v-客户称呼": "王女士", "v-手机号": "1234"})
    step(client, run, action="next")
    step(client, run, answer="0")
    run.refresh_from_db()
    assert run.current_step == "confirm"
    step(client, run, action="back")  # from the calling procedure back into the called one
    run.refresh_from_db()
    assert run.current_step == "verify/ask" and run.visited_steps() == ["greet", "verify/ask"]
    step(client, run, action="back")  # and out of it
    run.refresh_from_db()
    assert run.current_step == "greet"
    step(client, run, action="next")
    step(client, run, answer="1")  # 不一致 this time
    run.refresh_from_db()
    assert run.current_step == "confirm"
    assert run.events.order_by("-seq").first().answer == "身份核验：未通过"


def test_the_revision_pinned_on_entering_stays_when_the_sub_procedure_is_republished(
    client, agent, caller_page, verify_page
):
    from tests.procedures.test_procedure_views import start, step

    client.force_login(agent)
    run = start(client, caller_page, **{"v-客户称呼": "王女士", "v-手机号": "1234"})
    step(client, run, action="next")
    pinned = verify_page.live_revision_id

    draft = verify_page.get_latest_revision_as_object()
    draft.steps[0].value["title"] = "请客户报身份证后四位"
    draft.save_revision().publish()
    verify_page.refresh_from_db()
    assert verify_page.live_revision_id != pinned

    html = _step_page(client, run)
    assert "核对手机号后四位" in html and "身份证后四位" not in html
    step(client, run, answer="0")
    run.refresh_from_db()
    assert run.current_step == "confirm"
    assert list(run.events.filter(step_key="verify/ask").values_list("revision_id", flat=True)) == [pinned]
    # a new run enters the new revision
    fresh = start(client, caller_page, **{"v-客户称呼": "李先生", "v-手机号": "1234"})
    step(client, fresh, action="next")
    assert "身份证后四位" in _step_page(client, fresh)


def test_a_sub_procedure_not_live_is_refused_with_a_message_and_nothing_logged(
    client, agent, caller_page, verify_page
):
    from tests.procedures.test_procedure_views import start, step

    client.force_login(agent)
    run = start(client, caller_page, **{"v-客户称呼": "王女士"})
    verify_page.unpublish()
    response = step(client, run, action="next")
    run.refresh_from_db()
    assert run.current_step == "greet" and run.events.count() == 0 and run.next_seq == 1
    html = client.get(response["Location"]).content.decode()
    assert "要运行的流程没有发布或已被删除" in html


def _procedure_form(page, steps):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

    def empty():
        return {"count": "0"}

    blocks = []
    for kind, value in steps:
        if kind not in ("subprocedure", "rule"):
            value = {"text": rich_text(""), "phrasings": empty(), "follow_ups": empty(), **value}
        if kind == "question":
            value["answers"] = {
                "count": str(len(value["answers"])),
                **{
                    str(i): {"deleted": "", "order": str(i), "value": a}
                    for i, a in enumerate(value["answers"])
                },
            }
        if kind == "instruction":
            value["checklist"] = empty()
        blocks.append((kind, value))
    return nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "when_to_use": "测试",
            "expected_minutes": "",
            "tags": "",
            "outcomes": page.outcomes,
            "related_articles": inline_formset([]),
            "variables": streamfield([]),
            "steps": streamfield(blocks),
            "last_reviewed": "2026-11-01",
            "review_interval_days": "180",
            "comments": inline_formset([]),
        }
    )


def test_saving_a_sub_procedure_that_calls_itself_is_refused(client, trainer, verify_page, caller_page):
    from django.urls import reverse

    client.force_login(trainer)
    edit_url = reverse("wagtailadmin_pages:edit", args=[verify_page.pk])
    revisions = verify_page.revisions.count()

    def calling(target):
        return _procedure_form(
            verify_page,
            [
                ("subprocedure", {"key": "again", "title": "再核验", "procedure": target.pk, "next": "ok"}),
                ("outcome", {"key": "ok", "title": "核验通过", "outcome": "已核实"}),
            ],
        )

    def step_errors(response):
        """The errors the editor shows on each step block: {index: {field: [messages]}}."""
        assert response.status_code == 200
        error = response.context["form"].errors["steps"].as_data()[0]
        return {
            index: {field: list(e.messages) for field, e in block.block_errors.items()}
            for index, block in error.block_errors.items()
        }

    assert step_errors(client.post(edit_url, calling(verify_page))) == {
        0: {"procedure": ["子流程不能运行本流程自己，否则会无限循环。"]}
    }
    # through another: 少货登记 (live) runs 身份核验, so 身份核验 may not run 少货登记
    assert step_errors(client.post(edit_url, calling(caller_page))) == {
        0: {
            "procedure": [
                "子流程会经由其他流程回到本流程（身份核验 → 少货登记 → 身份核验），运行时会无限循环。"
            ]
        }
    }
    assert verify_page.revisions.count() == revisions
    # calling a procedure that does not lead back is saved
    other = add_procedure(
        caller_page.get_parent(),
        "plain",
        "普通流程",
        [block("outcome", key="end", title="完", outcome="已解决")],
    )
    assert client.post(edit_url, calling(other)).status_code == 302
    assert verify_page.revisions.count() == revisions + 1


def test_the_demo_shares_identity_check_and_leads_missing_item_into_transit_damage(db):
    from kb_site.content.demo import DemoReport
    from procedures import demo
    from procedures.models import ProcedurePage
    from tests.procedures.conftest import load_demo_procedure

    damage = load_demo_procedure("30-transit-damage.yaml")  # brings the procedure it calls
    wrong = load_demo_procedure("30-wrong-item.yaml")
    missing = load_demo_procedure("30-missing-item.yaml")
    identity = ProcedurePage.objects.get(slug="identity-check-flow")
    for page in (damage, wrong):
        calls = [s.value["procedure"] for s in page.steps if s.block_type == "subprocedure"]
        assert [p.pk for p in calls] == [identity.pk]
    to_damage = next(s for s in missing.steps if s.value["key"] == "to-damage")
    assert to_damage.value["continue_with"].pk == damage.pk

    revisions = {p.pk: p.live_revision_id for p in ProcedurePage.objects.all()}
    for name in ("25-identity-check.yaml", "30-transit-damage.yaml", "30-missing-item.yaml"):
        demo.ensure_procedure(demo.DEMO_DIR / "procedures" / name, False, DemoReport())
        demo.link_continue_with(demo.DEMO_DIR / "procedures" / name, DemoReport())
    assert {p.pk: p.live_revision_id for p in ProcedurePage.objects.all()} == revisions


def test_the_overview_draws_the_arrow_out_of_a_sub_procedure_step(client, agent, caller_page):
    client.force_login(agent)
    html = client.get(caller_page.url).content.decode()
    assert '<span class="flow-label">完成后</span> → <a href="#step-confirm">确认方案</a>' in html
