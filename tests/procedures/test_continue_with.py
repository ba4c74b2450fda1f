"""An outcome that leads into another procedure (``continue_with``): 接着处理 on the finished run."""

import pytest
from django.urls import reverse

from procedures.models import ProcedureRun
from tests.procedures.test_procedure_views import start, step
from tests.procedures.test_subprocedures import add_procedure, block


@pytest.fixture
def damage_page(section):
    """运输破损处理: needs 订单号 at start (no step collects it)."""
    return add_procedure(
        section,
        "transit-damage-test",
        "运输破损处理",
        [
            block("instruction", key="photos", title="请客户拍照", checklist=[], next="done"),
            block("outcome", key="done", title="已登记破损", outcome="已解决"),
        ],
        variables=[("订单号", True), ("客户称呼", False)],
    )


@pytest.fixture
def missing_page(section, damage_page):
    """少货处理 (test copy): 外包装破损 → an outcome leading into 运输破损处理."""
    return add_procedure(
        section,
        "missing-test",
        "少货处理",
        [
            block(
                "question",
                key="ask",
                title="外包装是否完好？",
                answers=[{"label": "完好", "next": "solved"}, {"label": "破损", "next": "to-damage"}],
            ),
            block("outcome", key="solved", title="已处理", outcome="已解决"),
            block(
                "outcome",
                key="to-damage",
                title="转运输破损处理",
                outcome="已转接",
                continue_with=damage_page.pk,
            ),
        ],
        variables=[("订单号", True), ("客户称呼", False), ("少货金额", False)],
    )


def finished(client, page, answer):
    run = start(client, page, ref="CALL-9", **{"v-订单号": "A100", "v-客户称呼": "王女士"})
    step(client, run, answer=answer)
    run.refresh_from_db()
    assert run.status == "completed"
    return run


def test_continue_starts_the_next_procedure_with_the_values_and_ref(client, agent, missing_page, damage_page):
    client.force_login(agent)
    run = finished(client, missing_page, "1")
    summary = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    assert "接着处理：运输破损处理" in summary

    response = client.post(reverse("procedures:continue", args=[run.pk]))
    assert response.status_code == 302
    new = ProcedureRun.objects.exclude(pk=run.pk).get()
    assert response["Location"] == new.get_absolute_url()
    assert new.procedure_id == damage_page.pk and new.user == agent and new.ref == "CALL-9"
    assert new.variables == {"订单号": "A100", "客户称呼": "王女士"}  # by name: 少货金额 is not 运输破损's
    assert new.current_step == "photos"
    step(client, new, action="next")
    new.refresh_from_db()
    page = client.get(reverse("procedures:run", args=[new.pk])).content.decode()
    assert "由“少货处理”转入" in page
    data = client.get(reverse("procedures:run_json", args=[new.pk])).json()
    assert data["came_from"] == str(run.pk) and "【来源】由“少货处理”转入" in data["summary"]

    # the finished run now links to the run it led into instead of offering to start another
    summary = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    assert "已接着处理：运输破损处理" in summary and new.get_absolute_url() in summary


def test_a_double_submit_starts_one_run(client, agent, missing_page):
    client.force_login(agent)
    run = finished(client, missing_page, "1")
    first = client.post(reverse("procedures:continue", args=[run.pk]))
    second = client.post(reverse("procedures:continue", args=[run.pk]))
    assert first["Location"] == second["Location"]
    assert ProcedureRun.objects.count() == 2


def test_another_agents_run_is_not_found(client, agent, other_agent, missing_page):
    client.force_login(agent)
    run = finished(client, missing_page, "1")
    client.force_login(other_agent)
    assert client.post(reverse("procedures:continue", args=[run.pk])).status_code == 404
    assert ProcedureRun.objects.count() == 1


def test_an_outcome_without_continuation_or_an_unfinished_run_starts_nothing(client, agent, missing_page):
    client.force_login(agent)
    solved = finished(client, missing_page, "0")
    assert "接着处理" not in client.get(reverse("procedures:run", args=[solved.pk])).content.decode()
    open_run = start(client, missing_page, **{"v-订单号": "A100"})
    for run in (solved, open_run):
        response = client.post(reverse("procedures:continue", args=[run.pk]))
        assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
        assert "没有可以接着处理的流程" in client.get(response["Location"]).content.decode()
    assert ProcedureRun.objects.count() == 2


def test_a_next_procedure_taken_offline_starts_nothing(client, agent, missing_page, damage_page):
    client.force_login(agent)
    run = finished(client, missing_page, "1")
    damage_page.unpublish()
    assert "接着处理" not in client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    response = client.post(reverse("procedures:continue", args=[run.pk]))
    assert response.status_code == 302 and ProcedureRun.objects.count() == 1


def test_a_value_the_next_procedure_needs_and_the_run_lacks_is_asked_on_its_page(
    client, agent, section, damage_page
):
    source = add_procedure(
        section,
        "no-order",
        "咨询",
        [block("outcome", key="go", title="转破损", outcome="已解决", continue_with=damage_page.pk)],
    )
    client.force_login(agent)
    run = start(client, source)
    run.refresh_from_db()
    assert run.status == "completed"
    response = client.post(reverse("procedures:continue", args=[run.pk]))
    assert response.status_code == 400
    assert "开始前请填写“订单号”" in response.content.decode()
    assert ProcedureRun.objects.count() == 1
