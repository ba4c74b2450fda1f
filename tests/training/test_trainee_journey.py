"""The new hire's side, through the pages they use: assignment and due dates, read-and-confirm, offline
tasks, manual status changes, scored practice against a card and the licence to run live."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from procedures.models import ProcedureRun
from tests.factories import ArticlePageFactory, make_user
from training import progress, reading
from training.choices import Status
from training.models import ItemProgress, PracticeSession, ProcedureLicence, ReadConfirmation, StatusChange

from .journeys import (
    MISSING_ITEM_GOLDEN,
    START_VALUES,
    item,
    make_path,
    missing_item_card,
    missing_item_procedure,
    stage,
    walk,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(section):
    page = ArticlePageFactory(parent=section, title="投诉处理原则")
    page.save_revision().publish()
    page.refresh_from_db()
    return page


@pytest.fixture
def read_path(article):
    return make_path(
        stage("业务培训", item("read", article=article.pk, due_day=3, min_seconds=20, check_questions=[])),
        stage("跟岗", item("offline", title="跟岗 4 小时", description="", due_day=10), gate="mentor"),
    )


def _confirm_post(client, user, page, *, seconds_ago=60, scrolled="1", **extra):
    token = reading.make_token(user, page, page.live_revision_id, now=time.time() - seconds_ago)
    return client.post(
        reverse("training:confirm_read", args=[page.pk]),
        {"token": token, "scrolled": scrolled, **extra},
        follow=True,
    )


def test_assigning_a_path_creates_items_with_due_dates_and_summary(newhire, read_path):
    start = timezone.localdate() - timezone.timedelta(days=5)
    assignment = progress.assign(newhire, read_path, start_date=start)
    rows = list(assignment.items.order_by("stage_index"))
    assert [r.kind for r in rows] == ["read", "offline"]
    assert rows[0].due_date == start + timezone.timedelta(days=3)
    assert rows[0].shown_status() == Status.OVERDUE  # D+3 passed, not read
    assert rows[1].shown_status() == Status.NOT_STARTED
    assert progress.path_status(assignment, rows) == Status.OVERDUE
    assignment.refresh_from_db()
    assert (assignment.current_stage_title, assignment.finished_items, assignment.total_items) == (
        "业务培训",
        0,
        2,
    )


def test_editing_the_path_adds_and_drops_items_for_trainees(newhire, read_path):
    assignment = progress.assign(newhire, read_path)
    stages = read_path.stages.raw_data
    read_path.stages = [
        stages[0],
        stage("试接", item("offline", title="试接 10 通", description="", due_day=14)),
    ]
    read_path.save()
    assert sorted(assignment.items.values_list("title", flat=True)) == ["投诉处理原则", "试接 10 通"]


def test_joining_a_group_assigns_its_path(db, read_path):
    from django.contrib.auth.models import Group

    read_path.auto_groups.add(Group.objects.get(name="新员工"))
    read_path.save()
    user = make_user("新员工", username="joiner")
    assert user.path_assignments.filter(path=read_path).exists()


def test_article_shows_the_confirm_box_only_to_trainees_with_it_in_their_path(
    client, newhire, agent, article, read_path
):
    progress.assign(newhire, read_path)
    client.force_login(agent)
    assert "read-confirm" not in client.get(article.url).content.decode()
    client.force_login(newhire)
    html = client.get(article.url).content.decode()
    assert 'id="read-confirm"' in html and "至少 20 秒" in html and "js/training.js" in html


def test_a_reader_with_nothing_to_confirm_pays_no_settings_query_and_one_who_confirmed_sees_it(
    client, agent, article
):
    client.force_login(agent)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(article.url).content.decode()
    assert "read-confirm" not in html
    assert not [q for q in queries.captured_queries if "training_trainingsettings" in q["sql"]]

    # A confirmation without a path still shows the box (the settings' minimum then applies).
    ReadConfirmation.objects.create(user=agent, page=article, revision_id=article.live_revision_id)
    html = client.get(article.url).content.decode()
    assert 'id="read-confirm"' in html and "确认阅读了当前版本" in html


def test_confirming_too_soon_or_without_scrolling_records_nothing(client, newhire, article, read_path):
    progress.assign(newhire, read_path)
    client.force_login(newhire)
    response = _confirm_post(client, newhire, article, seconds_ago=3)
    assert "阅读时间不足：至少需要 20 秒" in response.content.decode()
    response = _confirm_post(client, newhire, article, scrolled="")
    assert "请先把文章读到最后" in response.content.decode()
    response = client.post(
        reverse("training:confirm_read", args=[article.pk]), {"token": "forged", "scrolled": "1"}, follow=True
    )
    assert "确认表单已失效" in response.content.decode()
    assert not ReadConfirmation.objects.exists()
    assert ItemProgress.objects.get(kind="read").status == Status.NOT_STARTED


def test_confirming_records_the_revision_once_and_finishes_the_item(client, newhire, article, read_path):
    assignment = progress.assign(newhire, read_path)
    client.force_login(newhire)
    response = _confirm_post(client, newhire, article)
    assert "已确认阅读《投诉处理原则》" in response.content.decode()
    response = _confirm_post(client, newhire, article)  # a double submit
    assert "没有重复记录" in response.content.decode()
    confirmation = ReadConfirmation.objects.get()
    assert confirmation.revision_id == article.live_revision_id and confirmation.dwell_seconds >= 60
    assert assignment.items.get(kind="read").status == Status.DONE
    assignment.refresh_from_db()
    assert assignment.current_stage_title == "跟岗"
    assert "你已在" in client.get(article.url).content.decode()


def test_a_token_for_another_user_or_an_old_revision_is_refused(client, newhire, article, read_path):
    other = make_user("新员工", username="other-newhire")
    progress.assign(newhire, read_path)
    client.force_login(newhire)
    token = reading.make_token(other, article, article.live_revision_id, now=time.time() - 60)
    response = client.post(
        reverse("training:confirm_read", args=[article.pk]), {"token": token, "scrolled": "1"}, follow=True
    )
    assert "与这篇文章不符" in response.content.decode()
    old_token = reading.make_token(newhire, article, article.live_revision_id, now=time.time() - 60)
    article.save_revision().publish()
    response = client.post(
        reverse("training:confirm_read", args=[article.pk]),
        {"token": old_token, "scrolled": "1"},
        follow=True,
    )
    assert "在你阅读时更新了" in response.content.decode()
    assert not ReadConfirmation.objects.exists()


def test_check_questions_must_be_answered_right(client, newhire, article, section):
    from training.models import Question, QuestionOption

    question = Question.objects.create(section=section, type="true_false", stem="投诉要先安抚情绪吗？")
    right = QuestionOption.objects.create(question=question, text="对", correct=True, sort_order=0)
    wrong = QuestionOption.objects.create(question=question, text="错", correct=False, sort_order=1)
    path = make_path(stage("业务培训", item("read", article=article.pk, check_questions=[question.pk])))
    progress.assign(newhire, path)
    client.force_login(newhire)
    assert "投诉要先安抚情绪吗？" in client.get(article.url).content.decode()
    response = _confirm_post(client, newhire, article, **{f"c{question.pk}": str(wrong.pk)})
    assert "检查题没有答对" in response.content.decode()
    response = _confirm_post(client, newhire, article, **{f"c{question.pk}": "999999"})
    assert "请回答所有检查题" in response.content.decode()
    assert not ReadConfirmation.objects.exists()
    _confirm_post(client, newhire, article, **{f"c{question.pk}": str(right.pk)})
    assert ReadConfirmation.objects.get().answers == {str(question.pk): [right.pk]}


def test_to_confirm_lists_unread_and_updated_articles(client, newhire, article, read_path):
    progress.assign(newhire, read_path)
    client.force_login(newhire)
    assert "投诉处理原则" in client.get(reverse("training:to_confirm")).content.decode()
    _confirm_post(client, newhire, article)
    assert "没有待确认的文章" in client.get(reverse("training:to_confirm")).content.decode()
    article.save_revision().publish()
    assert "文章已更新，需重新确认" in client.get(reverse("training:to_confirm")).content.decode()


def test_relearn_needs_new_evidence_and_every_change_has_a_reason(
    client, newhire, trainer, article, read_path
):
    assignment = progress.assign(newhire, read_path)
    client.force_login(newhire)
    _confirm_post(client, newhire, article)
    row = assignment.items.get(kind="read")
    with pytest.raises(progress.NotAllowed):
        progress.set_status(row, Status.RELEARN, "  ", by=trainer)
    progress.set_status(row, Status.RELEARN, "考核中没答出投诉原则", by=trainer)
    progress.refresh(newhire, "read", article.pk)  # the old confirmation no longer counts
    row.refresh_from_db()
    assert row.status == Status.RELEARN
    article.save_revision().publish()
    _confirm_post(client, newhire, article.__class__.objects.get(pk=article.pk))
    row.refresh_from_db()
    assert row.status == Status.DONE
    change = StatusChange.objects.get()
    assert (change.old_status, change.new_status, change.changed_by) == (Status.DONE, Status.RELEARN, trainer)


def test_offline_task_waits_for_the_mentor_and_another_trainee_cannot_touch_it(
    client, newhire, trainer, read_path
):
    assignment = progress.assign(newhire, read_path, mentor=trainer)
    row = assignment.items.get(kind="offline")
    intruder = make_user("新员工", username="intruder")
    client.force_login(intruder)
    assert client.post(reverse("training:request_sign_off", args=[row.pk])).status_code == 404
    client.force_login(newhire)
    client.post(reverse("training:request_sign_off", args=[row.pk]))
    response = client.post(reverse("training:request_sign_off", args=[row.pk]), follow=True)
    assert "已经申请过了" in response.content.decode()
    row.refresh_from_db()
    assert row.status == Status.IN_PROGRESS and row.sign_off_requested_at
    assert list(progress.sign_off_queue(trainer)) == [row]
    assert list(progress.sign_off_queue(make_user("坐席", username="someone"))) == []
    progress.set_status(row, Status.SIGNED_OFF, "跟岗表现合格", by=trainer)
    assert list(progress.sign_off_queue(trainer)) == []


def test_my_training_page_and_home_panel(client, newhire, read_path, home):
    progress.assign(newhire, read_path)
    client.force_login(newhire)
    html = client.get(reverse("training:home")).content.decode()
    assert "业务培训" in html and "投诉处理原则" in html and "已完成，申请带教确认" in html
    html = client.get(home.url).content.decode()
    assert "我的培训" in html and "下一项" in html and "投诉处理原则" in html
    assert '<span class="status status-not_started">未开始</span>' in html


# --- practice and licences ---------------------------------------------------------------------


@pytest.fixture
def procedure(db):
    return missing_item_procedure()


@pytest.fixture
def practice_path(procedure):
    return make_path(stage("试接", item("practice", procedure=procedure.pk, passes=2, due_day=7)))


def _start_card(client, card, **values):
    data = {f"v-{k}": v for k, v in {**START_VALUES, **values}.items()}
    return client.post(reverse("training:start_practice", args=[card.pk]), data)


def test_a_new_hire_without_a_licence_starts_only_in_practice(client, newhire, procedure, practice_path):
    progress.assign(newhire, practice_path)
    client.force_login(newhire)
    html = client.get(procedure.url).content.decode()
    assert "练习模式" in html and "需要通过 2 次练习（已通过 0 次）" in html
    data = {f"v-{k}": v for k, v in START_VALUES.items()}
    response = client.post(reverse("procedures:start", args=[procedure.pk]), data, follow=True)
    assert "还没有取得这个流程的上岗资格" in response.content.decode()
    assert not ProcedureRun.objects.exists()
    client.post(reverse("procedures:start", args=[procedure.pk]), {**data, "practice": "1"})
    assert ProcedureRun.objects.get().practice


def test_practice_against_a_card_is_scored_and_two_passes_give_the_licence(
    client, newhire, procedure, practice_path, django_capture_on_commit_callbacks
):
    assignment = progress.assign(newhire, practice_path)
    card = missing_item_card(procedure)
    client.force_login(newhire)
    assert "少了一个保温杯" in client.get(reverse("training:card", args=[card.pk])).content.decode()
    # A bad start value is shown on the card, nothing started.
    response = _start_card(client, card, 少货金额="很多")
    assert response.status_code == 400 and not ProcedureRun.objects.exists()

    # Off the golden path: the package was damaged (answer 1), a transfer.
    _start_card(client, card)
    with django_capture_on_commit_callbacks(execute=True):
        walk(ProcedureRun.objects.get(), newhire, answers={"ask-package": 1})
    session = PracticeSession.objects.get()
    assert not session.passed and session.feedback["left_at"]["expected"] == "collect"
    assert session.feedback["left_at"]["taken"] == "to-damage"
    html = client.get(reverse("training:practice_feedback", args=[session.pk])).content.decode()
    assert "在“记录订单和少货信息”处偏离" in html

    for _ in range(2):
        _start_card(client, card)
        run = ProcedureRun.objects.filter(practice_session__scored_at__isnull=True).get()
        with django_capture_on_commit_callbacks(execute=True):
            run = walk(run, newhire)
        assert [e.step_key for e in run.logged_events][: len(MISSING_ITEM_GOLDEN) - 1] == MISSING_ITEM_GOLDEN[
            :-1
        ]
    passing = PracticeSession.objects.filter(passed=True)
    assert passing.count() == 2 and all(s.score == 100 for s in passing)
    assert ProcedureLicence.objects.get(user=newhire).source == "practice"
    row = assignment.items.get()
    assert (row.status, row.passes, row.score) == (Status.DONE, 2, 100)
    # The summary of a practice run links to its score; live runs are allowed now and not practice.
    assert "练习得分" in client.get(run.get_absolute_url()).content.decode()
    data = {f"v-{k}": v for k, v in START_VALUES.items()}
    client.post(reverse("procedures:start", args=[procedure.pk]), data)
    assert ProcedureRun.objects.filter(practice=False).count() == 1


def test_practice_runs_stay_out_of_statistics(newhire, procedure, django_capture_on_commit_callbacks):
    card = missing_item_card(procedure)
    from training.practice import start_practice

    run = start_practice(card, newhire, variables={"客户称呼": "王女士"})
    with django_capture_on_commit_callbacks(execute=True):
        walk(run, newhire)
    assert not ProcedureRun.objects.counted().exists()


def test_a_practice_feedback_is_private_to_the_trainee_their_mentor_and_trainers(
    client, newhire, trainer, agent, procedure, practice_path, django_capture_on_commit_callbacks
):
    from training.practice import start_practice

    card = missing_item_card(procedure)
    mentor = make_user("坐席", username="mentor")
    progress.assign(newhire, practice_path, mentor=mentor)
    with django_capture_on_commit_callbacks(execute=True):
        walk(start_practice(card, newhire, variables=START_VALUES), newhire)
    url = reverse("training:practice_feedback", args=[PracticeSession.objects.get().pk])
    for user, status in [(newhire, 200), (mentor, 200), (trainer, 200), (agent, 404)]:
        client.force_login(user)
        assert client.get(url).status_code == status, user


def test_the_mentor_grants_a_licence_by_hand_with_a_reason(newhire, trainer, procedure, practice_path):
    assignment = progress.assign(newhire, practice_path)
    with pytest.raises(progress.NotAllowed):
        progress.grant_licence(newhire, procedure, by=trainer, reason="")
    progress.grant_licence(newhire, procedure, by=trainer, reason="原岗位做过三年售后")
    assert progress.licence_status(newhire, procedure.pk)[0]
    assert assignment.items.get().status == Status.DONE
