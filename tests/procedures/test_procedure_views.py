"""Runs through the Django test client: full demo runs, every bad move, access rules."""

import html
import json
import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from procedures.models import ProcedureRun, RunEvent, RunStatus
from tests.procedures.conftest import login


def form_state(response):
    """The hidden step / seq fields of the step form, as rendered."""
    html = response.content.decode()
    step = re.search(r'name="step" value="([^"]*)"', html).group(1)
    seq = re.search(r'name="seq" value="(\d+)"', html).group(1)
    return {"step": step, "seq": seq}


def start(client, page, query="", **post):
    """Start a run from the procedure page; a required variable no step collects (客户称呼) gets a value
    unless the test gives one."""
    for name in page.to_procedure().required_at_start():
        post.setdefault(f"v-{name}", "王女士")
    response = client.get(page.url + (f"?{query}" if query else ""))
    assert response.status_code == 200
    response = client.post(reverse("procedures:start", args=[page.pk]), post)
    assert response.status_code == 302
    run = ProcedureRun.objects.latest("started_at")
    assert response["Location"] == reverse("procedures:run", args=[run.pk])
    return run


def step(client, run, expect_status=302, **data):
    """Post the form of the step currently shown, with ``data`` as the pressed button and fields."""
    page = client.get(reverse("procedures:run", args=[run.pk]))
    assert page.status_code == 200
    response = client.post(reverse("procedures:move", args=[run.pk]), {**form_state(page), **data})
    assert response.status_code == expect_status, response.content.decode()[:2000]
    return response


def logged(run):
    return list(RunEvent.objects.filter(run=run).order_by("seq").values_list("step_key", "action", "answer"))


def test_procedure_page_shows_overview_and_prefills_from_query(client, agent, missing_item):
    login(client, agent)
    response = client.get(missing_item.url + "?" + urlencode({"客户称呼": "王女士", "ref": "CALL-123"}))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="王女士"' in html and 'value="CALL-123"' in html
    assert 'class="flow-map"' in html and "外包装是否完好？" in html and "少货金额 ≤ 50" in html


def test_full_missing_item_run(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item, **{"v-客户称呼": "王女士", "ref": "CALL-123"})
    first = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    # the phrasing is filled with the customer's name and has a copy button
    assert '您好<span class="ph ph-filled" data-ph="客户称呼">王女士</span>' in first
    assert "<copy-button" in first and "第 1 步" in first and 'value="escalate"' in first
    step(client, run, action="next", note="客户很着急")
    step(client, run, answer="0")
    step(client, run, action="next", **{"v-订单号": "A100", "v-商品名称": "保温杯", "v-少货金额": "30"})
    step(client, run, action="next", check=["0", "1", "2"])
    response = step(client, run, answer="0")
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.outcome == "已解决" and run.ref == "CALL-123"
    assert logged(run) == [
        ("greet", "next", "继续"),
        ("ask-package", "answer", "完好"),
        ("collect", "input", ""),
        ("verify", "next", "继续"),
        ("confirmed", "answer", "确实少发"),
        ("by-amount", "rule", "少货金额 ≤ 50"),
        ("refund", "outcome", ""),
    ]
    assert RunEvent.objects.get(run=run, step_key="collect").inputs == {
        "订单号": "A100",
        "商品名称": "保温杯",
        "少货金额": "30",
    }
    summary = client.get(response["Location"]).content.decode()
    assert "结果：已解决" in summary and 'id="run-summary-text"' in summary
    assert "【单号】CALL-123" in summary and "【备注】客户很着急" in summary
    assert '少发的<span class="ph ph-filled" data-ph="商品名称">保温杯</span>' in summary


def test_complaint_run_with_special_handling(client, agent, complaint):
    login(client, agent)
    run = start(client, complaint, **{"v-客户称呼": "许先生"})
    step(client, run, action="next")
    step(client, run, answer="0")  # 涉及人身安全
    run.refresh_from_db()
    assert run.outcome == "已升级"
    assert logged(run) == [
        ("accept", "next", "继续"),
        ("safety", "answer", "涉及人身安全"),
        ("special", "outcome", ""),
    ]


def test_complaint_run_repeat_caller_is_escalated_by_rule(client, agent, complaint):
    login(client, agent)
    run = start(client, complaint, **{"v-客户称呼": "许先生"})
    step(client, run, action="next")
    step(client, run, answer="1")
    step(client, run, action="next", check=["0", "1"])
    step(client, run, action="next", **{"v-投诉类型": "停电复电", "v-来电次数": "8"})
    step(client, run, action="next", **{"v-上级部门": "市场部"})
    run.refresh_from_db()
    assert run.outcome == "已升级" and run.current_step == "escalate-repeat"
    assert [e[0] for e in logged(run)] == [
        "accept",
        "safety",
        "listen",
        "ask-info",
        "repeat-rule",
        "escalate-dept",
        "escalate-repeat",
    ]


def test_bad_moves_get_a_message_and_no_event(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    url = reverse("procedures:move", args=[run.pk])
    step(client, run, action="next")
    cases = [
        {"step": "ask-package", "seq": "2", "answer": "5"},  # answer not in this step
        {"step": "ask-package", "seq": "2", "action": "next"},  # a question needs an answer
        {"step": "greet", "seq": "1", "action": "next"},  # not the current step (double submit)
        {"step": "collect", "seq": "2", "action": "next"},  # a step that is not current
        {"step": "ask-package", "seq": "abc", "answer": "0"},
        {"step": "ask-package", "seq": "2", "action": "explode"},
        {"step": "ask-package", "seq": "2", "action": "next", "check": ["²", "x"]},
        {},
    ]
    for data in cases:
        response = client.post(url, data, follow=True)
        assert response.status_code == 200, data
        html = response.content.decode()
        assert 'class="message message-warning"' in html, data
        assert "外包装是否完好？" in html, data  # the current step is shown again
    assert logged(run) == [("greet", "next", "继续")]


def test_double_submit_records_one_event(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    page = client.get(reverse("procedures:run", args=[run.pk]))
    data = {**form_state(page), "action": "next"}
    url = reverse("procedures:move", args=[run.pk])
    first = client.post(url, data)
    second = client.post(url, data, follow=True)
    assert first.status_code == 302 and second.status_code == 200
    assert "已经处理过了" in second.content.decode()
    assert logged(run) == [("greet", "next", "继续")]


def test_invalid_inputs_are_shown_without_logging(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    step(client, run, action="next")
    step(client, run, answer="0")
    response = step(client, run, expect_status=400, action="next", **{"v-订单号": "A1", "v-少货金额": "三十"})
    html = response.content.decode()
    assert "请填写数字" in html and "必填" in html and 'value="A1"' in html
    assert len(logged(run)) == 2
    step(client, run, expect_status=400, action="next")  # nothing filled in: required fields
    assert len(logged(run)) == 2


def test_checklist_must_be_ticked(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    step(client, run, action="next")
    step(client, run, answer="0")
    step(client, run, action="next", **{"v-订单号": "A1", "v-商品名称": "杯", "v-少货金额": "30"})
    response = step(client, run, expect_status=400, action="next", check=["0", "2"])
    assert "请先勾选：已看物流单称重" in response.content.decode()
    assert len(logged(run)) == 3


def test_finished_run_shows_the_summary_and_refuses_moves(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    supervisors = Group.objects.get(name="主管")
    step(client, run, action="transfer", confirm="1", reason="转物流组", handoff_group=str(supervisors.pk))
    run.refresh_from_db()
    assert run.outcome == "已转接"
    response = client.post(
        reverse("procedures:move", args=[run.pk]),
        {"step": "greet", "seq": "2", "action": "next"},
        follow=True,
    )
    html = response.content.decode()
    assert "本次流程已经结束（已转接），不能再操作。" in html and "结果：已转接" in html
    assert logged(run) == [("greet", "transfer", "已转接")]


def test_back_via_http(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    step(client, run, action="next")
    step(client, run, answer="0")
    step(client, run, action="back")
    page = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    assert "外包装是否完好？" in page and "第 2 步" in page
    assert [e[1] for e in logged(run)] == ["next", "answer", "back"]


def test_other_users_cannot_see_or_move_a_run(client, agent, other_agent, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    login(client, other_agent)
    assert client.get(reverse("procedures:run", args=[run.pk])).status_code == 404
    response = client.post(
        reverse("procedures:move", args=[run.pk]), {"step": "greet", "seq": "1", "action": "next"}
    )
    assert response.status_code == 404
    assert logged(run) == []


@pytest.mark.parametrize(
    "who, status", [("agent", 200), ("supervisor", 200), ("other_agent", 404), ("trainer", 404)]
)
def test_run_json_access(client, request, who, status, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item, ref="T-9")
    step(client, run, action="next")
    login(client, request.getfixturevalue(who))
    response = client.get(reverse("procedures:run_json", args=[run.pk]))
    assert response.status_code == status
    if status == 200:
        data = json.loads(response.content)
        assert data["ref"] == "T-9" and data["agent"] == "agent" and data["status"] == "in_progress"
        assert data["procedure"]["revision"] == run.revision_id
        assert [e["step"] for e in data["events"]] == ["greet"] and "【单号】T-9" in data["summary"]


def test_anonymous_users_are_sent_to_login(client, missing_item):
    response = client.get(reverse("procedures:my_runs"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_home_lists_unfinished_runs_to_resume(client, agent, missing_item):
    from datetime import timedelta

    from django.utils import timezone

    login(client, agent)
    open_run = start(client, missing_item, ref="OPEN-1")
    stale = start(client, missing_item, ref="STALE-1")
    done = start(client, missing_item, ref="DONE-1")
    step(client, done, action="give_up", confirm="1", reason="客户挂断")
    ProcedureRun.objects.filter(pk=stale.pk).update(last_activity_at=timezone.now() - timedelta(days=1))
    html = client.get("/").content.decode()
    assert "未完成的流程" in html and open_run.get_absolute_url() in html
    assert stale.get_absolute_url() not in html and done.get_absolute_url() not in html
    html = client.get(reverse("procedures:my_runs")).content.decode()
    assert html.count("已中断") == 1  # the idle run is shown abandoned


def test_pages_and_reports_write_nothing_on_get(client, agent, supervisor, missing_item):
    """Idle runs are shown abandoned; only the scheduled command writes that."""
    from datetime import timedelta

    from django.utils import timezone

    login(client, agent)
    stale = start(client, missing_item, ref="STALE-1")
    start(client, missing_item, ref="OPEN-1")
    ProcedureRun.objects.filter(pk=stale.pk).update(last_activity_at=timezone.now() - timedelta(days=1))

    def rows():
        return list(ProcedureRun.objects.order_by("pk").values())

    before = rows()
    assert client.get("/").status_code == 200
    assert client.get(reverse("procedures:my_runs")).status_code == 200
    assert client.get(reverse("procedures:run", args=[stale.pk])).status_code == 200
    login(client, supervisor)
    for name in ["runs", "stats", "agents", "abandonment", "paths"]:
        assert client.get(reverse(f"procedures_{name}:index")).status_code == 200, name
    assert rows() == before


def test_a_bad_value_at_start_is_shown_and_starts_nothing(client, agent, missing_item):
    login(client, agent)
    response = client.post(
        reverse("procedures:start", args=[missing_item.pk]),
        {"v-客户称呼": "王女士", "v-少货金额": "很多", "ref": "CALL-7"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "请填写数字" in html and 'value="王女士"' in html and 'value="CALL-7"' in html
    assert not ProcedureRun.objects.exists()


def test_new_hires_default_to_practice(client, newhire, missing_item):
    login(client, newhire)
    html = client.get(missing_item.url).content.decode()
    assert 'name="practice" value="1" checked' in html
    run = start(client, missing_item, practice="1")
    assert run.practice


def test_admin_preview_shows_the_overview(client, missing_item):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(admin)
    response = client.get(reverse("wagtailadmin_pages:view_draft", args=[missing_item.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and 'class="flow-map"' in html and "预览中不能开始运行" in html
    assert client.get(reverse("wagtailadmin_pages:edit", args=[missing_item.pk])).status_code == 200


def test_a_procedure_with_runs_cannot_be_deleted(client, agent, missing_item):
    from django.contrib.auth import get_user_model

    from procedures.models import ProcedurePage

    login(client, agent)
    start(client, missing_item)
    admin = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(admin)
    response = client.post(reverse("wagtailadmin_pages:delete", args=[missing_item.pk]))
    assert response.status_code == 302
    assert ProcedurePage.objects.filter(pk=missing_item.pk).exists()
    section = missing_item.get_parent()
    client.post(reverse("wagtailadmin_pages:delete", args=[section.pk]))
    assert ProcedurePage.objects.filter(pk=missing_item.pk).exists()


def test_bulk_delete_keeps_a_procedure_with_runs_and_users_with_runs_are_kept(client, agent, missing_item):
    """The bulk delete (pages, users) and the single user delete were 500s (ProtectedError): refused with a
    message, nothing deleted."""
    from django.contrib.auth import get_user_model

    from procedures.models import ProcedurePage

    login(client, agent)
    start(client, missing_item)
    admin = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(admin)
    bulk_pages = reverse("wagtail_bulk_action", args=["wagtailcore", "page", "delete"])
    response = client.post(f"{bulk_pages}?id={missing_item.pk}&next=https://evil.example/", follow=True)
    assert response.status_code == 200
    assert "不能删除" in response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/admin/")
    assert ProcedurePage.objects.filter(pk=missing_item.pk).exists()

    response = client.post(reverse("wagtailusers_users:delete", args=[agent.pk]), follow=True)
    assert response.status_code == 200 and "已有流程记录，不能删除" in response.content.decode()
    bulk_users = reverse("wagtail_bulk_action", args=["auth", "user", "delete"])
    response = client.post(f"{bulk_users}?id={agent.pk}", follow=True)
    assert response.status_code == 200 and "不能删除" in response.content.decode()
    assert get_user_model().objects.filter(pk=agent.pk).exists()


def test_admin_shows_graph_errors_on_the_offending_step(client, missing_item):
    """Posting the admin form with a broken arrow: the page is not saved and the step carries the error."""
    from django.contrib.auth import get_user_model
    from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

    from procedures.models import ProcedurePage

    def empty_list():
        return {"count": "0"}

    admin = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(admin)
    section = missing_item.get_parent()
    data = nested_form_data(
        {
            "title": "坏流程",
            "slug": "broken-flow",
            "when_to_use": "测试",
            "expected_minutes": "",
            "tags": "",
            "outcomes": "",
            "related_articles": inline_formset([]),
            "variables": streamfield([]),
            "steps": streamfield(
                [
                    (
                        "instruction",
                        {
                            "key": "greet",
                            "title": "问候",
                            "text": rich_text(""),
                            "phrasings": empty_list(),
                            "follow_ups": empty_list(),
                            "checklist": empty_list(),
                            "next": "nowhere",
                        },
                    ),
                    (
                        "outcome",
                        {
                            "key": "done",
                            "title": "完成",
                            "outcome": "已解决",
                            "text": rich_text(""),
                            "phrasings": empty_list(),
                            "follow_ups": empty_list(),
                        },
                    ),
                ]
            ),
            "maintainer": "",
            "last_reviewed": "2026-11-01",
            "review_interval_days": "180",
            "comments": inline_formset([]),
        }
    )
    url = reverse("wagtailadmin_pages:add", args=["procedures", "procedurepage", section.pk])
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, not a redirect
    assert not ProcedurePage.objects.filter(slug="broken-flow").exists()
    # The StreamField's error data, as the admin's JavaScript receives it: on step 0's "next" field.
    errors = {"blockErrors": {"0": {"blockErrors": {"next": {"messages": ["下一步“nowhere”不存在。"]}}}}}
    expected = json.dumps(errors)
    assert expected in html.unescape(response.content.decode())
