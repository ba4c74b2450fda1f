"""跟进统计 and 不满意原因: their figures on a small constructed set, per dimension; a real XLSX that
openpyxl opens; supervisors only. And the 跟进与回访 admin menu: who keeps the calendar and the leads."""

import datetime
import io

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from followups.choices import Status
from followups.models import FollowUp, GroupLead, WorkCalendarDay
from followups.reports import follow_up_stats
from procedures.models import ProcedureRun
from procedures.runs import start_run

pytestmark = pytest.mark.django_db

STATS = "followups_stats:index"
UNHAPPY = "followups_dissatisfaction:index"
T0 = timezone.now().replace(microsecond=0) - datetime.timedelta(days=10)
HOUR = datetime.timedelta(hours=1)


def xlsx_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def follow_ups(agent, other_agent, missing_item):
    """Five follow-ups of one call that ended at T0: two callbacks closed by 小王 (on time and 满意; late
    and 不满意), one open callback of 小李 past its due time, one escalation not due yet, one cancelled."""
    run = start_run(missing_item, agent, variables={"客户称呼": "王女士"})
    ProcedureRun.objects.filter(pk=run.pk).update(finished_at=T0)
    work_run = start_run(missing_item, agent, variables={"客户称呼": "王女士"})
    ProcedureRun.objects.filter(pk=work_run.pk).update(ending_reason="客户坚持要求全额退款")
    team = Group.objects.get_or_create(name="售后组")[0]
    due = T0 + 48 * HOUR

    def make(title, assignee, kind="callback", due_at=due, **fields):
        return FollowUp.objects.create(
            kind=kind,
            title=title,
            source_run=run,
            assignee=assignee,
            due_at=due_at,
            original_due_at=due_at,
            created_at=T0,
            **fields,
        )

    make(
        "回访一", agent, status=Status.DONE, closed_at=T0 + 24 * HOUR, satisfaction="满意", result="回访满意"
    )
    make(
        "回访二",
        agent,
        status=Status.DONE,
        closed_at=T0 + 50 * HOUR,
        satisfaction="不满意",
        result="回访不满意",
        notes="客户嫌退款太慢",
        work_run=work_run,
        group=team,
    )
    make("回访三", other_agent, group=team)
    make("升级", other_agent, kind="escalation", due_at=timezone.now() + 24 * HOUR)
    make("取消的", agent, status=Status.CANCELLED, closed_at=T0 + HOUR)


def figures(rows):
    return {
        row.label: (
            row.total,
            row.closed,
            row.completion,
            row.on_time,
            row.satisfaction,
            row.unhappy,
            row.median_hours,
        )
        for row in rows
    }


def test_figures_per_kind_and_agent(follow_ups):
    assert figures(follow_up_stats(FollowUp.objects.all(), by="kind")) == {
        # 3 callbacks (the cancelled one left out): 2 closed, 1 of the 3 due by now closed on time,
        # 1 满意 of 2 answers, 1 不满意; hours from the call to the close: 24 and 50.
        "回访": (3, 2, 66.7, 33.3, 50.0, 1, 37.0),
        "升级": (1, 0, 0.0, None, None, 0, None),
    }
    assert figures(follow_up_stats(FollowUp.objects.all(), by="agent")) == {
        "小王": (2, 2, 100.0, 50.0, 50.0, 1, 37.0),
        "小李": (2, 0, 0.0, 0.0, None, 0, None),
    }
    by_group = figures(follow_up_stats(FollowUp.objects.all(), by="group"))
    assert by_group["售后组"][:2] == (2, 1) and by_group["—"][:2] == (2, 1)
    assert list(figures(follow_up_stats(FollowUp.objects.all(), by="procedure"))) == ["少货处理"]


def test_stats_report_by_agent_exports_xlsx(client, supervisor, follow_ups):
    client.force_login(supervisor)
    response = client.get(reverse(STATS))
    assert response.status_code == 200 and "66.7%" in response.content.decode()
    rows = xlsx_rows(client.get(reverse(STATS), {"by": "agent", "export": "xlsx"}))
    assert rows[0] == [
        "处理人",
        "跟进数",
        "已关闭",
        "完成率（%）",
        "按时率（%）",
        "满意率（%）",
        "有满意度",
        "不满意/未解决",
        "处理时长中位数（小时）",
    ]
    by_agent = {row[0]: row[1:] for row in rows[1:]}
    assert by_agent["小王"] == [2, 2, 100, 50, 50, 2, 1, 37]
    assert by_agent["小李"] == [2, 0, 0, 0, None, 0, 0, None]


def test_dissatisfaction_report_lists_the_unhappy_with_what_was_said(client, supervisor, follow_ups):
    FollowUp.objects.filter(title="回访三").update(result="问题未解决", status=Status.DONE, closed_at=T0)
    client.force_login(supervisor)
    response = client.get(reverse(UNHAPPY))
    assert response.status_code == 200
    assert [f.title for f in response.context["object_list"]] == ["回访二", "回访三"]
    rows = xlsx_rows(client.get(reverse(UNHAPPY), {"export": "xlsx"}))
    heading = rows[0]
    unhappy = dict(zip(heading, rows[1], strict=True))
    assert unhappy["事项"] == "回访二" and unhappy["处理人"] == "小王" and unhappy["满意度"] == "不满意"
    assert unhappy["处理备注"] == "客户嫌退款太慢"
    assert unhappy["处理运行的结束原因"] == "客户坚持要求全额退款"
    assert unhappy["来源流程"] == "少货处理"
    assert unhappy["关闭时间"] == timezone.localtime(T0 + 50 * HOUR).replace(tzinfo=None)


@pytest.mark.parametrize("role", ["agent", "trainer", "newhire"])
def test_reports_are_for_supervisors(client, request, role, follow_ups):
    client.force_login(request.getfixturevalue(role))
    for name in (STATS, UNHAPPY):
        response = client.get(reverse(name), {"export": "xlsx"})
        assert response.status_code in (302, 403)


def test_trainers_keep_the_calendar_supervisors_the_leads(client, trainer, supervisor, agent):
    client.force_login(trainer)
    calendar = reverse("wagtailsnippets_followups_workcalendarday:list")
    leads = reverse("wagtailsnippets_followups_grouplead:list")
    response = client.post(
        reverse("wagtailsnippets_followups_workcalendarday:add"),
        {"date": "2027-02-06", "is_workday": "on", "note": "2027 年春节调休"},
    )
    assert response.status_code == 302
    assert WorkCalendarDay.objects.get().is_workday
    assert client.get(calendar).status_code == 200
    assert client.get(leads).status_code in (302, 403)

    client.force_login(supervisor)
    group = Group.objects.get(name="坐席")
    response = client.post(
        reverse("wagtailsnippets_followups_grouplead:add"), {"group": group.pk, "user": supervisor.pk}
    )
    assert response.status_code == 302
    assert GroupLead.objects.get().group == group
    assert "张主管" in client.get(leads, {"q": "坐席"}).content.decode()

    client.force_login(agent)
    assert client.get(calendar).status_code in (302, 403)
