"""The sweep: due-soon, overdue and escalation notices at the right times (an explicit ``now``), once
each; email to users with an address; one summary POST per sweep to a group robot served by a local
HTTP server; a robot that fails stops nothing; the command and the task run it."""

import datetime
import http.server
import json
import threading

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from followups import sweep as sweeping
from followups.choices import NoticeKind, Status
from followups.models import FollowUp, FollowUpSettings, GroupLead, Notice
from followups.tasks import sweep_follow_ups
from procedures.runs import start_run

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 0))
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def source_run(agent, missing_item):
    return start_run(missing_item, agent, variables={"客户称呼": "王女士"})


@pytest.fixture
def make_follow_up(source_run, agent):
    def make(due, assignee=agent, group=None, title="回访退款结果", **fields):
        return FollowUp.objects.create(
            kind="callback",
            title=title,
            source_run=source_run,
            assignee=assignee,
            group=group,
            due_at=due,
            original_due_at=due,
            created_at=NOW - 24 * HOUR,
            **fields,
        )

    return make


@pytest.fixture
def team(missing_item):
    """售后组 (the demo 少货处理 names it in a rule, so loading it creates the group)."""
    return Group.objects.get_or_create(name="售后组")[0]


@pytest.fixture
def lead(supervisor, agent, team):
    """The 售后组 lead (张主管); the agent is a member of the group."""
    agent.groups.add(team)
    GroupLead.objects.create(group=team, user=supervisor)
    return supervisor


def notices(**filters):
    return sorted(Notice.objects.filter(**filters).values_list("user__username", "kind", "level"))


@pytest.fixture
def robot():
    """A group robot on 127.0.0.1: the JSON bodies it was posted; ``robot.status`` is what it answers."""
    bodies = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(server.status)
            self.end_headers()
            self.wfile.write(b'{"errcode":0}')

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    server.status = 200
    server.bodies = bodies
    server.url = f"http://127.0.0.1:{server.server_port}/cgi-bin/webhook/send?key=test"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings = FollowUpSettings.load()
    settings.webhook_url = server.url
    settings.save()
    yield server
    server.shutdown()
    server.server_close()


def test_due_soon_is_sent_once_within_the_window(make_follow_up, agent):
    soon = make_follow_up(NOW + HOUR)
    make_follow_up(NOW + 3 * HOUR, title="还早")
    counts = sweeping.sweep(now=NOW)
    assert counts["due_soon"] == 1
    assert notices() == [("agent", NoticeKind.DUE_SOON, 0)]
    assert Notice.objects.get().follow_up == soon
    assert sweeping.sweep(now=NOW + datetime.timedelta(minutes=1))["due_soon"] == 0
    assert Notice.objects.count() == 1


def test_due_soon_window_follows_the_setting(make_follow_up):
    make_follow_up(NOW + 3 * HOUR)
    settings = FollowUpSettings.load()
    settings.due_soon_minutes = 240
    settings.save()
    assert sweeping.sweep(now=NOW)["due_soon"] == 1


def test_a_groups_follow_up_without_assignee_reminds_the_lead(make_follow_up, lead, team):
    make_follow_up(NOW + HOUR, assignee=None, group=team)
    sweeping.sweep(now=NOW)
    assert notices() == [("supervisor", NoticeKind.DUE_SOON, 0)]


def test_overdue_tells_the_assignee_and_escalates_to_the_lead_at_due_time_then_again(make_follow_up, lead):
    follow_up = make_follow_up(NOW)
    assert sweeping.sweep(now=NOW - datetime.timedelta(minutes=1))["overdue"] == 0  # due soon only

    counts = sweeping.sweep(now=NOW)
    assert (counts["overdue"], counts["escalated"], counts["escalated_again"]) == (1, 1, 0)
    follow_up.refresh_from_db()
    assert (follow_up.escalation_level, follow_up.last_escalated_at) == (1, NOW)
    assert notices(kind__in=[NoticeKind.OVERDUE, NoticeKind.ESCALATED]) == [
        ("agent", NoticeKind.OVERDUE, 0),
        ("supervisor", NoticeKind.ESCALATED, 1),
    ]

    # Idempotent: the same moment or an hour later sends nothing new.
    for later in (NOW, NOW + HOUR, NOW + 23 * HOUR):
        counts = sweeping.sweep(now=later)
        assert counts == dict.fromkeys(counts, 0)

    counts = sweeping.sweep(now=NOW + 24 * HOUR)
    assert (counts["overdue"], counts["escalated"], counts["escalated_again"]) == (0, 0, 1)
    assert sweeping.sweep(now=NOW + 25 * HOUR)["escalated_again"] == 0
    assert sweeping.sweep(now=NOW + 48 * HOUR)["escalated_again"] == 1
    follow_up.refresh_from_db()
    assert follow_up.escalation_level == 3
    assert notices(kind=NoticeKind.ESCALATED) == [
        ("supervisor", NoticeKind.ESCALATED, level) for level in (1, 2, 3)
    ]


def test_escalate_again_follows_the_setting(make_follow_up, lead):
    make_follow_up(NOW)
    settings = FollowUpSettings.load()
    settings.escalate_again_hours = 4
    settings.save()
    sweeping.sweep(now=NOW)
    assert sweeping.sweep(now=NOW + 3 * HOUR)["escalated_again"] == 0
    assert sweeping.sweep(now=NOW + 4 * HOUR)["escalated_again"] == 1


def test_the_follow_ups_group_lead_comes_before_the_assignees(make_follow_up, lead, other_agent, team):
    escalation_group = Group.objects.create(name="投诉组")
    GroupLead.objects.create(group=escalation_group, user=other_agent)
    make_follow_up(NOW - HOUR, group=escalation_group)
    make_follow_up(NOW - HOUR, title="本组")
    sweeping.sweep(now=NOW)
    assert notices(kind=NoticeKind.ESCALATED) == [
        ("agent2", NoticeKind.ESCALATED, 1),
        ("supervisor", NoticeKind.ESCALATED, 1),
    ]


def test_closed_follow_ups_and_nobody_to_tell(make_follow_up, agent):
    make_follow_up(NOW - HOUR, status=Status.DONE, closed_at=NOW - 2 * HOUR)
    make_follow_up(NOW + HOUR, status=Status.CANCELLED)
    unled = make_follow_up(NOW - HOUR, title="无组长")
    counts = sweeping.sweep(now=NOW)
    # No lead anywhere: the follow-up still moves up a level, only its assignee hears of it.
    assert (counts["overdue"], counts["escalated"], counts["escalations"]) == (1, 0, 1)
    unled.refresh_from_db()
    assert unled.escalation_level == 1
    assert notices() == [("agent", NoticeKind.OVERDUE, 0)]


def test_email_goes_to_users_with_an_address_one_per_sweep(make_follow_up, agent, lead):
    agent.email = "xiaowang@example.com"
    agent.save()
    make_follow_up(NOW - HOUR, title="回访一")
    make_follow_up(NOW - HOUR, title="回访二")
    sweeping.sweep(now=NOW)
    # The lead has no address: the agent's two overdue notices come in one message.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["xiaowang@example.com"]
    assert "2 条" in message.subject
    assert "【已超时】回访：回访一" in message.body and "回访二" in message.body
    sweeping.sweep(now=NOW + HOUR)
    assert len(mail.outbox) == 1


def test_one_notice_is_emailed_as_it_is(make_follow_up, agent):
    agent.email = "xiaowang@example.com"
    agent.save()
    make_follow_up(NOW + HOUR)
    sweeping.sweep(now=NOW)
    assert [m.subject for m in mail.outbox] == ["【即将到期】回访：回访退款结果（到期 03-02 11:00）"]


def test_the_robot_gets_one_summary_post_per_sweep(make_follow_up, lead, robot):
    make_follow_up(NOW - HOUR)
    counts = sweeping.sweep(now=NOW)
    assert (counts["overdue"], counts["escalated"]) == (1, 1)
    assert len(robot.bodies) == 1
    body = robot.bodies[0]
    assert body["msgtype"] == "text"
    lines = body["text"]["content"].split("\n")
    assert lines[0] == "【跟进提醒】2 条"
    assert "【已超时】回访：回访退款结果（到期 03-02 09:00） → 小王" in lines
    assert "【升级给我】回访：回访退款结果（到期 03-02 09:00） → 张主管" in lines
    sweeping.sweep(now=NOW + HOUR)
    assert len(robot.bodies) == 1  # nothing new, nothing posted


def test_many_notices_make_one_capped_post(make_follow_up, robot):
    for number in range(30):
        make_follow_up(NOW - HOUR, title=f"回访 {number}")
    assert sweeping.sweep(now=NOW)["overdue"] == 30
    assert len(robot.bodies) == 1
    content = robot.bodies[0]["text"]["content"]
    lines = content.split("\n")
    assert lines[0] == "【跟进提醒】30 条" and lines[-1] == "等 30 条"
    assert len(lines) - 2 <= sweeping.WEBHOOK_LINES
    assert len(content.encode()) <= 2048


def test_a_failing_robot_does_not_stop_the_sweep(make_follow_up, agent, lead, robot):
    agent.email = "xiaowang@example.com"
    agent.save()
    robot.status = 500
    make_follow_up(NOW - HOUR)
    counts = sweeping.sweep(now=NOW)
    assert (counts["overdue"], counts["escalated"]) == (1, 1)
    assert len(robot.bodies) == 1 and len(mail.outbox) == 1
    # A robot nobody answers at all (the port closed) neither.
    robot.shutdown()
    robot.server_close()
    make_follow_up(NOW + 24 * HOUR, title="明天")
    assert sweeping.sweep(now=NOW + 23 * HOUR)["due_soon"] == 1


def test_the_command_runs_the_sweep_or_queues_the_task(make_follow_up, capsys):
    make_follow_up(NOW - HOUR)
    call_command("followup_sweep")
    assert "overdue=1" in capsys.readouterr().out
    assert notices() == [("agent", NoticeKind.OVERDUE, 0)]
    make_follow_up(NOW - HOUR, title="再来一个")
    call_command("followup_sweep", "--enqueue")  # tests run tasks immediately
    assert "queued" in capsys.readouterr().out
    assert Notice.objects.filter(kind=NoticeKind.OVERDUE).count() == 2


def test_the_task_runs_the_sweep(make_follow_up):
    make_follow_up(NOW - HOUR)
    result = sweep_follow_ups.enqueue()
    assert result.return_value["overdue"] == 1
    assert sweep_follow_ups.enqueue().return_value["overdue"] == 0
