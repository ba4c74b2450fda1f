"""Taking a quiz: drawing an attempt, reading and grading the answers, and the rules between attempts.

- ``start_attempt(quiz, user)`` draws questions at random from the quiz's bank and snapshots them into
  a new ``QuizAttempt`` (with the quiz revision and pass mark of the moment), after checking the
  rules: the attempt limit, the cooldown after a failed attempt. An attempt still open is returned
  instead of a second one, so a double click on 开始 starts one attempt.
- ``submit_attempt(attempt_id, user, data)`` grades the posted answers against the snapshot, records
  the score and one ``AttemptAnswer`` per question, and refreshes the trainee's learning path.
- ``AnswerForm`` is where answers are validated (one field per question; one position per option for
  ordering questions, so the page works without JavaScript); ``check_answers`` parses and grades any
  list of snapshots with it, for other pages that ask a few questions (read-and-confirm).
- ``standing(quiz, user)`` is what the quiz page shows: attempts used, best score, cooldown, why a new
  attempt would be refused.

A quiz already passed may be taken again while under the attempt limit (to practise or to improve the
best score): the learning-path item stays 已完成, since ``training.progress`` counts any passed attempt.
Refusals are ``training.progress.NotAllowed`` with a message for the trainee.
"""

import dataclasses
import datetime
import random

from django import forms
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from zhtext import clean_text

from . import progress
from .choices import ONE_CORRECT, ItemKind, QuestionType
from .models import AttemptAnswer, Question, QuizAttempt, TrainingSettings
from .models.quizzes import MAX_COOLDOWN_MINUTES
from .progress import NotAllowed
from .scoring import answer_is_correct, quiz_percent

__all__ = [
    "AlreadySubmitted",
    "AnswerForm",
    "AnswersInvalid",
    "CheckedAnswers",
    "NotAllowed",
    "QuestionResult",
    "QuizStanding",
    "check_answers",
    "default_pass_mark",
    "draw",
    "duration_label",
    "pass_mark_for",
    "shown_options",
    "standing",
    "start_attempt",
    "submit_attempt",
]

FILL_MAX_LENGTH = 500  # AttemptAnswer.text
OPTION_NOT_IN_QUESTION = gettext_lazy("这个答案不是这道题的选项。")


class AlreadySubmitted(NotAllowed):
    """A second submission of an attempt: nothing is recorded; ``attempt`` is the one already marked."""

    def __init__(self, attempt):
        super().__init__(_("这份答卷已经交过了。"))
        self.attempt = attempt


class AnswersInvalid(NotAllowed):
    """Answers that cannot be marked (a question unanswered, an option from elsewhere): nothing is
    recorded; ``checked.form`` carries the errors to show with the form again."""

    def __init__(self, checked):
        super().__init__(" ".join(checked.form.non_field_errors()))
        self.checked = checked


# --- settings -------------------------------------------------------------------------------------


def default_pass_mark():
    """The pass mark of the training settings (培训设置), for quizzes that do not set their own."""
    return TrainingSettings.load().pass_mark


def pass_mark_for(quiz):
    return quiz.pass_mark if quiz.pass_mark is not None else default_pass_mark()


# --- the form -------------------------------------------------------------------------------------


def shown_options(question):
    """A snapshot's options in the order the trainee sees them (``shown``, else the question's own)."""
    options = question.get("options") or []
    order = question.get("shown")
    if not order:
        return list(options)
    by_id = {option["id"]: option for option in options}
    return [by_id[option_id] for option_id in order if option_id in by_id]


def _choices(options):
    return [(str(option["id"]), option["text"]) for option in options]


@dataclasses.dataclass
class AnswerRow:
    """One question of an ``AnswerForm`` for a template: its number, snapshot, bound fields and errors."""

    number: int
    question: dict
    fields: list
    errors: list

    @property
    def type(self):
        return self.question["type"]

    @property
    def type_label(self):
        return _type_label(self.type)

    @property
    def field(self):
        """The one field of a question that is not an ordering question."""
        return self.fields[0] if self.fields else None

    @property
    def is_ordering(self):
        return self.type == QuestionType.ORDERING

    @property
    def is_multiple(self):
        return self.type == QuestionType.MULTIPLE

    @property
    def is_fill(self):
        return self.type == QuestionType.FILL


def _type_label(qtype):
    return QuestionType(qtype).label if qtype in QuestionType.values else ""


class AnswerForm(forms.Form):
    """The answers to a list of question snapshots.

    Field names start with ``name_prefix`` (``q`` by default) and the question id: ``q7`` holds the
    chosen option id (radio buttons; check boxes for multiple choice) or the typed text of a fill
    question; an ordering question has one position field per option, ``q7-21`` = the position (1…n)
    the trainee gives option 21. Every question must be answered; an option id that is not one of the
    question's, a position used twice, anything that is not a number: the question gets an error and
    the form a summary (还有 N 道题没有作答).

    ``answers()`` gives ``{question id: answer}`` as ``training.scoring.answer_is_correct`` takes it.
    Pages that ask questions of their own pass another ``name_prefix`` to keep field names apart.
    """

    def __init__(self, questions, data=None, *, name_prefix="q", **kwargs):
        super().__init__(data, **kwargs)
        self.questions = list(questions)
        self.name_prefix = name_prefix
        self.question_errors = {}
        self._answers = {}
        self._names = {}
        for question in self.questions:
            names = []
            for name, field in self.fields_for(question):
                self.fields[name] = field
                names.append(name)
            self._names[question["id"]] = names

    def name(self, question, option=None):
        base = f"{self.name_prefix}{question['id']}"
        return base if option is None else f"{base}-{option['id']}"

    def fields_for(self, question):
        """The ``(name, field)`` pairs that answer one question (override to add a question type)."""
        qtype = question["type"]
        options = shown_options(question)
        messages = {"invalid_choice": OPTION_NOT_IN_QUESTION}
        if qtype == QuestionType.FILL:
            widget = forms.TextInput(attrs={"autocomplete": "off", "class": "answer-fill"})
            yield (
                self.name(question),
                forms.CharField(
                    label=question["stem"], required=False, max_length=FILL_MAX_LENGTH, widget=widget
                ),
            )
        elif qtype == QuestionType.ORDERING:
            positions = [("", "—")] + [(str(n), str(n)) for n in range(1, len(options) + 1)]
            for option in options:
                yield (
                    self.name(question, option),
                    forms.TypedChoiceField(
                        label=option["text"],
                        choices=positions,
                        coerce=int,
                        required=False,
                        empty_value=None,
                        error_messages={"invalid_choice": _("位置要从列表中选。")},
                    ),
                )
        elif qtype == QuestionType.MULTIPLE:
            yield (
                self.name(question),
                forms.TypedMultipleChoiceField(
                    label=question["stem"],
                    choices=_choices(options),
                    coerce=int,
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                    error_messages=messages,
                ),
            )
        else:
            yield (
                self.name(question),
                forms.TypedChoiceField(
                    label=question["stem"],
                    choices=_choices(options),
                    coerce=int,
                    required=False,
                    empty_value=None,
                    widget=forms.RadioSelect,
                    error_messages=messages,
                ),
            )

    def clean(self):
        cleaned = super().clean()
        unanswered = unreadable = 0
        for question in self.questions:
            qid = question["id"]
            names = self._names[qid]
            if any(name in self._errors for name in names):
                unreadable += 1
                continue
            answer, error, missing = self._read(question, [cleaned.get(name) for name in names])
            if error:
                self.question_errors[qid] = [error]
                unanswered += missing
                unreadable += not missing
            else:
                self._answers[qid] = answer
        if unanswered:
            self.add_error(
                None,
                ngettext("还有 %(count)s 道题没有作答。", "还有 %(count)s 道题没有作答。", unanswered)
                % {"count": unanswered},
            )
        if unreadable:
            self.add_error(
                None,
                ngettext(
                    "有 %(count)s 道题的答案无法识别，请检查后再交卷。",
                    "有 %(count)s 道题的答案无法识别，请检查后再交卷。",
                    unreadable,
                )
                % {"count": unreadable},
            )
        return cleaned

    def _read(self, question, values):
        """``(answer, error, missing)`` of one question from its cleaned field values."""
        qtype = question["type"]
        if qtype == QuestionType.FILL:
            text = clean_text(values[0] or "").strip()
            return (text, None, False) if text else (None, _("请填写这道题。"), True)
        if qtype == QuestionType.ORDERING:
            options = shown_options(question)
            if all(v is None for v in values):
                return None, _("请给每一项排好位置。"), True
            if any(v is None for v in values):
                return None, _("还有选项没有排位置。"), True
            if len(set(values)) != len(values):
                return None, _("每个位置只能用一次。"), False
            ordered = sorted(zip(values, options, strict=True), key=lambda pair: pair[0])
            return [option["id"] for _position, option in ordered], None, False
        if qtype == QuestionType.MULTIPLE:
            chosen = list(dict.fromkeys(values[0] or []))
            return (chosen, None, False) if chosen else (None, _("请至少选一项。"), True)
        if qtype in ONE_CORRECT:
            return ([values[0]], None, False) if values[0] is not None else (None, _("请选一项。"), True)
        return None, _("这种题型无法作答。"), False

    def answers(self):
        """``{question id: answer}`` of a valid form."""
        if not self.is_valid():
            raise ValueError("answers() of an invalid AnswerForm")
        return dict(self._answers)

    def rows(self):
        """The questions with their bound fields and errors, numbered, for the template."""
        rows = []
        for number, question in enumerate(self.questions, 1):
            fields = [self[name] for name in self._names[question["id"]]]
            errors = list(self.question_errors.get(question["id"], []))
            for field in fields:
                errors.extend(e for e in field.errors if e not in errors)
            rows.append(AnswerRow(number, question, fields, errors))
        return rows


@dataclasses.dataclass
class QuestionResult:
    question: dict
    answer: object  # option ids (in the trainee's order for ordering) or typed text
    correct: bool


@dataclasses.dataclass
class CheckedAnswers:
    """What ``check_answers`` found: the bound form (its errors, if any) and one result per question."""

    form: AnswerForm
    results: list

    @property
    def is_valid(self):
        return not self.form.errors

    @property
    def errors(self):
        """The summary messages (empty when every question could be marked)."""
        return list(self.form.non_field_errors())

    @property
    def percent(self):
        return quiz_percent(result.correct for result in self.results)

    @property
    def all_correct(self):
        return bool(self.results) and all(result.correct for result in self.results)


def check_answers(snapshots, data, prefix="q"):
    """Parse and grade posted answers (``data``, e.g. ``request.POST``) to question snapshots.

    Returns ``CheckedAnswers``: when ``is_valid``, ``results`` has one ``QuestionResult`` per
    question, in order; otherwise ``results`` is empty and ``form`` (an ``AnswerForm``) says what is
    missing or wrong, to render again.
    """
    form = AnswerForm(snapshots, data, name_prefix=prefix)
    if not form.is_valid():
        return CheckedAnswers(form, [])
    answers = form.answers()
    results = [
        QuestionResult(
            question, answers[question["id"]], answer_is_correct(question, answers[question["id"]])
        )
        for question in form.questions
    ]
    return CheckedAnswers(form, results)


# --- the rules between attempts -------------------------------------------------------------------


def _local_time_label(moment, now):
    local = timezone.localtime(moment)
    if local.date() == timezone.localtime(now).date():
        return f"{local:%H:%M}"
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _refusal(quiz, submitted, now):
    """Why ``quiz`` may not be started again after the ``submitted`` attempts (newest first), or None;
    and when the trainee may try again, if that is what stands in the way."""
    if quiz.attempt_limit and len(submitted) >= quiz.attempt_limit:
        return (
            _("这个测验最多可以作答 %(limit)s 次，你已经答了 %(used)s 次，不能再答了。需要补考请联系培训师。")
            % {"limit": quiz.attempt_limit, "used": len(submitted)},
            None,
        )
    last_failed = next((a for a in submitted if not a.passed), None)
    if last_failed is not None and quiz.cooldown_minutes:
        # Bounded as the field is (a week): a value stored before the bound must not overflow the date.
        minutes = min(quiz.cooldown_minutes, MAX_COOLDOWN_MINUTES)
        retry_at = last_failed.submitted_at + datetime.timedelta(minutes=minutes)
        if now < retry_at:
            return (
                _("上次没有通过，要间隔 %(minutes)s 分钟才能再答：%(time)s 以后可以再试。")
                % {"minutes": minutes, "time": _local_time_label(retry_at, now)},
                retry_at,
            )
    return None, None


@dataclasses.dataclass
class QuizStanding:
    """One trainee and one quiz: what the quiz page shows and whether a new attempt may start."""

    quiz: object
    attempts: list  # newest first, the open one included
    submitted: list  # newest first
    open_attempt: object
    pass_mark: int
    question_count: int
    refusal: str | None
    retry_at: datetime.datetime | None

    @property
    def used(self):
        return len(self.submitted)

    @property
    def limit(self):
        return self.quiz.attempt_limit

    @property
    def remaining(self):
        return max(self.limit - self.used, 0) if self.limit else None

    @property
    def best_score(self):
        scores = [a.score for a in self.submitted if a.score is not None]
        return max(scores) if scores else None

    @property
    def passed(self):
        return any(a.passed for a in self.submitted)

    @property
    def may_start(self):
        return self.open_attempt is None and self.refusal is None and self.question_count > 0


def standing(quiz, user, now=None):
    now = now or timezone.now()
    attempts = list(QuizAttempt.objects.filter(quiz=quiz, user=user).defer("drawn", "answers"))
    submitted = sorted((a for a in attempts if a.is_submitted), key=lambda a: a.submitted_at, reverse=True)
    open_attempt = next((a for a in attempts if not a.is_submitted), None)
    refusal, retry_at = _refusal(quiz, submitted, now)
    bank = quiz.bank().count()
    count = min(quiz.draw_count or bank, bank)
    if not count and refusal is None:
        refusal = _("这个测验还没有题目，请联系培训师。")
    return QuizStanding(
        quiz=quiz,
        attempts=attempts,
        submitted=submitted,
        open_attempt=open_attempt,
        pass_mark=pass_mark_for(quiz),
        question_count=count,
        refusal=refusal,
        retry_at=retry_at,
    )


# --- starting and submitting ----------------------------------------------------------------------


def _display_order(question, rng):
    """The option ids in the order shown: shuffled (an ordering question never in its right order),
    except true/false, which reads 对 then 错, and fill, which shows no options."""
    ids = [option["id"] for option in question["options"]]
    if question["type"] in (QuestionType.TRUE_FALSE, QuestionType.FILL) or len(ids) < 2:
        return ids
    shown = list(ids)
    for _attempt in range(20):
        rng.shuffle(shown)
        if question["type"] != QuestionType.ORDERING or shown != ids:
            break
    if question["type"] == QuestionType.ORDERING and shown == ids:
        shown = ids[1:] + ids[:1]
    return shown


def draw(quiz, rng=None):
    """Snapshots of the questions drawn for one attempt, in the order they will be asked."""
    rng = rng or random.Random()
    questions = list(quiz.bank().prefetch_related("options", "options__cite_page", "options__cite_phrasing"))
    count = min(quiz.draw_count or len(questions), len(questions))
    drawn = []
    for question in rng.sample(questions, count):
        snapshot = question.snapshot()
        snapshot["shown"] = _display_order(snapshot, rng)
        drawn.append(snapshot)
    return drawn


def start_attempt(quiz, user, now=None, rng=None):
    """The trainee's open attempt at ``quiz``, or a new one; ``NotAllowed`` says why not."""
    now = now or timezone.now()
    with transaction.atomic():
        # One trainee's starts one at a time, so two clicks on 开始 cannot open two attempts.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        attempts = list(
            QuizAttempt.objects.filter(quiz=quiz, user=user).defer("drawn", "answers").order_by("-started_at")
        )
        open_attempt = next((a for a in attempts if not a.is_submitted), None)
        if open_attempt is not None:
            return open_attempt
        submitted = sorted(
            (a for a in attempts if a.is_submitted), key=lambda a: a.submitted_at, reverse=True
        )
        refusal, _retry_at = _refusal(quiz, submitted, now)
        if refusal:
            raise NotAllowed(refusal)
        drawn = draw(quiz, rng)
        if not drawn:
            raise NotAllowed(_("这个测验还没有题目，请联系培训师。"))
        revision = quiz.latest_revision
        if revision is None:
            # A quiz made outside the editor has no revision yet: record the one it is taken in.
            revision = quiz.save_revision(clean=False)
        return QuizAttempt.objects.create(
            quiz=quiz,
            quiz_title=quiz.title,
            revision=revision,
            user=user,
            drawn=drawn,
            pass_mark=pass_mark_for(quiz),
            started_at=now,
        )


def submit_attempt(attempt_id, user, data, now=None):
    """Mark ``user``'s attempt with the posted answers and record it; returns the attempt.

    Raises ``QuizAttempt.DoesNotExist`` for an attempt that is not the user's, ``AlreadySubmitted``
    for a second submission and ``AnswersInvalid`` for answers that cannot be marked (nothing is
    recorded in either case).
    """
    now = now or timezone.now()
    with transaction.atomic():
        attempt = QuizAttempt.objects.select_for_update().get(pk=attempt_id, user=user)
        if attempt.is_submitted:
            raise AlreadySubmitted(attempt)
        checked = check_answers(attempt.drawn, data)
        if not checked.is_valid:
            raise AnswersInvalid(checked)
        attempt.answers = {str(r.question["id"]): r.answer for r in checked.results}
        attempt.score = checked.percent
        attempt.passed = attempt.score >= attempt.pass_mark
        attempt.submitted_at = now
        attempt.save(update_fields=["answers", "score", "passed", "submitted_at"])
        # A question deleted since the draw keeps its answer row, without the link.
        existing = set(
            Question.objects.filter(pk__in=[r.question["id"] for r in checked.results]).values_list(
                "pk", flat=True
            )
        )
        AttemptAnswer.objects.bulk_create(
            AttemptAnswer(
                attempt=attempt,
                question_id=r.question["id"] if r.question["id"] in existing else None,
                chosen=r.answer if isinstance(r.answer, list) else [],
                text=r.answer if isinstance(r.answer, str) else "",
                correct=r.correct,
            )
            for r in checked.results
        )
    # After the commit: a failure in the learning path must not lose the trainee's answers.
    progress.refresh(user, (ItemKind.QUIZ, ItemKind.PHRASINGS), attempt.quiz_id)
    return attempt


def duration_label(seconds):
    """``3 分 05 秒`` style, for the time an attempt took."""
    if seconds is None:
        return ""
    minutes, seconds = divmod(int(seconds), 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return _("%(h)s 小时 %(m)s 分") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)s 分 %(s)02d 秒") % {"m": minutes, "s": seconds}
    return _("%(s)s 秒") % {"s": seconds}
