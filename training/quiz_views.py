"""Taking quizzes: the quiz page, starting an attempt, answering it and its result.

The rules and the marking live in ``training.quizzes`` (the service and its ``AnswerForm``); these
views only route: a refusal becomes a message on the quiz page, answers that cannot be marked show the
form again (400), a second submission shows the result already recorded.

An attempt is its trainee's: anyone else gets 404, except that the trainee's mentor and trainers or
supervisors (``training.view_all_training``) may read a submitted one.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_GET, require_POST

from . import quizzes
from .choices import QuestionType
from .models import Quiz, QuizAttempt
from .models.paths import trainee_name
from .progress import follows_trainee
from .scoring import answer_is_correct


def attempt_url(attempt):
    return reverse("training:attempt", kwargs={"attempt_id": attempt.pk})


@require_GET
def quiz_detail(request, quiz_id):
    quiz = get_object_or_404(Quiz, pk=quiz_id)
    standing = quizzes.standing(quiz, request.user)
    rows = [
        {
            "attempt": a,
            "url": attempt_url(a),
            "duration": quizzes.duration_label(a.seconds),
        }
        for a in standing.attempts
    ]
    return render(
        request,
        "training/quiz_detail.html",
        {"quiz": quiz, "standing": standing, "attempt_rows": rows},
    )


@require_POST
def start_attempt(request, quiz_id):
    quiz = get_object_or_404(Quiz, pk=quiz_id)
    try:
        attempt = quizzes.start_attempt(quiz, request.user)
    except quizzes.NotAllowed as refusal:
        messages.error(request, str(refusal))
        return redirect("training:quiz", quiz_id=quiz.pk)
    return redirect(attempt_url(attempt))


class AttemptView(View):
    """GET: the form of an open attempt, or the result of a submitted one. POST: hand it in."""

    http_method_names = ["get", "post"]

    def get(self, request, attempt_id):
        attempt = self.get_attempt(attempt_id)
        if attempt.is_submitted:
            return self.result(attempt)
        return self.render_form(attempt, quizzes.AnswerForm(attempt.drawn))

    def post(self, request, attempt_id):
        try:
            attempt = quizzes.submit_attempt(attempt_id, request.user, request.POST)
        except QuizAttempt.DoesNotExist:
            raise Http404(_("没有找到这份答卷。")) from None
        except quizzes.AlreadySubmitted as refusal:
            messages.warning(request, str(refusal))
            return redirect(attempt_url(refusal.attempt))
        except quizzes.AnswersInvalid as refusal:
            attempt = QuizAttempt.objects.get(pk=attempt_id, user=request.user)
            for message in refusal.checked.errors:
                messages.error(request, message)
            return self.render_form(attempt, refusal.checked.form, status=400)
        return redirect(attempt_url(attempt))

    def get_attempt(self, attempt_id):
        """The trainee's own attempt; a submitted attempt also for those who follow the trainee."""
        attempt = QuizAttempt.objects.select_related("user", "quiz").filter(pk=attempt_id).first()
        if attempt is None:
            raise Http404(_("没有找到这份答卷。"))
        user = self.request.user
        if attempt.user_id == user.pk:
            return attempt
        if attempt.is_submitted and follows_trainee(user, attempt.user):
            return attempt
        raise Http404(_("没有找到这份答卷。"))

    def render_form(self, attempt, form, status=200):
        context = {"attempt": attempt, "form": form, "rows": form.rows()}
        return render(self.request, "training/attempt_form.html", context, status=status)

    def result(self, attempt):
        rows = result_rows(attempt)
        context = {
            "attempt": attempt,
            "own": attempt.user_id == self.request.user.pk,
            "trainee": trainee_name(attempt.user),
            "duration": quizzes.duration_label(attempt.seconds),
            "rows": rows,
            "correct_count": sum(1 for row in rows if row["correct"]),
        }
        return render(self.request, "training/attempt_result.html", context)


attempt = AttemptView.as_view()


def result_rows(attempt):
    """One row per question of a submitted attempt, graded again from its snapshot: the trainee's
    answer, the right one and each option's explanation and citation."""
    rows = []
    for number, question in enumerate(attempt.drawn, 1):
        answer = attempt.answers.get(str(question["id"]))
        chosen = answer if isinstance(answer, list) else []
        options = quizzes.shown_options(question)
        by_id = {option["id"]: option for option in question["options"]}
        row = {
            "number": number,
            "question": question,
            "type": question["type"],
            "type_label": QuestionType(question["type"]).label
            if question["type"] in QuestionType.values
            else "",
            "correct": answer_is_correct(question, answer),
            "typed": answer if isinstance(answer, str) else "",
            "options": [
                {**option, "chosen": option["id"] in chosen}
                for option in (question["options"] if question["type"] == QuestionType.FILL else options)
            ],
        }
        if question["type"] == QuestionType.ORDERING:
            row["your_order"] = [by_id[i] for i in chosen if i in by_id]
            row["right_order"] = list(question["options"])
        rows.append(row)
    return rows
