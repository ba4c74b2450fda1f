"""Ending a run with 升级 / 转接 / 客户放弃: a confirming screen, a required reason and (升级, 转接) to whom;
the run then says how it ended wherever it is listed, and the run report filters by ending."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from procedures.models import ProcedureRun, RunEvent
from tests.procedures.conftest import login
from tests.procedures.test_procedure_views import start

pytestmark = pytest.mark.django_db


def post(client, run, **data):
    return client.post(
        reverse("procedures:move", args=[run.pk]), {"step": run.current_step, "seq": run.next_seq, **data}
    )


def test_escalating_asks_to_confirm_with_a_reason_and_to_whom(client, agent, supervisor, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    response = post(client, run, action="escalate")
    html = response.content.decode()
    assert response.status_code == 200 and "确认升级" in html and 'name="reason"' in html
    assert (
        not RunEvent.objects.filter(run=run).exclude(action="next").exists() and run.status == "in_progress"
    )

    response = post(client, run, action="escalate", confirm="1", reason="")
    html = response.content.decode()
    assert response.status_code == 400 and "请填写原因" in html and "请选择转交给哪个组或哪个人" in html
    response = post(
        client, run, action="escalate", confirm="1", reason="客户要求找主管", handoff_group="999999"
    )
    assert response.status_code == 400 and "没有这个组" in response.content.decode()
    run.refresh_from_db()
    assert run.status == "in_progress"

    group = Group.objects.get(name="主管")
    response = post(
        client,
        run,
        action="escalate",
        confirm="1",
        reason="客户要求找主管",
        handoff_group=group.pk,
        handoff_user=supervisor.pk,
    )
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.outcome, run.ending_reason, run.handoff_group, run.handoff_user) == (
        "已升级",
        "客户要求找主管",
        group,
        supervisor,
    )
    assert run.events.last().note == "客户要求找主管"
    # A second confirm (a double submit) is refused: the run has ended.
    response = post(client, run, action="escalate", confirm="1", reason="again", handoff_group=group.pk)
    assert ProcedureRun.objects.get(pk=run.pk).events.count() == run.events.count()


def test_giving_up_needs_only_a_reason(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    post(client, run, action="give_up", confirm="1", reason="客户挂断")
    run.refresh_from_db()
    assert (run.outcome, run.ending_reason, run.handoff_group) == ("客户放弃", "客户挂断", None)


def test_lists_and_reports_say_how_runs_ended_and_filter_by_it(client, agent, supervisor, missing_item):
    login(client, agent)
    escalated = start(client, missing_item, ref="ESC-1")
    post(client, escalated, action="escalate", confirm="1", reason="找主管", handoff_user=supervisor.pk)
    gave_up = start(client, missing_item, ref="GIVE-1")
    post(client, gave_up, action="give_up", confirm="1", reason="挂断")
    html = client.get(reverse("procedures:my_runs")).content.decode()
    assert "已升级" in html and "客户放弃" in html and "已完成" not in html
    login(client, supervisor)
    url = "/admin/reports/procedures/runs/"
    html = client.get(url, {"ending": "已升级"}).content.decode()
    assert "ESC-1" in html and "GIVE-1" not in html
    html = client.get(url, {"ending": "客户放弃"}).content.decode()
    assert "GIVE-1" in html and "ESC-1" not in html
