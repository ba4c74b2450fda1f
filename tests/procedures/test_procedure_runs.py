"""The run log without HTTP: starting, moving, rejecting bad moves, revisions, abandonment."""

import datetime
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from procedures.models import ProcedureRun, RunEvent, RunStatus
from procedures.runs import MoveRejected, apply_move, run_path, start_run


def move(run, user, action, **fields):
    run.refresh_from_db()
    return apply_move(run.pk, user, step=run.current_step, seq=run.next_seq, action=action, **fields)


def steps_errors(error):
    """The messages the admin would show on the steps field, as text."""
    return json.dumps(error.value.error_dict["steps"][0].as_json_data(), ensure_ascii=False)


def events(run):
    return list(
        RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", "step_key", "action", "answer")
    )


def test_start_pins_the_live_revision_and_keeps_ref(missing_item, agent):
    run = start_run(missing_item, agent, variables={"客户称呼": "王女士", "陌生": "x"}, ref="CALL-1")
    assert run.revision_id == missing_item.live_revision_id
    assert run.current_step == "greet" and run.next_seq == 1 and run.status == RunStatus.IN_PROGRESS
    assert run.variables == {"客户称呼": "王女士"}  # undeclared names are left out
    assert run.ref == "CALL-1"


def test_start_form_checks_values_by_type(missing_item):
    from procedures.forms import StartForm
    from procedures.models import procedure_for_revision

    procedure = procedure_for_revision(missing_item.live_revision_id)
    data = {"v-客户称呼": " 王女士 ", "v-少货金额": "很多", "v-陌生": "x", "ref": "CALL-1", "practice": "1"}
    form = StartForm(procedure, data)
    assert not form.is_valid()
    assert form.errors == {"v-少货金额": ["请填写数字"]}
    form = StartForm(procedure, {**data, "v-少货金额": "1,200"})
    assert form.is_valid()
    assert form.start_values() == {"客户称呼": "王女士", "少货金额": "1200"}
    assert form.cleaned_data["ref"] == "CALL-1" and form.cleaned_data["practice"] is True


def test_a_full_run_logs_one_event_per_step(missing_item, agent):
    run = start_run(missing_item, agent, variables={"客户称呼": "王女士"})
    move(run, agent, "next", note="客户语气平和")
    move(run, agent, "answer", answer="0")
    move(run, agent, "next", inputs={"订单号": "A100", "商品名称": "保温杯", "少货金额": "120"})
    move(run, agent, "next", checked=(0, 1, 2))
    move(run, agent, "answer", answer="0")
    move(run, agent, "answer", answer="1")
    run = move(run, agent, "next", inputs={"天数": "3"})
    assert run.status == RunStatus.COMPLETED and run.outcome == "已解决" and run.finished_at
    assert events(run) == [
        (1, "greet", "next", "继续"),
        (2, "ask-package", "answer", "完好"),
        (3, "collect", "input", ""),
        (4, "verify", "next", "继续"),
        (5, "confirmed", "answer", "确实少发"),
        (6, "by-amount", "rule", "其他情况"),
        (7, "negotiate", "answer", "补发"),
        (8, "reship-days", "input", ""),
        (9, "reship", "outcome", ""),
    ]
    assert run.variables["少货金额"] == "120" and run.variables["天数"] == "3"
    assert RunEvent.objects.get(run=run, seq=1).note == "客户语气平和"


def test_stale_and_double_moves_are_rejected_without_events(missing_item, agent):
    run = start_run(missing_item, agent)
    form = {"step": "greet", "seq": 1, "action": "next"}
    apply_move(run.pk, agent, **form)
    with pytest.raises(MoveRejected) as rejected:
        apply_move(run.pk, agent, **form)  # the same form posted twice
    assert rejected.value.code == "stale"
    with pytest.raises(MoveRejected):
        apply_move(run.pk, agent, step="greet", seq=2, action="next")  # not the current step
    with pytest.raises(MoveRejected) as rejected:
        apply_move(run.pk, agent, step="ask-package", seq=2, action="answer", answer="7")
    assert rejected.value.code == "invalid_answer"
    assert events(run) == [(1, "greet", "next", "继续")]


def test_another_users_run_is_not_found(missing_item, agent, other_agent):
    run = start_run(missing_item, agent)
    with pytest.raises(ProcedureRun.DoesNotExist):
        apply_move(run.pk, other_agent, step="greet", seq=1, action="next")
    assert events(run) == []


def test_finished_run_rejects_moves(missing_item, agent):
    run = start_run(missing_item, agent)
    run = move(run, agent, "escalate", note="客户要求找主管")
    assert run.status == RunStatus.COMPLETED and run.outcome == "已升级"
    with pytest.raises(MoveRejected) as rejected:
        apply_move(run.pk, agent, step="greet", seq=2, action="next")
    assert rejected.value.code == "finished"
    assert events(run) == [(1, "greet", "escalate", "已升级")]


def test_back_is_logged_and_never_erases_history(missing_item, agent):
    run = start_run(missing_item, agent)
    move(run, agent, "next")
    move(run, agent, "answer", answer="0")
    run = move(run, agent, "back")
    assert run.current_step == "ask-package"
    run = move(run, agent, "answer", answer="0")
    assert [(e.step_key, e.action) for e in run_path(run)] == [("greet", "next"), ("ask-package", "answer")]
    assert [e[2] for e in events(run)] == ["next", "answer", "back", "answer"]
    first = ProcedureRun.objects.get(pk=run.pk)
    with pytest.raises(MoveRejected):
        # from the first step there is nowhere to go back to
        run2 = start_run(missing_item, agent)
        move(run2, agent, "back")
    assert first.next_seq == 5


def test_back_skips_rule_steps(missing_item, agent):
    run = start_run(missing_item, agent)
    move(run, agent, "next")
    move(run, agent, "answer", answer="0")
    move(run, agent, "next", inputs={"订单号": "A1", "商品名称": "杯", "少货金额": "100"})
    move(run, agent, "next", checked=(0, 1, 2))
    run = move(run, agent, "answer", answer="0")  # → rule → negotiate
    assert run.current_step == "negotiate"
    run = move(run, agent, "back")
    assert run.current_step == "confirmed"


def test_invalid_inputs_write_nothing(missing_item, agent):
    run = start_run(missing_item, agent)
    move(run, agent, "next")
    move(run, agent, "answer", answer="0")
    from procedures.engine import InputError

    with pytest.raises(InputError):
        move(run, agent, "next", inputs={"订单号": "", "商品名称": "杯", "少货金额": "三十"})
    run.refresh_from_db()
    assert run.current_step == "collect" and run.next_seq == 3


def test_run_survives_a_new_revision_published_mid_run(missing_item, agent):
    run = start_run(missing_item, agent)
    move(run, agent, "next")
    # The trainer rewrites the question and removes the "collect" step it led to.
    page = missing_item.specific
    raw = list(page.steps.raw_data)
    for block in raw:
        if block["value"]["key"] == "ask-package":
            block["value"]["title"] = "新版：包装怎么样？"
            block["value"]["answers"] = [
                {"label": "好", "next": "verify"},
                {"label": "坏", "next": "to-damage"},
            ]
    page.steps = [b for b in raw if b["value"]["key"] != "collect"]
    page.save_revision().publish()
    page.refresh_from_db()
    assert page.live_revision_id != run.revision_id

    run = move(run, agent, "answer", answer="0")
    assert run.current_step == "collect"  # the old version's step, still there for this run
    assert RunEvent.objects.get(run=run, seq=2).step_title == "外包装是否完好？"
    run = move(run, agent, "next", inputs={"订单号": "A1", "商品名称": "杯", "少货金额": "10"})
    run = move(run, agent, "next", checked=(0, 1, 2))
    run = move(run, agent, "answer", answer="0")
    assert run.outcome == "已解决" and run.current_step == "refund"

    new_run = start_run(page, agent)
    new_run = move(new_run, agent, "next")
    assert new_run.revision_id == page.live_revision_id


def test_practice_flag_is_kept(missing_item, newhire):
    run = start_run(missing_item, newhire, practice=True)
    assert ProcedureRun.objects.counted().filter(pk=run.pk).count() == 0


@override_settings(CALLBOOK_RUN_ABANDON_AFTER_MINUTES=30)
def test_untouched_runs_are_marked_abandoned(missing_item, agent):
    from django.core.management import call_command

    stale = start_run(missing_item, agent)
    fresh = start_run(missing_item, agent)
    ProcedureRun.objects.filter(pk=stale.pk).update(
        last_activity_at=timezone.now() - datetime.timedelta(minutes=31)
    )
    stale.refresh_from_db()
    assert stale.shown_status == RunStatus.ABANDONED and stale.status == RunStatus.IN_PROGRESS
    assert list(ProcedureRun.objects.abandoned()) == [stale]
    output = io.StringIO()
    call_command("mark_abandoned_runs", stdout=output)
    assert "Marked 1 run(s)" in output.getvalue()
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == RunStatus.ABANDONED and fresh.status == RunStatus.IN_PROGRESS
    with pytest.raises(MoveRejected):
        move(stale, agent, "next")


@override_settings(CALLBOOK_RUN_ABANDON_AFTER_MINUTES=30)
def test_a_move_on_an_idle_run_is_refused_and_marks_it(missing_item, agent):
    run = start_run(missing_item, agent)
    ProcedureRun.objects.filter(pk=run.pk).update(
        last_activity_at=timezone.now() - datetime.timedelta(hours=1)
    )
    with pytest.raises(MoveRejected) as rejected:
        move(run, agent, "next")
    assert rejected.value.code == "finished" and "长时间未操作" in rejected.value.message
    run.refresh_from_db()
    assert run.status == RunStatus.ABANDONED and events(run) == []


def test_invalid_graph_cannot_be_saved_or_published(missing_item):
    page = missing_item.specific
    raw = list(page.steps.raw_data)
    for block in raw:
        if block["value"]["key"] == "greet":
            block["value"]["next"] = "nowhere"
    page.steps = raw
    with pytest.raises(ValidationError) as error:
        page.save_revision()
    block_errors = error.value.error_dict["steps"][0].block_errors
    assert list(block_errors) == [0]
    assert "nowhere" in str(block_errors[0].block_errors["next"])


def test_outcome_must_be_in_the_procedures_list(missing_item):
    page = missing_item.specific
    page.outcomes = "已解决\n已转接"
    with pytest.raises(ValidationError) as error:
        page.full_clean()
    assert "无需处理" in steps_errors(error)


def test_undeclared_variable_in_rule_is_reported(missing_item):
    page = missing_item.specific
    page.variables = [b for b in page.variables.raw_data if b["value"]["name"] != "少货金额"]
    with pytest.raises(ValidationError) as error:
        page.full_clean()
    assert "少货金额" in steps_errors(error)


def test_step_stream_block_reports_errors_per_step():
    from procedures.blocks import StepStreamBlock

    block = StepStreamBlock()
    value = block.to_python(
        [
            {"type": "instruction", "value": {"key": "a", "title": "A", "next": "b"}},
            {"type": "instruction", "value": {"key": "b", "title": "B", "next": "a"}},
            {"type": "outcome", "value": {"key": "c", "title": "C", "outcome": "已解决"}},
        ]
    )
    from wagtail.blocks.stream_block import StreamBlockValidationError

    with pytest.raises(StreamBlockValidationError) as error:
        block.clean(value)
    assert set(error.value.block_errors) == {0, 1, 2}
    assert "无法到达" in str(error.value.block_errors[2].block_errors["key"])


def test_run_keeps_the_phrasing_text_it_started_with(missing_item, agent):
    from kb_site.content.models import Phrasing

    run = start_run(missing_item, agent)
    phrasing = Phrasing.objects.get(title="开场问候", section=missing_item.get_parent())
    old_text = phrasing.text
    phrasing.text = "新版问候：{客户称呼}您好！"
    phrasing.save_revision().publish()

    run = ProcedureRun.objects.get(pk=run.pk)
    greet = run.get_procedure().step("greet")
    assert [p["text"] for p in greet["phrasings"]] == [old_text]
    new_run = ProcedureRun.objects.get(pk=start_run(missing_item, agent).pk)
    assert [p["text"] for p in new_run.get_procedure().step("greet")["phrasings"]] == [
        "新版问候：{客户称呼}您好！"
    ]
    assert new_run.revision_id == run.revision_id  # same page version, different phrasing text


def test_rule_as_the_first_step_runs_at_start(rule_first, agent):
    page = rule_first
    small = start_run(page, agent, variables={"金额": "10"})
    assert small.status == RunStatus.COMPLETED and small.outcome == "已解决"
    assert events(small) == [(1, "start", "rule", "金额 ≤ 50"), (2, "small", "outcome", "")]

    large = start_run(page, agent, variables={"金额": "100"})
    assert large.status == RunStatus.IN_PROGRESS and large.current_step == "ask" and large.next_seq == 2
    assert events(large) == [(1, "start", "rule", "其他情况")]
    with pytest.raises(MoveRejected):
        move(large, agent, "back")  # only a rule before: nothing to go back to
