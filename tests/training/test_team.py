"""The team pages as each role sees them: the dashboard (all trainees, or a mentor's own), the sign-off
queue, one trainee's progress with manual changes, the reading timeline and licences. Every refused
POST says why in Chinese and writes nothing."""

# The fixtures are imported from fixtures_team (tests/training/conftest.py belongs to the quiz tests):
# a test's argument of the same name is pytest's injection, not a redefinition.
# ruff: noqa: F811

import datetime

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kb_site.content import roles
from tests.factories import ArticlePageFactory, make_user, publish
from training import progress
from training.choices import Status
from training.models import ItemProgress, ProcedureLicence, ReadConfirmation, StatusChange

from .fixtures_team import (  # noqa: F401
    assignment,
    make_path,
    mentor,
    other_assignment,
    path,
    practice_path,
    procedure,
    stage,
)

pytestmark = pytest.mark.django_db

DASHBOARD = "training:dashboard"
QUEUE = "training:sign_off_queue"


def message_texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- who sees what --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["trainer", "supervisor"])
def test_trainers_and_supervisors_see_every_trainee(client, request, role, assignment, other_assignment):
    client.force_login(request.getfixturevalue(role))
    body = client.get(reverse(DASHBOARD)).content.decode()
    assert "小陈" in body and "小李" in body
    assert "全部学员" in body


def test_a_mentor_sees_only_their_mentees(client, mentor, assignment, other_assignment):
    client.force_login(mentor)
    response = client.get(reverse(DASHBOARD))
    assert response.status_code == 200
    body = response.content.decode()
    assert "小陈" in body and "小李" not in body
    assert "我带教的学员" in body
    assert [a.pk for a in response.context["trainees"]] == [assignment.pk]


@pytest.mark.parametrize("role", ["agent", "newhire"])
def test_agents_and_new_hires_are_refused(client, request, role, assignment):
    client.force_login(request.getfixturevalue(role))
    for url in (reverse(DASHBOARD), reverse(QUEUE)):
        response = client.get(url)
        assert response.status_code == 403
        assert "只有带教老师、培训师和主管可以查看" in response.content.decode()
    response = client.get(reverse("training:trainee", args=[assignment.pk]))
    assert response.status_code == 404
    assert "没有找到这个学员的培训" in response.content.decode()


def test_a_mentor_cannot_open_another_mentors_trainee(client, mentor, other_assignment):
    client.force_login(mentor)
    assert client.get(reverse("training:trainee", args=[other_assignment.pk])).status_code == 404
    assert client.get(reverse("training:trainee", args=[987654])).status_code == 404


# --- the dashboard's figures ----------------------------------------------------------------------


def test_dashboard_counts_stages_per_cohort_and_lists_overdue_items(
    client, trainer, newhire, other_agent, path, mentor
):
    from training.models import Cohort

    today = timezone.localdate()
    cohort = Cohort.objects.create(
        name="十一月第一批", path=path, start_date=today - datetime.timedelta(days=10)
    )
    late = progress.assign(newhire, path, start_date=cohort.start_date, mentor=mentor, cohort=cohort)
    progress.assign(other_agent, path, start_date=today)
    client.force_login(trainer)
    response = client.get(reverse(DASHBOARD))
    cohorts = response.context["cohorts"]
    assert [(c["name"], c["total"], c["stages"]) for c in cohorts] == [
        ("十一月第一批", 1, [("业务培训", 1)]),
        ("无批次", 1, [("业务培训", 1)]),
    ]
    overdue = response.context["overdue_rows"]
    assert [(row.title, row.days_late) for row in overdue] == [
        ("熟悉工单系统", 9),
        ("旁听来电", 8),
        ("跟岗 4 小时", 7),
    ]
    assert response.context["overdue_total"] == 3
    rows = {a.pk: a for a in response.context["trainees"]}
    assert rows[late.pk].overdue == 3
    body = response.content.decode()
    assert "逾期项目（3）" in body


def test_dashboard_queries_do_not_grow_with_trainees(client, trainer, path, django_assert_max_num_queries):
    def add_trainees(start, count):
        for n in range(start, start + count):
            user = make_user(roles.NEW_HIRE, username=f"hire{n}", first_name=f"学员{n}")
            progress.assign(user, path, start_date=timezone.localdate() - datetime.timedelta(days=5))

    client.force_login(trainer)
    add_trainees(0, 2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse(DASHBOARD))
    add_trainees(2, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse(DASHBOARD))
    assert len(response.context["trainees"]) == 32


def test_dashboard_pages_the_trainee_list(client, trainer, path):
    for n in range(55):
        progress.assign(make_user(roles.NEW_HIRE, username=f"p{n}"), path)
    client.force_login(trainer)
    assert len(client.get(reverse(DASHBOARD)).context["trainees"]) == 50
    assert len(client.get(reverse(DASHBOARD), {"page": 2}).context["trainees"]) == 5
    assert client.get(reverse(DASHBOARD), {"page": "x" * 40}).status_code == 200


# --- sign-off -------------------------------------------------------------------------------------


def requested(assignment, item_id="i1"):
    row = assignment.items.get(item_id=item_id)
    return progress.request_sign_off(row, assignment.user)


def test_sign_off_flow(client, mentor, assignment):
    row = requested(assignment)
    client.force_login(mentor)
    response = client.get(reverse(QUEUE))
    assert [r.pk for r in response.context["rows"]] == [row.pk]
    assert client.get(reverse(DASHBOARD)).context["queue_count"] == 1

    response = client.post(reverse(QUEUE), {"progress": row.pk, "reason": "  "})
    assert response.status_code == 302
    assert "请填写原因。" in message_texts(response)
    row.refresh_from_db()
    assert row.status == Status.IN_PROGRESS and not StatusChange.objects.exists()

    response = client.post(reverse(QUEUE), {"progress": row.pk, "reason": "跟岗表现合格"})
    row.refresh_from_db()
    assert row.status == Status.SIGNED_OFF
    change = StatusChange.objects.get()
    assert (change.new_status, change.reason, change.changed_by) == (
        Status.SIGNED_OFF,
        "跟岗表现合格",
        mentor,
    )
    assert any("已确认" in text for text in message_texts(response))
    assert client.get(reverse(QUEUE)).context["rows"] == []


def test_a_mentor_cannot_sign_off_another_mentors_trainee(client, mentor, assignment, other_assignment):
    row = requested(other_assignment)
    client.force_login(mentor)
    for bad in (
        {"progress": row.pk, "reason": "合格"},
        {"progress": "abc", "reason": "合格"},
        {"progress": "9" * 30, "reason": "合格"},
        {"reason": "合格"},
    ):
        response = client.post(reverse(QUEUE), bad)
        assert response.status_code == 302
        assert message_texts(response)
    row.refresh_from_db()
    assert row.status == Status.IN_PROGRESS and not StatusChange.objects.exists()


def test_posts_need_the_csrf_token(mentor, assignment):
    row = requested(assignment)
    client = Client(enforce_csrf_checks=True)
    client.force_login(mentor)
    assert client.post(reverse(QUEUE), {"progress": row.pk, "reason": "合格"}).status_code == 403
    url = reverse("training:change_status", args=[row.pk])
    assert client.post(url, {"status": "done", "reason": "合格"}).status_code == 403
    assert not StatusChange.objects.exists()


# --- manual status changes ------------------------------------------------------------------------


def test_manual_change_needs_a_reason_and_is_logged(client, mentor, assignment):
    row = assignment.items.get(item_id="i1")
    url = reverse("training:change_status", args=[row.pk])
    client.force_login(mentor)
    response = client.post(url, {"status": "done", "reason": ""})
    assert response.status_code == 302 and response.url == reverse("training:trainee", args=[assignment.pk])
    assert "请填写原因。" in message_texts(response)
    response = client.post(url, {"status": "overdue", "reason": "试试"})
    assert "不能设为这个状态。" in message_texts(response)
    response = client.post(url, {"status": "not_started", "reason": "没变"})
    assert any("状态已经是" in text for text in message_texts(response))
    assert not StatusChange.objects.exists()

    response = client.post(url, {"status": "relearn", "reason": "文章改版后需重新学习"})
    row.refresh_from_db()
    assert row.status == Status.RELEARN
    change = StatusChange.objects.get()
    assert (change.old_status, change.new_status, change.changed_by) == (
        Status.NOT_STARTED,
        Status.RELEARN,
        mentor,
    )

    page = client.get(reverse("training:trainee", args=[assignment.pk])).content.decode()
    assert "文章改版后需重新学习" in page and "未开始 → 需重学" in page


def test_manual_change_refused_for_others_trainees_and_missing_ids(client, mentor, other_assignment):
    row = other_assignment.items.get(item_id="i1")
    client.force_login(mentor)
    response = client.post(
        reverse("training:change_status", args=[row.pk]), {"status": "done", "reason": "合格"}
    )
    assert response.status_code == 404
    assert "没有找到" in response.content.decode()
    assert (
        client.post(
            reverse("training:change_status", args=[99999]), {"status": "done", "reason": "x"}
        ).status_code
        == 404
    )
    assert client.get(reverse("training:change_status", args=[row.pk])).status_code == 405
    assert not StatusChange.objects.exists()


def test_trainee_page_shows_stages_items_and_due_dates(client, supervisor, newhire, path, mentor):
    today = timezone.localdate()
    assignment = progress.assign(newhire, path, start_date=today - datetime.timedelta(days=2), mentor=mentor)
    client.force_login(supervisor)
    response = client.get(reverse("training:trainee", args=[assignment.pk]))
    stages = response.context["stages"]
    assert [s["title"] for s in stages] == ["业务培训", "跟岗"]
    assert stages[0]["current"] and not stages[0]["passed"]
    shown = {row.title: row.shown for row in stages[0]["rows"]}
    assert shown == {"熟悉工单系统": Status.OVERDUE, "旁听来电": Status.NOT_STARTED}
    body = response.content.decode()
    assert "逾期 1 天" in body and "今天到期" in body
    assert "完成后由带教老师确认" in body


# --- the reading timeline -------------------------------------------------------------------------


def test_reading_timeline_says_which_revision_was_learned(client, trainer, newhire, section):
    publish(ArticlePageFactory(parent=section, title="另一篇"))  # revision ids are not version numbers
    article = ArticlePageFactory(parent=section, title="少货处理规范")
    publish(article)
    learned = article.live_revision
    read_path = make_path(
        title="阅读路径",
        stages=[
            stage(
                "r",
                "业务培训",
                "all_done",
                [{"type": "read", "id": "read1", "value": {"article": article.pk, "due_day": 1}}],
            )
        ],
    )
    assignment = progress.assign(newhire, read_path)
    ReadConfirmation.objects.create(user=newhire, page=article, revision=learned, dwell_seconds=60)
    progress.refresh(newhire, "read", article.pk)
    article.summary = "改过的摘要"
    publish(article)
    article.refresh_from_db()
    assert article.live_revision_id > learned.pk

    client.force_login(trainer)
    response = client.get(reverse("training:trainee", args=[assignment.pk]))
    entry = response.context["reading"][0]
    assert learned.pk != 1
    assert (entry["learned"], entry["live"], entry["stale"]) == (1, 2, True)
    body = response.content.decode()
    assert "已学第 1 版；现行第 2 版" in body
    assert "需重学" in body


# --- licences -------------------------------------------------------------------------------------


def test_licence_grant_needs_a_reason(client, mentor, newhire, practice_path, procedure):
    assignment = progress.assign(newhire, practice_path, mentor=mentor)
    url = reverse("training:grant_licence", args=[assignment.pk])
    client.force_login(mentor)
    page = client.get(reverse("training:trainee", args=[assignment.pk]))
    assert [pk for pk, _title in page.context["licence_form"].fields["procedure"].choices] == [procedure.pk]

    response = client.post(url, {"procedure": procedure.pk, "reason": " "})
    assert "请填写原因。" in message_texts(response)
    response = client.post(url, {"procedure": 424242, "reason": "熟悉"})
    assert any("不在学员的练习项目中" in text for text in message_texts(response))
    assert not ProcedureLicence.objects.exists()

    response = client.post(url, {"procedure": procedure.pk, "reason": "老员工转岗，已熟悉该流程"})
    assert response.status_code == 302
    licence = ProcedureLicence.objects.get()
    assert (licence.user, licence.source, licence.granted_by) == (
        newhire,
        ProcedureLicence.Source.MANUAL,
        mentor,
    )
    assert licence.reason == "老员工转岗，已熟悉该流程"
    assert ItemProgress.objects.get(assignment=assignment).status == Status.DONE

    # Granted already: no longer offered, and a second POST writes nothing.
    page = client.get(reverse("training:trainee", args=[assignment.pk]))
    assert page.context["licence_form"].fields["procedure"].choices == []
    assert "带教授予" in page.content.decode()
    client.post(url, {"procedure": procedure.pk, "reason": "再来一次"})
    assert ProcedureLicence.objects.count() == 1


def test_licence_refused_for_another_mentors_trainee(
    client, mentor, other_agent, practice_path, procedure, trainer
):
    assignment = progress.assign(other_agent, practice_path, mentor=trainer)
    client.force_login(mentor)
    response = client.post(
        reverse("training:grant_licence", args=[assignment.pk]), {"procedure": procedure.pk, "reason": "合格"}
    )
    assert response.status_code == 404
    assert not ProcedureLicence.objects.exists()
