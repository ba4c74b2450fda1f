"""Taking quizzes through the Django test client: starting, answering, marking, the rules between
attempts, who may see an attempt, and the learning path following the result."""

import datetime
import random
import re

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from training import quizzes
from training.choices import QuestionType, Status
from training.models import AttemptAnswer, LearningPath, Quiz, QuizAttempt, TrainingSettings
from training.progress import NotAllowed, assign

pytestmark = pytest.mark.django_db


# --- helpers --------------------------------------------------------------------------------------


def quiz_url(quiz):
    return reverse("training:quiz", kwargs={"quiz_id": quiz.pk})


def start_url(quiz):
    return reverse("training:start_attempt", kwargs={"quiz_id": quiz.pk})


def attempt_url(attempt):
    return reverse("training:attempt", kwargs={"attempt_id": attempt.pk})


def answer(question, right=True):
    """POST data answering one snapshot question, right or wrong."""
    name = f"q{question['id']}"
    options = question["options"]
    qtype = question["type"]
    if qtype == QuestionType.FILL:
        return {name: options[0]["text"] if right else "随便说点什么"}
    if qtype == QuestionType.ORDERING:
        order = options if right else list(reversed(options))
        return {f"{name}-{option['id']}": str(position) for position, option in enumerate(order, 1)}
    chosen = [o["id"] for o in options if o["correct"] == right]
    if qtype == QuestionType.MULTIPLE:
        return {name: [str(i) for i in chosen]}
    return {name: str(chosen[0])}


def answers(attempt, right=True, wrong=()):
    """POST data for a whole attempt: every question right (or wrong), except the types in ``wrong``."""
    data = {}
    for question in attempt.drawn:
        data.update(answer(question, right=right and question["type"] not in wrong))
    return data


def start(client, quiz):
    response = client.post(start_url(quiz))
    assert response.status_code == 302
    return response


def last_attempt(user, quiz):
    return QuizAttempt.objects.filter(user=user, quiz=quiz).order_by("-started_at").first()


@pytest.fixture
def trainee_client(client, newhire):
    client.force_login(newhire)
    return client


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- taking a quiz --------------------------------------------------------------------------------


def test_start_answer_and_pass(trainee_client, newhire, quiz, article):
    page = trainee_client.get(quiz_url(quiz))
    assert page.status_code == 200
    assert "开始测验" in page.content.decode()
    assert f'action="{start_url(quiz)}"' in page.content.decode()
    assert "7 道题" in page.content.decode()

    response = start(trainee_client, quiz)
    attempt = last_attempt(newhire, quiz)
    assert response["Location"] == attempt_url(attempt)
    assert attempt.quiz_title == "投诉受理考核"
    assert attempt.pass_mark == 80, "the default pass mark of the training settings"
    assert len(attempt.drawn) == 7
    assert {q["type"] for q in attempt.drawn} == set(QuestionType.values)

    form = trainee_client.get(attempt_url(attempt))
    assert form.status_code == 200
    html = form.content.decode()
    assert "客户来电后，第一句应该说什么？" in html
    assert "交卷" in html
    assert "开场白要先问候" not in html, "no explanation before the attempt is handed in"

    response = trainee_client.post(attempt_url(attempt), answers(attempt))
    assert response.status_code == 302
    assert response["Location"] == attempt_url(attempt)
    attempt.refresh_from_db()
    assert attempt.is_submitted
    assert attempt.score == 100.0
    assert attempt.passed is True

    result = trainee_client.get(attempt_url(attempt))
    html = result.content.decode()
    assert result.status_code == 200
    assert "100 分" in html and "通过" in html
    assert "先问候再询问来意。" in html, "each option's explanation"
    assert "开场白要先问候。" in html, "the question's explanation"
    assert f'href="{article.url}#block-greeting"' in html, "a link to what the option cites"
    assert "投诉受理规范" in html

    page = trainee_client.get(quiz_url(quiz)).content.decode()
    assert "已通过" in page
    assert f'href="{attempt_url(attempt)}"' in page, "past attempts link to their results"
    assert "再答一次" in page, "a passed quiz may be taken again while under the limit"


def test_time_taken_shown(client, newhire, quiz):
    began = timezone.now() - datetime.timedelta(minutes=5)
    attempt = quizzes.start_attempt(quiz, newhire, now=began)
    quizzes.submit_attempt(attempt.pk, newhire, answers(attempt), now=began + datetime.timedelta(seconds=125))
    client.force_login(newhire)
    assert "用时 2 分 05 秒" in client.get(attempt_url(attempt)).content.decode()


def test_answer_rows_written(trainee_client, newhire, quiz, questions):
    start(trainee_client, quiz)
    attempt = last_attempt(newhire, quiz)
    trainee_client.post(attempt_url(attempt), answers(attempt, wrong=(QuestionType.MULTIPLE,)))
    attempt.refresh_from_db()
    assert attempt.score == round(100 * 6 / 7, 1)
    assert attempt.passed is True, "85.7 ≥ 80"

    rows = {row.question.type: row for row in AttemptAnswer.objects.filter(attempt=attempt)}
    assert len(rows) == 7
    assert not rows[QuestionType.MULTIPLE].correct
    assert rows[QuestionType.MULTIPLE].chosen == [
        o.pk for o in questions[QuestionType.MULTIPLE].options.all() if not o.correct
    ]
    assert rows[QuestionType.FILL].text == "请问还有其他可以帮您的吗"
    assert rows[QuestionType.FILL].chosen == []
    assert rows[QuestionType.ORDERING].chosen == [
        o.pk for o in questions[QuestionType.ORDERING].options.all()
    ]
    assert all(row.correct for kind, row in rows.items() if kind != QuestionType.MULTIPLE)
    assert attempt.answers[str(questions[QuestionType.FILL].pk)] == "请问还有其他可以帮您的吗"


def test_fill_accepts_punctuation_and_traditional_variants(trainee_client, newhire, quiz, questions):
    start(trainee_client, quiz)
    attempt = last_attempt(newhire, quiz)
    data = answers(attempt)
    data[f"q{questions[QuestionType.FILL].pk}"] = "請問還有其他可以幫您的嗎？"
    trainee_client.post(attempt_url(attempt), data)
    assert AttemptAnswer.objects.get(attempt=attempt, question=questions[QuestionType.FILL]).correct


def test_start_is_post_only(trainee_client, quiz):
    assert trainee_client.get(start_url(quiz)).status_code == 405
    assert not QuizAttempt.objects.exists()


def test_double_click_on_start_opens_one_attempt(trainee_client, newhire, quiz):
    first = start(trainee_client, quiz)
    second = start(trainee_client, quiz)
    assert first["Location"] == second["Location"]
    assert QuizAttempt.objects.filter(user=newhire).count() == 1
    page = trainee_client.get(quiz_url(quiz)).content.decode()
    assert "继续作答" in page


def test_failed_attempt_then_cooldown_refused(trainee_client, newhire, quiz):
    start(trainee_client, quiz)
    attempt = last_attempt(newhire, quiz)
    trainee_client.post(attempt_url(attempt), answers(attempt, right=False))
    attempt.refresh_from_db()
    assert attempt.passed is False
    assert attempt.score == 0.0

    response = trainee_client.post(start_url(quiz), follow=True)
    retry_at = timezone.localtime(attempt.submitted_at + datetime.timedelta(minutes=30))
    [message] = messages_of(response)
    assert "30 分钟" in message
    assert f"{retry_at:%H:%M} 以后可以再试" in message, "when, in local time"
    assert QuizAttempt.objects.filter(user=newhire).count() == 1
    html = response.content.decode()
    assert f'action="{start_url(quiz)}"' not in html, "no start button while cooling down"
    assert f"{retry_at:%H:%M} 以后可以再试" in html, "the quiz page says so too"

    later = attempt.submitted_at + datetime.timedelta(minutes=31)
    assert quizzes.start_attempt(quiz, newhire, now=later).pk != attempt.pk


def test_a_cooldown_stored_past_its_bound_neither_overflows_nor_is_accepted_in_the_admin(
    trainee_client, newhire, quiz, client, trainer
):
    # Stored before the bound: SQLite keeps any integer (this many minutes overflows a timedelta); PostgreSQL's
    # integer column stops at 2**31 - 1, still far past the bound.
    huge = 99_999_999_999 if connection.vendor == "sqlite" else 2**31 - 1
    Quiz.objects.filter(pk=quiz.pk).update(cooldown_minutes=huge)
    start(trainee_client, quiz)
    attempt = last_attempt(newhire, quiz)
    trainee_client.post(attempt_url(attempt), answers(attempt, right=False))
    response = trainee_client.get(reverse("training:quiz", args=[quiz.pk]))
    assert response.status_code == 200 and "10080 分钟" in response.content.decode()
    client.force_login(trainer)
    form = client.get(reverse("wagtailsnippets_training_quiz:edit", args=[quiz.pk])).context["form"]
    data = {
        name: field.value()
        for name, field in ((n, form[n]) for n in form.fields)
        if field.value() is not None
    }
    data.update(cooldown_minutes="99999999999", pass_mark="150", questions=[])
    response = client.post(reverse("wagtailsnippets_training_quiz:edit", args=[quiz.pk]), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "cooldown_minutes" in errors and "pass_mark" in errors


def test_attempt_limit_refused(trainee_client, newhire, quiz):
    quiz.attempt_limit = 2
    quiz.cooldown_minutes = 0
    quiz.save()
    for _ in range(2):
        start(trainee_client, quiz)
        attempt = last_attempt(newhire, quiz)
        trainee_client.post(attempt_url(attempt), answers(attempt, right=False))
    page = trainee_client.get(quiz_url(quiz)).content.decode()
    assert "2 / 2 次" in page
    assert f'action="{start_url(quiz)}"' not in page

    response = trainee_client.post(start_url(quiz), follow=True)
    [message] = messages_of(response)
    assert "最多可以作答 2 次" in message
    assert QuizAttempt.objects.filter(user=newhire).count() == 2


def test_passed_quiz_may_be_retaken_under_the_limit(newhire, quiz):
    first = quizzes.start_attempt(quiz, newhire)
    quizzes.submit_attempt(first.pk, newhire, answers(first))
    second = quizzes.start_attempt(quiz, newhire)
    assert second.pk != first.pk
    quizzes.submit_attempt(second.pk, newhire, answers(second, right=False))
    quiz.attempt_limit = 2
    quiz.save()
    with pytest.raises(NotAllowed):
        quizzes.start_attempt(quiz, newhire, now=timezone.now() + datetime.timedelta(days=1))


def test_double_submit_recorded_once(trainee_client, newhire, quiz):
    start(trainee_client, quiz)
    attempt = last_attempt(newhire, quiz)
    trainee_client.post(attempt_url(attempt), answers(attempt))
    attempt.refresh_from_db()
    submitted_at = attempt.submitted_at

    response = trainee_client.post(attempt_url(attempt), answers(attempt, right=False), follow=True)
    assert response.status_code == 200
    assert "这份答卷已经交过了" in messages_of(response)[0]
    assert "100 分" in response.content.decode(), "the result recorded the first time"
    attempt.refresh_from_db()
    assert (attempt.score, attempt.submitted_at) == (100.0, submitted_at)
    assert AttemptAnswer.objects.filter(attempt=attempt).count() == 7


def assert_nothing_recorded(attempt):
    attempt.refresh_from_db()
    assert not attempt.is_submitted
    assert attempt.score is None and attempt.answers == {}
    assert not AttemptAnswer.objects.filter(attempt=attempt).exists()


def test_option_from_another_question_is_refused(trainee_client, newhire, quiz, questions):
    start(trainee_client, quiz)
    attempt = last_attempt(newhire, quiz)
    data = answers(attempt)
    elsewhere = questions[QuestionType.COMPLIANT].options.first().pk
    data[f"q{questions[QuestionType.SINGLE].pk}"] = str(elsewhere)

    response = trainee_client.post(attempt_url(attempt), data)
    assert response.status_code == 400
    assert "有 1 道题的答案无法识别" in " ".join(messages_of(response))
    assert "这个答案不是这道题的选项" in response.content.decode()
    assert_nothing_recorded(attempt)


def test_unreadable_answers_are_refused(trainee_client, newhire, quiz, questions):
    start(trainee_client, quiz)
    attempt = last_attempt(newhire, quiz)
    data = answers(attempt)
    data[f"q{questions[QuestionType.TRUE_FALSE].pk}"] = "abc"
    data[f"q{questions[QuestionType.MULTIPLE].pk}"] = ["1e3"]
    first, second, third = questions[QuestionType.ORDERING].options.all()
    prefix = f"q{questions[QuestionType.ORDERING].pk}"
    data.update({f"{prefix}-{first.pk}": "1", f"{prefix}-{second.pk}": "1", f"{prefix}-{third.pk}": "2"})

    response = trainee_client.post(attempt_url(attempt), data)
    assert response.status_code == 400
    assert "有 3 道题的答案无法识别" in " ".join(messages_of(response))
    assert "每个位置只能用一次" in response.content.decode()
    assert_nothing_recorded(attempt)


def test_unanswered_questions_are_refused(trainee_client, newhire, quiz, questions):
    start(trainee_client, quiz)
    attempt = last_attempt(newhire, quiz)
    data = answers(attempt)
    del data[f"q{questions[QuestionType.SCENARIO].pk}"]
    data[f"q{questions[QuestionType.FILL].pk}"] = "  "
    single = next(q for q in attempt.drawn if q["type"] == QuestionType.SINGLE)
    [(name, value)] = answer(single).items()

    response = trainee_client.post(attempt_url(attempt), data)
    assert response.status_code == 400
    assert "还有 2 道题没有作答。" in messages_of(response)
    html = response.content.decode()
    assert re.search(rf'name="{name}" value="{value}" id="[^"]+" checked', html), "answers kept"
    assert html.count('class="form-error"') == 2, "each unanswered question says so"
    assert_nothing_recorded(attempt)


# --- who sees an attempt ---------------------------------------------------------------------------


def test_another_users_attempt_is_404(client, newhire, other_newhire, quiz):
    attempt = quizzes.start_attempt(quiz, newhire)
    client.force_login(other_newhire)
    assert client.get(attempt_url(attempt)).status_code == 404
    assert client.post(attempt_url(attempt), answers(attempt)).status_code == 404
    assert_nothing_recorded(attempt)


@pytest.fixture
def path_with_quiz(quiz):
    return LearningPath.objects.create(
        title="投诉处理上岗路径",
        stages=[
            {
                "type": "stage",
                "value": {
                    "title": "业务培训",
                    "gate": "all_done",
                    "items": [{"type": "quiz", "value": {"quiz": quiz.pk, "due_day": 3}}],
                },
            }
        ],
    )


def test_mentor_and_trainer_see_the_result_another_new_hire_does_not(
    client, newhire, other_newhire, mentor, trainer, quiz, path_with_quiz
):
    assign(newhire, path_with_quiz, mentor=mentor)
    attempt = quizzes.start_attempt(quiz, newhire)

    client.force_login(mentor)
    assert client.get(attempt_url(attempt)).status_code == 404, "not while the trainee is answering"

    quizzes.submit_attempt(attempt.pk, newhire, answers(attempt))
    for viewer in (mentor, trainer):
        client.force_login(viewer)
        response = client.get(attempt_url(attempt))
        assert response.status_code == 200
        html = response.content.decode()
        assert "小陈 的答卷（只读）" in html
        assert "交卷</button>" not in html

    client.force_login(mentor)
    assert client.post(attempt_url(attempt), answers(attempt)).status_code == 404, "read-only"

    client.force_login(other_newhire)
    assert client.get(attempt_url(attempt)).status_code == 404


def test_mentor_of_someone_else_does_not_see_the_result(
    client, newhire, other_newhire, mentor, quiz, path_with_quiz
):
    assign(other_newhire, path_with_quiz, mentor=mentor)
    assign(newhire, path_with_quiz)
    attempt = quizzes.start_attempt(quiz, newhire)
    quizzes.submit_attempt(attempt.pk, newhire, answers(attempt))
    client.force_login(mentor)
    assert client.get(attempt_url(attempt)).status_code == 404


# --- what an attempt keeps --------------------------------------------------------------------------


def test_attempt_keeps_the_quiz_revision_and_its_snapshot(trainee_client, newhire, quiz, questions):
    assert quiz.latest_revision is None
    start(trainee_client, quiz)
    attempt = last_attempt(newhire, quiz)
    quiz.refresh_from_db()
    assert attempt.revision is not None
    assert attempt.revision == quiz.latest_revision, "a revision is saved for a quiz that had none"

    # The trainer edits the question while the trainee answers: the attempt is marked as drawn.
    single = questions[QuestionType.SINGLE]
    single.stem = "（改过的题干）开场白是？"
    single.save()
    right, wrong, _other = single.options.all()
    right.correct, wrong.correct = False, True
    right.save()
    wrong.save()
    quiz.title = "投诉受理考核（新版）"
    quiz.save_revision()

    trainee_client.post(attempt_url(attempt), answers(attempt))
    attempt.refresh_from_db()
    assert attempt.score == 100.0
    html = trainee_client.get(attempt_url(attempt)).content.decode()
    assert "客户来电后，第一句应该说什么？" in html
    assert "改过的题干" not in html
    assert "投诉受理考核（新版）" not in html
    assert attempt.revision != Quiz.objects.get(pk=quiz.pk).latest_revision


def test_attempt_uses_the_existing_revision(newhire, quiz):
    revision = quiz.save_revision()
    attempt = quizzes.start_attempt(quiz, newhire)
    assert attempt.revision == revision


def test_pass_mark_from_settings_or_quiz(newhire, other_newhire, quiz):
    settings = TrainingSettings.load()
    settings.pass_mark = 60
    settings.save()
    assert quizzes.start_attempt(quiz, newhire).pass_mark == 60
    quiz.pass_mark = 90
    quiz.save()
    assert quizzes.start_attempt(quiz, other_newhire).pass_mark == 90


def test_draw_count_and_shuffled_order(newhire, quiz, questions):
    quiz.draw_count = 3
    quiz.save()
    attempt = quizzes.start_attempt(quiz, newhire, rng=random.Random(7))
    ids = [q["id"] for q in attempt.drawn]
    assert len(ids) == len(set(ids)) == 3
    assert set(ids) <= {q.pk for q in questions.values()}

    for seed in range(20):
        for snapshot in quizzes.draw(quiz, rng=random.Random(seed)):
            assert sorted(snapshot["shown"]) == sorted(o["id"] for o in snapshot["options"])
            if snapshot["type"] == QuestionType.ORDERING:
                assert snapshot["shown"] != [o["id"] for o in snapshot["options"]], "never shown in order"


def test_quiz_without_questions_is_refused(trainee_client, newhire, db):
    empty = Quiz.objects.create(title="空测验")
    response = trainee_client.post(start_url(empty), follow=True)
    assert "还没有题目" in messages_of(response)[0]
    assert not QuizAttempt.objects.exists()


def test_deleted_question_keeps_its_answer_row(newhire, quiz, questions):
    attempt = quizzes.start_attempt(quiz, newhire)
    questions[QuestionType.SCENARIO].delete()
    quizzes.submit_attempt(attempt.pk, newhire, answers(attempt))
    rows = AttemptAnswer.objects.filter(attempt=attempt)
    assert rows.count() == 7
    assert rows.filter(question=None).count() == 1


# --- the learning path ------------------------------------------------------------------------------


def test_learning_path_item_done_when_the_quiz_is_passed(trainee_client, newhire, quiz, path_with_quiz):
    assignment = assign(newhire, path_with_quiz)
    [row] = assignment.items.all()
    assert row.status == Status.NOT_STARTED

    start(trainee_client, quiz)
    attempt = last_attempt(newhire, quiz)
    trainee_client.post(attempt_url(attempt), answers(attempt, right=False))
    row.refresh_from_db()
    assert row.status == Status.FAILED

    later = timezone.now() + datetime.timedelta(hours=1)
    second = quizzes.start_attempt(quiz, newhire, now=later)
    quizzes.submit_attempt(second.pk, newhire, answers(second), now=later)
    row.refresh_from_db()
    assert row.get_status_display() == "已完成"
    assert row.score == 100.0
    assignment.refresh_from_db()
    assert assignment.finished_items == 1


# --- check_answers, for other pages that ask questions -------------------------------------------------


def test_check_answers_with_another_prefix(quiz, questions):
    snapshots = [questions[QuestionType.SINGLE].snapshot(), questions[QuestionType.TRUE_FALSE].snapshot()]
    right_single = next(o["id"] for o in snapshots[0]["options"] if o["correct"])
    wrong_tf = next(o["id"] for o in snapshots[1]["options"] if not o["correct"])
    data = {f"c{snapshots[0]['id']}": str(right_single), f"c{snapshots[1]['id']}": str(wrong_tf)}

    checked = quizzes.check_answers(snapshots, data, prefix="c")
    assert checked.is_valid
    assert [r.correct for r in checked.results] == [True, False]
    assert checked.percent == 50.0
    assert not checked.all_correct

    checked = quizzes.check_answers(snapshots, {f"q{snapshots[0]['id']}": str(right_single)}, prefix="c")
    assert not checked.is_valid
    assert checked.results == []
    assert checked.errors == ["还有 2 道题没有作答。"]
