"""The 新员工培训 admin menu through the real snippet editors: options that must fit a question's type,
golden paths ticked from a procedure's live steps, cohorts and assignments that create progress rows."""

# The fixtures are imported from fixtures_team (tests/training/conftest.py belongs to the quiz tests):
# a test's argument of the same name is pytest's injection, not a redefinition.
# ruff: noqa: F811

import datetime

import pytest
from django.urls import reverse
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from training.models import Cohort, ItemProgress, PathAssignment, Question, ScenarioCard

from .fixtures_team import mentor, path, procedure  # noqa: F401

pytestmark = pytest.mark.django_db


def option(text, correct=False):
    return {
        "text": text,
        "correct": "on" if correct else "",
        "explanation": "",
        "cite_page": "",
        "cite_anchor": "",
        "cite_phrasing": "",
        "id": "",
        "ORDER": "",
        "DELETE": "",
    }


def question_data(section, qtype, options, **extra):
    data = {
        "section": section.pk,
        "type": qtype,
        "stem": "客户说：“我都打了三次电话了！”你怎么回答？",
        "options": inline_formset(options),
        "procedure": "",
        "step_key": "",
        "explanation": "",
    }
    data.update(extra)
    return nested_form_data(data)


def test_trainer_sees_the_training_menu_and_the_agent_does_not(client, trainer, agent):
    url = reverse("wagtailsnippets_training_question:list")
    client.force_login(trainer)
    assert client.get(url).status_code == 200
    client.force_login(agent)
    assert client.get(url).status_code in (302, 403)


def test_question_list_filters_by_section_and_type(client, trainer, section, home):
    from tests.factories import SectionPageFactory

    other = SectionPageFactory(parent=home, title="报修专线", slug="repair")
    Question.objects.create(section=section, type="single", stem="电商单选题")
    Question.objects.create(section=other, type="fill", stem="报修填写题")
    client.force_login(trainer)
    url = reverse("wagtailsnippets_training_question:list")
    body = client.get(url, {"section": section.pk}).content.decode()
    assert "电商单选题" in body and "报修填写题" not in body
    body = client.get(url, {"type": "fill"}).content.decode()
    assert "报修填写题" in body and "电商单选题" not in body
    assert client.get(url, {"section": "9" * 30}).status_code == 200


def test_true_false_question_with_three_options_is_refused(client, trainer, section):
    client.force_login(trainer)
    data = question_data(section, "true_false", [option("对", True), option("错"), option("不确定")])
    response = client.post(reverse("wagtailsnippets_training_question:add"), data)
    assert response.status_code == 200
    assert "判断题只有两个选项" in str(response.context["form"].non_field_errors())
    assert not Question.objects.exists()


def test_single_choice_needs_exactly_one_right_option(client, trainer, section):
    client.force_login(trainer)
    data = question_data(section, "single", [option("先道歉", True), option("先解释", True)])
    response = client.post(reverse("wagtailsnippets_training_question:add"), data)
    assert "有且只有一个正确选项" in str(response.context["form"].non_field_errors())
    assert not Question.objects.exists()


def test_deleted_options_do_not_count(client, trainer, section):
    client.force_login(trainer)
    options = [option("先道歉", True), option("先解释"), {**option("多余的对", True), "DELETE": "1"}]
    response = client.post(
        reverse("wagtailsnippets_training_question:add"), question_data(section, "single", options)
    )
    assert response.status_code == 302
    question = Question.objects.get()
    assert [o.text for o in question.options.all()] == ["先道歉", "先解释"]


def test_cohort_saved_in_the_admin_assigns_its_path(client, trainer, path, mentor, newhire, agent):
    client.force_login(trainer)
    data = {
        "name": "2026 年 11 月第一批",
        "path": path.pk,
        "start_date": "2026-11-02",
        "mentor": mentor.pk,
        "members": [newhire.pk, agent.pk],
    }
    response = client.post(reverse("wagtailsnippets_training_cohort:add"), data)
    assert response.status_code == 302, response.context["form"].errors
    cohort = Cohort.objects.get()
    assignments = PathAssignment.objects.filter(cohort=cohort)
    assert {a.user_id for a in assignments} == {newhire.pk, agent.pk}
    assert all(a.mentor_id == mentor.pk and a.start_date == datetime.date(2026, 11, 2) for a in assignments)
    assert ItemProgress.objects.filter(assignment__cohort=cohort).count() == 6
    assert assignments.first().total_items == 3

    # Editing the cohort: a new member gets the path too.
    from kb_site.content import roles
    from tests.factories import make_user

    late = make_user(roles.NEW_HIRE, username="late")
    data["members"] = [newhire.pk, agent.pk, late.pk]
    response = client.post(reverse("wagtailsnippets_training_cohort:edit", args=[cohort.pk]), data)
    assert response.status_code == 302
    assert PathAssignment.objects.filter(user=late, path=path, cohort=cohort).exists()


def test_assignment_saved_in_the_admin_gets_its_items(client, supervisor, path, mentor, newhire):
    client.force_login(supervisor)
    data = {
        "user": newhire.pk,
        "path": path.pk,
        "start_date": "2026-03-01",
        "mentor": mentor.pk,
        "cohort": "",
    }
    response = client.post(reverse("wagtailsnippets_training_pathassignment:add"), data)
    assert response.status_code == 302, response.context["form"].errors
    assignment = PathAssignment.objects.get()
    rows = list(assignment.items.order_by("stage_index", "position"))
    assert [r.due_date for r in rows] == [
        datetime.date(2026, 3, 2),
        datetime.date(2026, 3, 3),
        datetime.date(2026, 3, 4),
    ]
    assert assignment.total_items == 3 and assignment.current_stage_title == "业务培训"

    # A later start date moves the due dates.
    data["start_date"] = "2026-03-10"
    response = client.post(
        reverse("wagtailsnippets_training_pathassignment:edit", args=[assignment.pk]), data
    )
    assert response.status_code == 302
    assert assignment.items.get(item_id="i1").due_date == datetime.date(2026, 3, 11)

    # The same trainee on the same path twice is a form error, not a 500.
    response = client.post(reverse("wagtailsnippets_training_pathassignment:add"), data)
    assert response.status_code == 200
    assert PathAssignment.objects.count() == 1


def card_data(procedure, golden_path):
    return {
        "procedure": procedure.pk,
        "title": "少货：客户收到 3 件少 1 件",
        "persona": "老客户，语气急",
        "facts": "订单号 1234",
        "expected_outcome": "已解决",
        "golden_path": golden_path,
        "must_say": [],
        "expected_minutes": "",
    }


def test_new_card_takes_step_keys_one_per_line(client, trainer, procedure):
    client.force_login(trainer)
    url = reverse("wagtailsnippets_training_scenariocard:add")
    response = client.post(url, card_data(procedure, "ask\nnowhere"))
    assert response.status_code == 200
    assert "nowhere" in str(response.context["form"].errors["golden_path"])
    assert not ScenarioCard.objects.exists()

    response = client.post(url, card_data(procedure, "ask\n\n resend \n"))
    assert response.status_code == 302, response.context["form"].errors
    assert ScenarioCard.objects.get().golden_path == ["ask", "resend"]


def test_editing_a_card_ticks_the_live_steps_in_procedure_order(client, trainer, procedure):
    card = ScenarioCard.objects.create(
        procedure=procedure, title="少货", persona="老客户", facts="订单号 1234", golden_path=["ask"]
    )
    client.force_login(trainer)
    url = reverse("wagtailsnippets_training_scenariocard:edit", args=[card.pk])
    response = client.get(url)
    field = response.context["form"].fields["golden_path"]
    assert [key for key, _label in field.choices] == ["ask", "resend", "refund"]
    body = response.content.decode()
    assert 'type="checkbox" name="golden_path" value="ask"' in body

    response = client.post(url, card_data(procedure, ["refund", "ask"]))
    assert response.status_code == 302, response.context["form"].errors
    card.refresh_from_db()
    assert card.golden_path == ["ask", "refund"]

    response = client.post(url, card_data(procedure, ["ask", "typed-by-hand"]))
    assert response.status_code == 200
    card.refresh_from_db()
    assert card.golden_path == ["ask", "refund"]


def test_agent_cannot_create_training_snippets(client, agent, path):
    client.force_login(agent)
    response = client.post(reverse("wagtailsnippets_training_cohort:add"), {"name": "x", "path": path.pk})
    assert response.status_code in (302, 403)
    assert not Cohort.objects.exists()


@pytest.mark.parametrize(
    "model", ["learningpath", "question", "quiz", "scenariocard", "cohort", "pathassignment"]
)
def test_every_training_editor_opens_for_a_trainer(client, trainer, model, path, mentor, newhire):
    from training import progress

    progress.assign(newhire, path, mentor=mentor)
    client.force_login(trainer)
    for view in ("list", "add"):
        response = client.get(reverse(f"wagtailsnippets_training_{model}:{view}"))
        assert response.status_code == 200, (model, view)
    response = client.get(reverse(f"wagtailsnippets_training_{model}:list"), {"export": "xlsx"})
    assert response.status_code == 200
    # The sidebar is drawn from JSON in the page (text escaped): look for the menu's link.
    menu = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse(f"wagtailsnippets_training_{model}:list") in menu


def test_a_quiz_with_attempts_or_in_a_path_is_not_deleted(client, supervisor, section, newhire):
    """Deleting a quiz that trainees answered, or that a path uses, is refused with a message (was a 500)."""
    from training.models import LearningPath, Question, QuestionOption, Quiz, QuizAttempt
    from training.quizzes import start_attempt

    question = Question.objects.create(section=section, type="true_false", stem="先安抚情绪？")
    QuestionOption.objects.create(question=question, text="对", correct=True)
    QuestionOption.objects.create(question=question, text="错", correct=False)
    answered = Quiz.objects.create(title="已作答", section=section)
    start_attempt(answered, newhire)
    used = Quiz.objects.create(title="路径在用", section=section)
    LearningPath.objects.create(
        title="上岗路径",
        stages=[
            {
                "type": "stage",
                "value": {
                    "title": "业务培训",
                    "gate": "all_done",
                    "items": [{"type": "quiz", "value": {"quiz": used.pk, "due_day": 3}}],
                },
            }
        ],
    )
    unused = Quiz.objects.create(title="没人用", section=section)
    client.force_login(supervisor)
    for quiz, message in [(answered, "已有作答记录"), (used, "上岗路径")]:
        response = client.post(reverse("wagtailsnippets_training_quiz:delete", args=[quiz.pk]), follow=True)
        assert response.status_code == 200 and message in response.content.decode()
        assert Quiz.objects.filter(pk=quiz.pk).exists()
    bulk = (
        reverse("wagtail_bulk_action", args=["training", "quiz", "delete"])
        + f"?id={answered.pk}&id={unused.pk}"
    )
    response = client.post(bulk, follow=True)
    assert response.status_code == 200 and "已有作答记录" in response.content.decode()
    assert Quiz.objects.filter(pk=unused.pk).exists() and QuizAttempt.objects.count() == 1
    client.post(reverse("wagtailsnippets_training_quiz:delete", args=[unused.pk]))
    assert not Quiz.objects.filter(pk=unused.pk).exists()


def test_path_and_cohort_forms_offer_roles_and_people_by_name(client, trainer, supervisor, newhire, agent):
    client.force_login(trainer)
    html = client.get(reverse("wagtailsnippets_training_learningpath:add")).content.decode()
    assert "新员工" in html and "Editors" not in html and "Moderators" not in html
    form = client.get(reverse("wagtailsnippets_training_cohort:add")).context["form"]
    offered = {label for _value, label in form.fields["members"].choices}
    assert f"小陈（{newhire.username}）" in offered
    assert not any(supervisor.username in label for label in offered)
