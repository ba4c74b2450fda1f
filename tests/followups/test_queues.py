"""The follow-up pages: each queue and filter, who sees what, masked phone numbers, reassigning one or
many, refusals (another group's follow-up, a doubled close, a tampered time), the inbox and the header."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from followups.choices import Status
from followups.models import FollowUp, FollowUpAttempt, Notice
from procedures.runs import start_run
from tests.factories import make_user

pytestmark = pytest.mark.django_db

QUEUE = reverse("followups:queue")
PHONE = "13812345678"


@pytest.fixture
def source_run(agent, missing_item):
    return start_run(missing_item, agent, variables={"客户称呼": "王女士"})


@pytest.fixture
def make(source_run):
    def make(title, due_in_hours=24, **fields):
        due = timezone.now() + timezone.timedelta(hours=due_in_hours)
        fields.setdefault("customer", {"客户称呼": "王女士", "手机号": PHONE})
        return FollowUp.objects.create(
            kind=fields.pop("kind", "callback"),
            title=title,
            source_run=source_run,
            due_at=due,
            original_due_at=due,
            **fields,
        )

    return make


def titles(response):
    return [f.title for f in response.context["follow_ups"]]


def login(client, user):
    client.force_login(user)
    return client


def test_agents_see_their_own_and_their_groups_follow_ups_only(
    client, agent, other_agent, aftersales_group, make
):
    agent.groups.add(aftersales_group)
    make("我的回访", assignee=agent)
    make("售后组的", group=aftersales_group)
    make("别人的", assignee=other_agent)
    login(client, agent)
    assert titles(client.get(QUEUE)) == ["我的回访"]
    assert titles(client.get(QUEUE, {"queue": "mine"})) == ["我的回访"]
    assert titles(client.get(QUEUE, {"queue": "group"})) == ["售后组的"]
    assert sorted(titles(client.get(QUEUE, {"queue": "today", "status": ""}))) == []
    assert client.get(QUEUE, {"queue": "all"}).status_code == 403
    other = FollowUp.objects.get(title="别人的")
    assert client.get(reverse("followups:detail", args=[other.pk])).status_code == 404


def test_new_hires_have_no_follow_ups(client, newhire, make):
    make("回访", assignee=newhire)
    login(client, newhire)
    assert client.get(QUEUE).status_code == 403
    follow_up = FollowUp.objects.get()
    assert client.get(reverse("followups:detail", args=[follow_up.pk])).status_code == 403
    response = client.get("/inbox/")
    assert "我的跟进" not in response.content.decode()


def test_supervisors_see_all_and_their_group(client, supervisor, agent, make):
    make("坐席的", assignee=agent)
    make("主管组的", group=Group.objects.get(name="主管"), kind="escalation")
    login(client, supervisor)
    assert titles(client.get(QUEUE, {"queue": "all"})) == ["坐席的", "主管组的"]
    assert titles(client.get(QUEUE, {"queue": "group"})) == ["主管组的"]
    assert titles(client.get(QUEUE)) == []


def test_due_queues_today_soon_and_overdue(client, agent, make):
    local_now = timezone.localtime()
    hours_left_today = 24 - local_now.hour - local_now.minute / 60
    make("已超时", due_in_hours=-1, assignee=agent)
    make("一小时后", due_in_hours=1, assignee=agent)
    make("三天后", due_in_hours=72, assignee=agent)
    make("已完成的超时", due_in_hours=-2, assignee=agent, status=Status.DONE)
    login(client, agent)
    assert titles(client.get(QUEUE, {"queue": "overdue"})) == ["已超时"]
    assert titles(client.get(QUEUE, {"queue": "soon"})) == ["一小时后"]
    today = titles(client.get(QUEUE, {"queue": "today"}))
    assert "三天后" not in today and "已完成的超时" not in today
    if hours_left_today > 1.1:
        assert "一小时后" in today
    # Sorted by due time; closed ones only when asked for.
    assert titles(client.get(QUEUE)) == ["已超时", "一小时后", "三天后"]
    assert titles(client.get(QUEUE, {"status": "done"})) == ["已完成的超时"]


def test_filters_kind_procedure_section_assignee_status(
    client, supervisor, agent, other_agent, make, missing_item, callback_procedure
):
    section = missing_item.get_parent().specific
    make("回访", assignee=agent, section=section)
    make("重办", kind="redo", assignee=other_agent)
    make("进行中", assignee=agent, status=Status.IN_PROGRESS)
    login(client, supervisor)
    assert titles(client.get(QUEUE, {"queue": "all", "kind": "redo"})) == ["重办"]
    assert titles(client.get(QUEUE, {"queue": "all", "assignee": other_agent.pk})) == ["重办"]
    assert titles(client.get(QUEUE, {"queue": "all", "section": section.pk})) == ["回访"]
    assert titles(client.get(QUEUE, {"queue": "all", "status": "in_progress"})) == ["进行中"]
    assert len(titles(client.get(QUEUE, {"queue": "all", "procedure": missing_item.pk}))) == 3
    assert titles(client.get(QUEUE, {"queue": "all", "procedure": callback_procedure.pk})) == []
    # A tampered filter is left out and said so; the others still apply.
    response = client.get(QUEUE, {"queue": "all", "kind": "redo", "assignee": "999999"})
    assert titles(response) == ["重办"] and "已忽略" in response.content.decode()


def test_the_queue_is_paged_by_fifty(client, agent, make):
    for n in range(51):
        make(f"回访 {n:02d}", due_in_hours=n + 1, assignee=agent)
    login(client, agent)
    assert len(titles(client.get(QUEUE))) == 50
    assert titles(client.get(QUEUE, {"page": 2})) == ["回访 50"]


def test_phone_numbers_are_masked_in_lists_and_full_on_the_detail(client, agent, make):
    follow_up = make("回访", assignee=agent)
    login(client, agent)
    listing = client.get(QUEUE).content.decode()
    assert "138****5678" in listing and PHONE not in listing
    detail = client.get(follow_up.get_absolute_url()).content.decode()
    assert PHONE in detail


def test_a_supervisor_reassigns_one_or_many(client, supervisor, agent, other_agent, make):
    first, second = make("一", assignee=agent), make("二", assignee=agent)
    closed = make("已关闭", assignee=agent, status=Status.DONE)
    login(client, supervisor)
    response = client.post(
        reverse("followups:reassign"),
        {"follow_ups": [first.pk, second.pk, closed.pk], "user": other_agent.pk},
    )
    assert response.status_code == 302
    assert set(FollowUp.objects.filter(assignee=other_agent).values_list("title", flat=True)) == {"一", "二"}
    assert other_agent.notices.filter(kind="assigned").count() == 2
    group = Group.objects.get(name="主管")
    client.post(reverse("followups:reassign"), {"follow_ups": [first.pk], "group": group.pk})
    first.refresh_from_db()
    assert (first.assignee, first.group) == (None, group)


def test_reassigning_is_refused_for_agents_and_to_new_hires(client, supervisor, agent, newhire, make):
    follow_up = make("回访", assignee=agent)
    login(client, agent)
    assert (
        client.post(
            reverse("followups:reassign"), {"follow_ups": [follow_up.pk], "user": agent.pk}
        ).status_code
        == 403
    )
    login(client, supervisor)
    response = client.post(
        reverse("followups:reassign"), {"follow_ups": [follow_up.pk], "user": newhire.pk}, follow=True
    )
    assert "不能处理跟进" in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.assignee == agent and not newhire.notices.exists()
    response = client.post(reverse("followups:reassign"), {"follow_ups": [follow_up.pk]}, follow=True)
    assert "请选择交给谁" in response.content.decode()


def test_an_attempt_is_logged_and_another_groups_follow_up_is_refused(
    client, agent, other_agent, aftersales_group, make
):
    mine = make("我的", assignee=agent)
    theirs = make("售后组的", group=aftersales_group)
    login(client, agent)
    response = client.post(
        reverse("followups:attempt", args=[mine.pk]), {"result": "no_answer", "note": "没人接", "seen": 0}
    )
    assert response.status_code == 302
    attempt = FollowUpAttempt.objects.get()
    assert (attempt.result, attempt.note, attempt.user) == ("no_answer", "没人接", agent)
    response = client.post(reverse("followups:attempt", args=[theirs.pk]), {"result": "no_answer", "seen": 0})
    assert response.status_code == 404 and FollowUpAttempt.objects.count() == 1


def test_a_doubled_attempt_and_an_unknown_result_are_refused(client, agent, make):
    follow_up = make("回访", assignee=agent)
    login(client, agent)
    url = reverse("followups:attempt", args=[follow_up.pk])
    client.post(url, {"result": "answered", "seen": 0})
    again = client.post(url, {"result": "answered", "seen": 0})
    assert again.status_code == 400 and "已经提交过了" in again.content.decode()
    assert 'name="seen" value="1"' in again.content.decode()  # the page shown again may be posted
    unknown = client.post(url, {"result": "hacked", "seen": 1})
    assert unknown.status_code == 400 and "无法识别的联系结果" in unknown.content.decode()
    assert FollowUpAttempt.objects.count() == 1


@pytest.mark.parametrize(
    "value, message",
    [
        ("2001-01-01T10:00", "约定时间要晚于现在"),
        ("2999-01-01T10:00", "不能超过 90 天"),
        ("明天下午", "格式不对"),
        ("", "请填写约定的时间"),
    ],
)
def test_a_tampered_reschedule_time_is_refused(client, agent, make, value, message):
    follow_up = make("回访", assignee=agent)
    login(client, agent)
    response = client.post(
        reverse("followups:attempt", args=[follow_up.pk]),
        {"result": "reschedule", "next_at": value, "seen": 0},
    )
    assert response.status_code == 400 and message in response.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.due_at == follow_up.original_due_at and not FollowUpAttempt.objects.exists()


def test_rescheduling_keeps_the_original_due_time(client, agent, make):
    follow_up = make("回访", assignee=agent)
    original = follow_up.original_due_at
    later = timezone.localtime() + timezone.timedelta(days=3)
    login(client, agent)
    client.post(
        reverse("followups:attempt", args=[follow_up.pk]),
        {"result": "reschedule", "next_at": later.strftime("%Y-%m-%dT%H:%M"), "seen": 0},
    )
    follow_up.refresh_from_db()
    assert follow_up.original_due_at == original
    assert timezone.localtime(follow_up.due_at).strftime("%Y-%m-%d %H:%M") == later.strftime("%Y-%m-%d %H:%M")
    page = client.get(follow_up.get_absolute_url()).content.decode()
    assert "原定" in page


def test_a_doubled_close_says_who_closed_it(client, agent, supervisor, make):
    follow_up = make("回访", assignee=agent)
    login(client, supervisor)
    url = reverse("followups:close", args=[follow_up.pk])
    client.post(url, {"status": "done", "result": "已电话确认"})
    login(client, agent)
    response = client.post(url, {"status": "done", "result": "再次关闭"}, follow=True)
    assert "已经由张主管标记为已完成" in response.content.decode()
    follow_up.refresh_from_db()
    assert (follow_up.result, follow_up.closed_by) == ("已电话确认", supervisor)


def test_closing_needs_a_result_or_a_reason(client, agent, make):
    follow_up = make("回访", assignee=agent)
    login(client, agent)
    url = reverse("followups:close", args=[follow_up.pk])
    assert "请填写处理结果" in client.post(url, {"status": "done"}).content.decode()
    assert "请填写原因" in client.post(url, {"status": "cancelled"}).content.decode()
    assert client.post(url, {"status": "unreachable", "result": "x"}).status_code == 400
    follow_up.refresh_from_db()
    assert follow_up.status == Status.OPEN
    client.post(url, {"status": "cancelled", "notes": "客户已自行解决"})
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.notes) == (Status.CANCELLED, "客户已自行解决")


def test_starting_work_without_a_procedure_is_refused_with_a_message(client, agent, make):
    follow_up = make("回访", assignee=agent)
    login(client, agent)
    response = client.post(reverse("followups:work", args=[follow_up.pk]), follow=True)
    assert "没有可运行的流程" in response.content.decode()


def test_starting_work_opens_the_procedure_prefilled(client, agent, make, callback_procedure):
    follow_up = make("回访", assignee=agent, procedure=callback_procedure)
    login(client, agent)
    response = client.post(reverse("followups:work", args=[follow_up.pk]))
    follow_up.refresh_from_db()
    assert response.url == follow_up.work_run.get_absolute_url()
    assert follow_up.work_run.variables["客户称呼"] == "王女士"


def test_the_inbox_counts_unread_and_marks_read(client, agent, make):
    first, second = make("一", assignee=agent), make("二", assignee=agent)
    one = Notice.objects.create(user=agent, follow_up=first, kind="assigned")
    Notice.objects.create(user=agent, follow_up=second, kind="overdue")
    Notice.objects.create(user=make_user("坐席", username="agent3"), follow_up=second, kind="assigned")
    login(client, agent)
    response = client.get(reverse("inbox"))
    assert response.context["unread"] == 2 and "🔔 2" in response.content.decode()
    response = client.post(reverse("inbox_read"), {"notice": f"followup-{one.pk}", "open": "1"})
    assert response.url == first.get_absolute_url()
    assert client.get(reverse("inbox")).context["unread"] == 1
    client.post(reverse("inbox_read"))
    assert client.get(reverse("inbox")).context["unread"] == 0
    # Someone else's notice cannot be marked.
    others = Notice.objects.exclude(user=agent).get()
    assert client.post(reverse("inbox_read"), {"notice": f"followup-{others.pk}"}).status_code == 404
    others.refresh_from_db()
    assert others.read_at is None


def test_the_header_shows_my_due_count_and_the_bell(client, agent, newhire, make, home):
    make("超时", due_in_hours=-3, assignee=agent)
    make("三天后", due_in_hours=72, assignee=agent)
    login(client, agent)
    page = client.get(reverse("procedures:my_runs")).content.decode()
    assert "我的跟进 (1)" in page and 'class="header-bell"' in page
    login(client, newhire)
    page = client.get(reverse("procedures:my_runs")).content.decode()
    # The bell is site-wide (kb_site.inbox): new hires have it, without the follow-ups link.
    assert "我的跟进" not in page and 'class="header-bell"' in page


def test_the_home_panel_lists_my_overdue_and_due_today(client, agent, make, home):
    make("超时的回访", due_in_hours=-3, assignee=agent)
    make("下周的回访", due_in_hours=24 * 7, assignee=agent)
    login(client, agent)
    page = client.get(home.url).content.decode()
    assert "超时的回访" in page and "下周的回访" not in page and "138****5678" in page


def test_an_agents_overdue_queue_is_theirs_and_their_groups_untaken_not_a_colleagues(
    client, agent, other_agent, aftersales_group, make
):
    """今日到期 / 即将超时 / 已超时 are what the agent has to do; a colleague's overdue case is in 本组."""
    agent.groups.add(aftersales_group)
    other_agent.groups.add(aftersales_group)
    make("我的超时", due_in_hours=-3, assignee=agent)
    make("组里没人接的", due_in_hours=-2, group=aftersales_group)
    make("同事的超时", due_in_hours=-1, group=aftersales_group, assignee=other_agent)
    make("我的还没到期", due_in_hours=30, assignee=agent)
    login(client, agent)
    assert titles(client.get(QUEUE, {"queue": "overdue"})) == ["我的超时", "组里没人接的"]
    assert titles(client.get(QUEUE, {"queue": "group"})) == ["组里没人接的", "同事的超时"]
    response = client.get(QUEUE, {"queue": "overdue"})
    assert response.context["page_obj"].paginator.count == 2
