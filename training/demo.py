"""Load the training demo from ``fixtures/demo/training/*.yaml`` (format: fixtures/README.md).

Called by ``load_demo`` after the content and the procedures (``register_demo_loader``, order 40).
Each file belongs to one section and holds its question bank, quizzes, scenario cards and learning
paths; with the demo accounts it also creates demo new hires, a cohort, and what each trainee has done
so far, so the dashboards have data on the first start:

- read confirmations of the articles' live revisions, and quiz attempts started and submitted through
  ``training.quizzes`` (answers posted as the quiz page posts them), dated from the assignment's start
  (``day: N`` is D+N);
- practice runs made through the real run engine (``training.practice.start_practice``, then one
  ``procedures.forms.MoveForm`` / ``procedures.runs.apply_move`` per step along the card's golden path,
  or off it), scored as every practice run is when it ends; practice runs never count in statistics;
- offline tasks reported done (``progress.request_sign_off``), mentors' sign-offs and 需重学 with their
  reasons (``progress.set_status``).

Idempotent: questions are matched by stem within their section, quizzes, paths and cohorts by title or
name, cards by title within their procedure, users by username; existing ones are left alone unless
``update=True``. A trainee's record is written once, when their assignment to the path is created.
"""

import datetime
import random
import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from kb_site.content import roles
from kb_site.content.demo import DEMO_DIR, load_yaml
from kb_site.content.models import ArticlePage, Phrasing, SectionPage
from kb_site.content.profiles import AgentProfile
from kb_site.demo import DemoReport
from procedures import engine
from procedures.choices import ENDING_ACTIONS, EventAction, RunStatus, StepKind
from procedures.forms import VARIABLE_PREFIX, MoveForm
from procedures.models import ProcedurePage
from procedures.runs import apply_move

from . import practice, progress, quizzes
from .choices import Gate, ItemKind, QuestionType, Status
from .models import (
    Cohort,
    LearningPath,
    PathAssignment,
    Question,
    QuestionOption,
    Quiz,
    ReadConfirmation,
    ScenarioCard,
)

__all__ = ["DemoFixtureError", "load", "practise", "training_files"]

# Block ids of the demo paths are derived from this namespace, the path, the stage and the item, so
# reloading with ``update`` keeps them: a trainee's progress follows its item (ItemProgress.item_id).
ID_NAMESPACE = uuid.UUID("5b0c1f8e-3d52-4c41-9a43-7f1f6b0a9e21")
# Practice runs take a few seconds each; a runaway driver stops here instead of looping.
MAX_MOVES = 60


class DemoFixtureError(ValueError):
    """A training fixture that cannot be loaded; the message names the file and the problem."""


def training_files():
    return sorted((DEMO_DIR / "training").glob("*.yaml"))


def _block_id(*parts):
    return str(uuid.uuid5(ID_NAMESPACE, "/".join(str(p) for p in parts)))


class FileLoader:
    """One fixture file: its section, and the lookups its entries refer to (by slug, title or key)."""

    def __init__(self, path, update, report, trainer):
        self.path = path
        self.where = path.name
        self.update = update
        self.report = report
        self.trainer = trainer
        self.spec = load_yaml(path)
        self.section = SectionPage.objects.filter(slug=self.spec.get("section")).first()
        if self.section is None:
            self.fail(f"section {self.spec.get('section')!r} not found (load the sections first)")
        self.questions = {}  # fixture key -> Question

    def fail(self, message):
        raise DemoFixtureError(f"{self.where}: {message}")

    # --- lookups ---------------------------------------------------------------------------

    def article(self, slug):
        page = ArticlePage.objects.child_of(self.section).filter(slug=slug).first()
        if page is None:
            self.fail(f"article {slug!r} not found in section {self.section.slug!r}")
        return page

    def procedure(self, slug):
        page = ProcedurePage.objects.child_of(self.section).filter(slug=slug).first()
        if page is None:
            self.fail(f"procedure {slug!r} not found in section {self.section.slug!r}")
        return page

    def procedure_anywhere(self, slug):
        page = ProcedurePage.objects.filter(slug=slug).first()
        if page is None:
            self.fail(f"procedure {slug!r} not found")
        return page

    def phrasing(self, title):
        phrasing = Phrasing.objects.filter(section=self.section, title=title).first()
        if phrasing is None:
            self.fail(f"phrasing {title!r} not found in section {self.section.slug!r}")
        return phrasing

    def quiz(self, title):
        quiz = Quiz.objects.filter(title=title).first()
        if quiz is None:
            self.fail(f"quiz {title!r} not found (define it under quizzes:)")
        return quiz

    def question(self, key):
        if key not in self.questions:
            self.fail(f"question key {key!r} not defined under questions:")
        return self.questions[key]

    def step_keys(self, procedure):
        return [step["key"] for step in procedure.to_procedure().steps]

    def heading_anchor(self, article, heading):
        for block in article.body:
            if block.block_type == "heading" and str(block.value) == heading:
                return f"block-{block.id}"
        self.fail(f"article {article.slug!r} has no heading {heading!r}")

    def citation(self, cite, where):
        """``cite:`` of an option as QuestionOption fields: an article heading, a procedure step, a phrasing."""
        fields = {"cite_page": None, "cite_anchor": "", "cite_phrasing": None}
        if not cite:
            return fields
        if cite.get("article"):
            article = self.article(cite["article"])
            fields["cite_page"] = article
            if cite.get("heading"):
                fields["cite_anchor"] = self.heading_anchor(article, cite["heading"])
        elif cite.get("procedure"):
            procedure = self.procedure_anywhere(cite["procedure"])
            fields["cite_page"] = procedure
            if cite.get("step"):
                if cite["step"] not in self.step_keys(procedure):
                    self.fail(f"{where}: procedure {procedure.slug!r} has no step {cite['step']!r}")
                fields["cite_anchor"] = str(cite["step"])
        if cite.get("phrasing"):
            fields["cite_phrasing"] = self.phrasing(cite["phrasing"])
        return fields

    # --- question bank ---------------------------------------------------------------------

    def ensure_question(self, spec):
        where = f"question {spec.get('key') or spec['stem'][:20]!r}"
        stem = str(spec["stem"]).strip()
        question = Question.objects.filter(section=self.section, stem=stem).first()
        created = question is None
        if created or self.update:
            question = question or Question(section=self.section, stem=stem)
            question.type = spec["type"]
            question.explanation = str(spec.get("explanation", "")).strip()
            question.procedure = self.procedure_anywhere(spec["procedure"]) if spec.get("procedure") else None
            question.step_key = str(spec.get("step", ""))
            options = self.option_values(spec, question, where)
            problem = question.check_options(options)
            if problem:
                self.fail(f"{where}: {problem}")
            try:
                question.full_clean()
            except ValidationError as error:
                self.fail(f"{where}: {error}")
            question.save()
            existing = list(question.options.all().order_by("sort_order", "pk"))
            for index, values in enumerate(options):
                option = existing[index] if index < len(existing) else QuestionOption(question=question)
                for name, value in values.items():
                    setattr(option, name, value)
                option.sort_order = index
                option.save()
            for option in existing[len(options) :]:
                option.delete()
        self.report.add("questions", created)
        if spec.get("key"):
            self.questions[spec["key"]] = question
        return question

    def option_values(self, spec, question, where):
        if question.type == QuestionType.ORDERING and spec.get("steps"):
            procedure = question.procedure
            if procedure is None:
                self.fail(f"{where}: an ordering question with steps: needs procedure:")
            titles = {step["key"]: step["title"] for step in procedure.to_procedure().steps}
            options = []
            for item in spec["steps"]:
                item = item if isinstance(item, dict) else {"step": item}
                key = str(item["step"])
                if key not in titles:
                    self.fail(f"{where}: procedure {procedure.slug!r} has no step {key!r}")
                options.append(
                    {
                        "text": str(item.get("text") or titles[key]),
                        "correct": True,
                        "explanation": str(
                            item.get("why") or f"见流程“{procedure.title}”的“{titles[key]}”一步。"
                        ),
                        "cite_page": procedure,
                        "cite_anchor": key,
                        "cite_phrasing": None,
                    }
                )
            return options
        return [
            {
                "text": str(option["text"]).strip(),
                # a fill question's options are its accepted answers
                "correct": bool(option.get("correct")) or question.type == QuestionType.FILL,
                "explanation": str(option.get("why", "")).strip(),
                **self.citation(option.get("cite"), where),
            }
            for option in spec.get("options") or []
        ]

    # --- quizzes, cards, paths -------------------------------------------------------------

    def ensure_quiz(self, spec):
        quiz = Quiz.objects.filter(title=spec["title"]).first()
        created = quiz is None
        if created or self.update:
            quiz = quiz or Quiz(title=spec["title"])
            quiz.section = self.section
            quiz.draw_count = spec.get("draw_count", 10)
            quiz.pass_mark = spec.get("pass_mark")
            quiz.attempt_limit = spec.get("attempt_limit", 3)
            quiz.cooldown_minutes = spec.get("cooldown_minutes", 30)
            quiz.save()
            quiz.questions.set([self.question(key) for key in spec.get("questions") or []])
            quiz.save()
            quiz.save_revision(user=self.trainer, log_action=True)
        self.report.add("quizzes", created)
        return quiz

    def ensure_card(self, spec):
        procedure = self.procedure(spec["procedure"])
        card = ScenarioCard.objects.filter(procedure=procedure, title=spec["title"]).first()
        created = card is None
        if created or self.update:
            card = card or ScenarioCard(procedure=procedure, title=spec["title"])
            card.persona = str(spec["persona"]).strip()
            card.facts = str(spec["facts"]).strip()
            card.expected_outcome = str(spec.get("expected_outcome", ""))
            card.golden_path = [str(key) for key in spec.get("golden_path") or []]
            card.expected_minutes = spec.get("expected_minutes")
            try:
                card.full_clean()
            except ValidationError as error:
                self.fail(f"card {spec['title']!r}: {error}")
            card.save()
            card.must_say.set([self.phrasing(title) for title in spec.get("must_say") or []])
            card.save()
        self.report.add("scenario cards", created)
        return card

    def item_block(self, path_title, stage_title, kind, value):
        if kind not in ItemKind.values:
            self.fail(f"path {path_title!r}: unknown item kind {kind!r}")
        due_day = value.get("due_day")
        raw = {"due_day": due_day if isinstance(due_day, int) else None}
        if kind == ItemKind.READ:
            article = self.article(value["article"])
            ident = article.slug
            raw["article"] = article.pk
            raw["min_seconds"] = value.get("min_seconds")
            raw["check_questions"] = [
                {"type": "item", "value": self.question(key).pk, "id": _block_id(path_title, ident, key)}
                for key in value.get("check_questions") or []
            ]
        elif kind == ItemKind.PHRASINGS:
            ident = value["title"]
            raw["title"] = value["title"]
            raw["phrasings"] = [
                {"type": "item", "value": self.phrasing(title).pk, "id": _block_id(path_title, ident, title)}
                for title in value.get("phrasings") or []
            ]
            raw["quiz"] = self.quiz(value["quiz"]).pk
        elif kind == ItemKind.QUIZ:
            ident = value["quiz"]
            raw["quiz"] = self.quiz(value["quiz"]).pk
        elif kind == ItemKind.PRACTICE:
            procedure = self.procedure(value["procedure"])
            ident = procedure.slug
            raw["procedure"] = procedure.pk
            raw["passes"] = value.get("passes")
        else:
            ident = value["title"]
            raw["title"] = value["title"]
            raw["description"] = str(value.get("description", "")).strip()
        return {"type": kind, "value": raw, "id": _block_id(path_title, stage_title, kind, ident)}

    def stages(self, spec):
        stages = []
        for stage in spec.get("stages") or []:
            gate = stage.get("gate", Gate.ALL_DONE)
            if gate not in Gate.values:
                self.fail(f"path {spec['title']!r}: unknown gate {gate!r}")
            items = []
            for item in stage.get("items") or []:
                ((kind, value),) = item.items()
                items.append(self.item_block(spec["title"], stage["title"], kind, value))
            if not items:
                self.fail(f"path {spec['title']!r}: stage {stage['title']!r} has no items")
            stages.append(
                {
                    "type": "stage",
                    "value": {"title": stage["title"], "gate": gate, "items": items},
                    "id": _block_id(spec["title"], stage["title"]),
                }
            )
        return stages

    def ensure_path(self, spec):
        path = LearningPath.objects.filter(title=spec["title"]).first()
        created = path is None
        if created or self.update:
            path = path or LearningPath(title=spec["title"])
            path.description = str(spec.get("description", "")).strip()
            path.practice_passes = spec.get("practice_passes")
            path.stages = self.stages(spec)
            path.save()  # brings the assignments' items up to date (training.signals)
            path.save_revision(user=self.trainer, log_action=True)
        self.report.add("learning paths", created)
        return path


# --- demo new hires and what they did --------------------------------------------------------


def ensure_user(spec, report):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=spec["username"], defaults={"first_name": spec.get("first_name", "")}
    )
    if created:
        user.set_password(spec["password"])
        user.save()
    user.groups.add(Group.objects.get(name=roles.NEW_HIRE))
    if spec.get("工号"):
        AgentProfile.objects.get_or_create(user=user, defaults={"employee_number": str(spec["工号"])})
    report.add("users", created)
    return user


def _user(username, loader):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        loader.fail(f"user {username!r} not found (list them under users:, or use a demo account)")
    return user


class TraineeRecord:
    """Writes what one trainee did on one path, in the order the fixture lists it."""

    def __init__(self, loader, assignment, mentor):
        self.loader = loader
        self.assignment = assignment
        self.user = assignment.user
        self.mentor = mentor or loader.trainer
        self.attempts = 0

    def at(self, day, hour=10):
        """D+``day`` at ``hour`` o'clock (local time), never later than now."""
        date = self.assignment.start_date + datetime.timedelta(days=int(day or 0))
        moment = timezone.make_aware(datetime.datetime.combine(date, datetime.time(hour)))
        return min(moment, timezone.now() - datetime.timedelta(minutes=5))

    def row(self, ref):
        """An item of the assignment by its title, or a read item by its article's slug."""
        rows = list(self.assignment.items.all())
        for row in rows:
            if row.title == ref:
                return row
        article = ArticlePage.objects.filter(slug=ref).first()
        for row in rows:
            if article is not None and row.kind == ItemKind.READ and row.target_id == article.pk:
                return row
        self.loader.fail(f"{self.user.username}: no item {ref!r} in {self.assignment.path}")

    def do(self, entry):
        if "read" in entry:
            self.read(entry["read"], entry.get("day", 0))
        elif "quiz" in entry:
            self.quiz(entry["quiz"], entry.get("day", 0), entry.get("wrong", 0))
        elif "practice" in entry:
            self.practise(entry["practice"], entry.get("at"), entry.get("answer"))
        elif "request_sign_off" in entry:
            spec = entry["request_sign_off"]
            progress.request_sign_off(self.row(spec["item"]), self.user, now=self.at(spec.get("day", 0), 17))
        elif "sign_off" in entry:
            self.set_status(entry["sign_off"], Status.SIGNED_OFF)
        elif "relearn" in entry:
            self.set_status(entry["relearn"], Status.RELEARN)
        else:
            self.loader.fail(f"{self.user.username}: unknown entry {entry!r}")

    def read(self, slug, day):
        page = self.loader.article(slug)
        revision = page.live_revision
        confirmed_at = self.at(day, 9)
        ReadConfirmation.objects.get_or_create(
            user=self.user,
            revision=revision,
            defaults={"page": page, "dwell_seconds": 240, "confirmed_at": confirmed_at},
        )
        progress.refresh(self.user, ItemKind.READ, page.pk)

    def quiz(self, title, day, wrong):
        """One attempt, started and submitted as the quiz page does, with ``wrong`` of the questions
        drawn (the first ones) answered wrongly."""
        quiz = self.loader.quiz(title)
        self.attempts += 1
        started = self.at(day, 14)
        rng = random.Random(f"{self.user.username}/{quiz.title}/{self.attempts}")
        attempt = quizzes.start_attempt(quiz, self.user, now=started, rng=rng)
        data = MultiValueDict()
        for index, question in enumerate(attempt.drawn):
            answer = wrong_answer(question) if index < wrong else right_answer(question)
            name = f"q{question['id']}"
            if question["type"] == QuestionType.FILL:
                data[name] = answer
            elif question["type"] == QuestionType.ORDERING:
                for position, option_id in enumerate(answer, 1):
                    data[f"{name}-{option_id}"] = str(position)
            else:
                data.setlist(name, [str(option_id) for option_id in answer])
        submitted = started + datetime.timedelta(seconds=45 * len(attempt.drawn) + 30)
        try:
            return quizzes.submit_attempt(attempt.pk, self.user, data, now=submitted)
        except quizzes.AnswersInvalid as error:
            self.loader.fail(f"{self.user.username}: answers to {quiz.title!r} refused: {error}")

    def practise(self, card_title, leave_at=None, answer=None):
        card = ScenarioCard.objects.filter(title=card_title).first()
        if card is None:
            self.loader.fail(f"scenario card {card_title!r} not found")
        return practise(card, self.user, self.loader.card_values.get(card.pk, {}), leave_at, answer)

    def set_status(self, spec, status):
        row = self.row(spec["item"])
        progress.set_status(row, status, spec["reason"], by=self.mentor, now=self.at(spec.get("day", 0), 18))


def right_answer(question):
    options = question["options"]
    if question["type"] == QuestionType.FILL:
        return options[0]["text"]
    if question["type"] == QuestionType.ORDERING:
        return [option["id"] for option in options]
    return [option["id"] for option in options if option["correct"]]


def wrong_answer(question):
    options = question["options"]
    if question["type"] == QuestionType.FILL:
        return "请您稍等"
    if question["type"] == QuestionType.ORDERING:
        return [option["id"] for option in reversed(options)]
    wrong = [option["id"] for option in options if not option["correct"]]
    if question["type"] == QuestionType.MULTIPLE:
        right = [option["id"] for option in options if option["correct"]]
        return right[:-1] + wrong[:1] if wrong else right[:-1]
    return wrong[:1]


def practise(card, user, values, leave_at=None, answer=None):
    """One practice run of ``card`` by ``user`` through the run engine: along the golden path, or
    leaving it at step ``leave_at`` with the answer labelled ``answer`` (an ending such as
    ``escalate`` ends the run there) and then taking the first way on. Returns the scored session."""
    definition = card.procedure.specific.to_procedure()
    collected = {
        name for step in definition.steps if step.get("kind") == StepKind.INPUT for name in step["variables"]
    }
    # What the start form asks for (the values no input step collects), cleaned as the form cleans them.
    start_values = {
        name: engine.clean_value(definition.variables[name], str(value))
        for name, value in values.items()
        if name in definition.variables and name not in collected
    }
    run = practice.start_practice(card, user, variables=start_values)
    procedure = run.get_procedure()
    golden = list(card.golden_path)
    for _move in range(MAX_MOVES):
        if run.status != RunStatus.IN_PROGRESS:
            break
        step = procedure.step(run.current_step)
        data = {"step": run.current_step, "seq": run.next_seq, "note": ""}
        kind = step.get("kind")
        answers = step.get("answers") or []
        if leave_at == run.current_step and answer in ENDING_ACTIONS:
            data["action"] = answer
        elif kind == StepKind.QUESTION:
            labels = [a.get("label") for a in answers]
            if leave_at == run.current_step:
                chosen = labels.index(answer)
            else:
                position = golden.index(run.current_step) if run.current_step in golden else -1
                wanted = golden[position + 1] if 0 <= position < len(golden) - 1 else None
                nexts = [a.get("next") for a in answers]
                chosen = nexts.index(wanted) if wanted in nexts else 0
            data["answer"] = str(chosen)
        elif kind == StepKind.INSTRUCTION:
            data["action"] = EventAction.NEXT
            data["check"] = [str(index) for index in range(len(step.get("checklist") or []))]
        elif kind == StepKind.INPUT:
            data["action"] = EventAction.NEXT
            for name in step.get("variables") or []:
                data[VARIABLE_PREFIX + name] = str(values.get(name, ""))
        form = MoveForm(run, data=data)
        if not form.is_valid():
            raise DemoFixtureError(
                f"practice {card.title!r} at step {run.current_step!r}: {form.errors.as_text()}"
            )
        run = apply_move(run.pk, user, **form.move())
    if run.status == RunStatus.IN_PROGRESS:
        raise DemoFixtureError(f"practice {card.title!r}: the run did not end within {MAX_MOVES} moves")
    # The run's end is scored on commit (training.signals); inside an outer transaction (the whole
    # load, a test) that is later, so score it now: score_run does nothing for a run already scored.
    ended_early = leave_at is not None and answer in ENDING_ACTIONS and run.current_step == leave_at
    return practice.score_run(run, EventAction(answer) if ended_early else EventAction.OUTCOME)


def record(loader, spec, path, *, cohort=None, start_date=None, mentor=None):
    """Assign ``path`` to the trainee and, when the assignment is new, write what they did."""
    user = _user(spec["user"], loader)
    new = not PathAssignment.objects.filter(user=user, path=path).exists()
    assignment = progress.assign(user, path, start_date=start_date, mentor=mentor, cohort=cohort)
    loader.report.add("path assignments", new)
    if new:
        trainee = TraineeRecord(loader, assignment, mentor)
        for entry in spec.get("did") or []:
            trainee.do(entry)
    return assignment


def ensure_cohort(loader, spec):
    path = LearningPath.objects.filter(title=spec["path"]).first()
    if path is None:
        loader.fail(f"cohort {spec['name']!r}: path {spec['path']!r} not found")
    mentor = _user(spec["mentor"], loader) if spec.get("mentor") else None
    start = timezone.localdate() - datetime.timedelta(days=int(spec.get("start_days_ago", 0)))
    cohort = Cohort.objects.filter(name=spec["name"]).first()
    created = cohort is None
    if created:
        cohort = Cohort.objects.create(name=spec["name"], path=path, start_date=start, mentor=mentor)
    members = [_user(member["user"], loader) for member in spec.get("members") or []]
    new_members = [user for user in members if not cohort.members.filter(pk=user.pk).exists()]
    if new_members:
        cohort.members.add(*new_members)
        cohort.save()
    loader.report.add("cohorts", created)
    already = set(
        PathAssignment.objects.filter(path=path, user__in=members).values_list("user_id", flat=True)
    )
    progress.assign_cohort(cohort)
    for member in spec.get("members") or []:
        user = _user(member["user"], loader)
        if user.pk in already:
            loader.report.add("path assignments", False)
            continue
        trainee = TraineeRecord(loader, PathAssignment.objects.get(user=user, path=path), cohort.mentor)
        loader.report.add("path assignments", True)
        for entry in member.get("did") or []:
            trainee.do(entry)
    return cohort


def load_file(path, update, report, trainer, with_users):
    loader = FileLoader(path, update, report, trainer)
    spec = loader.spec
    for question in spec.get("questions") or []:
        loader.ensure_question(question)
    # Questions defined in other loads are still referable by key when nothing was created this time.
    for quiz in spec.get("quizzes") or []:
        loader.ensure_quiz(quiz)
    loader.card_values = {}
    for card_spec in spec.get("cards") or []:
        card = loader.ensure_card(card_spec)
        loader.card_values[card.pk] = card_spec.get("values") or {}
    for path_spec in spec.get("paths") or []:
        loader.ensure_path(path_spec)
    if not with_users:
        return
    for user_spec in spec.get("users") or []:
        ensure_user(user_spec, report)
    for cohort_spec in spec.get("cohorts") or []:
        ensure_cohort(loader, cohort_spec)
    for trainee in spec.get("trainees") or []:
        path = LearningPath.objects.filter(title=trainee["path"]).first()
        if path is None:
            loader.fail(f"trainee {trainee['user']!r}: path {trainee['path']!r} not found")
        start = timezone.localdate() - datetime.timedelta(days=int(trainee.get("start_days_ago", 0)))
        mentor = _user(trainee["mentor"], loader) if trainee.get("mentor") else None
        record(loader, trainee, path, start_date=start, mentor=mentor)


def load(update=False, report=None, with_users=True, **options):
    """Create (or with ``update`` refresh) the training demo. Returns the report."""
    report = report if report is not None else DemoReport()
    trainer = get_user_model().objects.filter(username="trainer").first()
    with transaction.atomic():
        for path in training_files():
            load_file(path, update, report, trainer, with_users)
    return report
