"""Agents send feedback from articles, phrasings, procedure steps and runs; bad targets save nothing."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from wagtail.models import PageViewRestriction

from feedback.models import Feedback, FeedbackLog, FeedbackNotice
from tests.factories import make_user
from tests.feedback.conftest import block_ids
from tests.procedures.conftest import login

NEW = reverse("feedback:new")


def send(client, kind="unclear", text="这里说的时限和系统不一致。", **target):
    return client.post(NEW, {"kind": kind, "text": text, **target})


def test_an_article_block_has_a_feedback_link_and_the_form_opens_in_place(client, agent, article):
    login(client, agent)
    page = client.get(article.url).content.decode()
    paragraph, phrasing_block = block_ids(article)
    url = f"{NEW}?page={article.pk}&amp;block={paragraph}"
    assert (
        f'<span class="feedback-action"><a class="feedback-link" href="{url}" hx-get="{url}" '
        'hx-target="next .feedback-slot" hx-swap="innerHTML" title="告诉负责人这里有错误、过时或不清楚">反馈</a>'
        '</span><div class="feedback-slot" aria-live="polite"></div>'
    ) in page
    assert "反馈这句话术" in page
    response = client.get(NEW, {"page": article.pk, "block": paragraph}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'name="kind"' in body and "将提交给 李培训" in body


def test_feedback_on_an_article_block_goes_to_its_owner(client, agent, trainer, article):
    login(client, agent)
    paragraph = block_ids(article)[0]
    response = send(client, page=article.pk, block=paragraph)
    assert response.status_code == 200
    assert "已提交给 李培训" in response.content.decode()
    feedback = Feedback.objects.get()
    assert (feedback.reporter, feedback.page_id, feedback.block_id) == (agent, article.pk, paragraph)
    assert feedback.owner == trainer and feedback.owner_group is None
    assert feedback.revision_id == article.live_revision_id and feedback.status == "open"
    assert FeedbackLog.objects.get().to_status == "open"
    assert list(FeedbackNotice.objects.values_list("user__username", "kind")) == [("trainer", "new")]


def test_feedback_on_an_articles_library_phrasing(client, agent, article, phrasing):
    login(client, agent)
    send(client, kind="error", page=article.pk, block=block_ids(article)[1], phrasing=phrasing.pk)
    feedback = Feedback.objects.get()
    assert feedback.phrasing == phrasing and feedback.kind == "error"
    assert feedback.anchor == f"#block-{block_ids(article)[1]}"


def test_feedback_on_a_phrasing_card_of_its_section_page(client, agent, section, phrasing, trainer):
    login(client, agent)
    assert "反馈这句话术" in client.get(section.url).content.decode()
    response = send(client, page=section.pk, phrasing=phrasing.pk)
    feedback = Feedback.objects.get()
    # A section has no owner: the trainers' group handles it, and each trainer is told.
    assert feedback.owner is None and feedback.owner_group == Group.objects.get(name="培训师")
    assert "已提交给 培训师" in response.content.decode()
    assert list(FeedbackNotice.objects.values_list("user", flat=True)) == [trainer.pk]


def test_feedback_on_a_procedure_step_from_the_overview(client, agent, procedure):
    login(client, agent)
    assert f"{NEW}?page={procedure.pk}&amp;step=verify" in client.get(procedure.url).content.decode()
    send(client, page=procedure.pk, step="verify")
    feedback = Feedback.objects.get()
    assert feedback.step_key == "verify" and feedback.run is None
    assert feedback.revision_id == procedure.live_revision_id


def test_feedback_from_inside_a_run_is_pinned_to_the_run_step_and_revision(client, agent, procedure, run):
    login(client, agent)
    page = client.get(run.get_absolute_url()).content.decode()
    assert "反馈这一步" in page
    # A newer revision published mid-run: the feedback still names the run's.
    run_revision = run.revision_id
    procedure.save_revision().publish()
    response = send(client, page=procedure.pk, step=run.current_step, run=run.pk)
    assert response.status_code == 200
    feedback = Feedback.objects.get()
    assert (feedback.run_id, feedback.step_key, feedback.revision_id) == (
        run.pk,
        run.current_step,
        run_revision,
    )


def test_a_page_the_user_cannot_see_is_404_and_nothing_saved(client, agent, article):
    login(client, agent)
    article.unpublish()
    assert send(client, page=article.pk, block=block_ids(article)[0]).status_code == 404
    article.save_revision().publish()
    PageViewRestriction.objects.create(page=article, restriction_type="password", password="x")
    assert send(client, page=article.pk, block=block_ids(article)[0]).status_code == 404
    assert send(client, page="99999999999999999999").status_code == 404
    assert send(client, page="abc").status_code == 404
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    "target, message",
    [
        ({"block": "no-such-block"}, "文章中没有这一段"),
        ({"step": "greet"}, "规范文章没有流程步骤"),
        ({"phrasing": "123456"}, "这条话术不在这个页面上"),
    ],
)
def test_a_part_that_is_not_on_the_article_is_a_clear_message(client, agent, article, target, message):
    login(client, agent)
    response = send(client, page=article.pk, **target)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Feedback.objects.exists()


def test_an_unknown_step_and_another_agents_run_save_nothing(client, agent, other_agent, procedure, run):
    login(client, agent)
    response = send(client, page=procedure.pk, step="no-such-step")
    assert response.status_code == 400 and "流程中没有这一步" in response.content.decode()
    login(client, other_agent)
    assert send(client, page=procedure.pk, step=run.current_step, run=run.pk).status_code == 404
    assert send(client, page=procedure.pk, step=run.current_step, run="not-a-uuid").status_code == 404
    assert not Feedback.objects.exists()


def test_empty_or_too_long_text_and_a_tampered_type_are_form_errors(client, agent, article):
    login(client, agent)
    paragraph = block_ids(article)[0]
    response = send(client, text="   ", page=article.pk, block=paragraph)
    assert response.status_code == 400 and "请写下哪里有问题" in response.content.decode()
    response = send(client, text="长" * 2001, page=article.pk, block=paragraph)
    assert response.status_code == 400 and "最多 2000 个字" in response.content.decode()
    response = send(client, kind="hacked", page=article.pk, block=paragraph)
    assert response.status_code == 400 and "请选择列出的反馈类型" in response.content.decode()
    # Sent from the form opened in place: the fragment with the error (htmx swaps no 4xx answer).
    response = client.post(
        NEW, {"kind": "error", "text": "", "page": article.pk, "block": paragraph}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and "请写下哪里有问题" in body
    assert not Feedback.objects.exists()


def test_a_new_hire_can_send_feedback_too(client, newhire, article):
    login(client, newhire)
    assert send(client, page=article.pk, block=block_ids(article)[0]).status_code == 200
    assert Feedback.objects.get().reporter == newhire


def test_no_owner_and_no_trainers_still_saves(client, agent, section, phrasing):
    Group.objects.get(name="培训师").user_set.clear()
    make_user("主管")
    login(client, agent)
    assert send(client, page=section.pk, phrasing=phrasing.pk).status_code == 200
    assert Feedback.objects.count() == 1 and not FeedbackNotice.objects.exists()


def test_feedback_on_a_phrasing_of_the_run_step_names_the_library_phrasing(client, agent, procedure, run):
    login(client, agent)
    assert run.current_step == "greet"
    page = client.get(run.get_absolute_url()).content.decode()
    assert "phrasing_index=0" in page and "反馈这句话术" in page
    send(client, page=procedure.pk, step="greet", run=run.pk, phrasing_index="0")
    feedback = Feedback.objects.get()
    assert (
        feedback.phrasing.title == "开场问候" and feedback.step_key == "greet" and feedback.run_id == run.pk
    )
    response = send(client, page=procedure.pk, step="greet", run=run.pk, phrasing_index="7")
    assert response.status_code == 400 and "这一步没有这条话术" in response.content.decode()
    response = send(client, page=procedure.pk, step="greet", run=run.pk, phrasing_index="x")
    assert response.status_code == 400 and Feedback.objects.count() == 1


def test_feedback_on_a_sub_procedure_step_goes_to_that_procedure_pinned_to_the_run(
    client, agent, trainer, section
):
    from tests.procedures.test_procedure_views import start, step
    from tests.procedures.test_subprocedures import add_procedure, block

    verify = add_procedure(
        section,
        "verify-identity",
        "身份核验",
        [
            block("question", key="ask", title="核对手机号后四位", answers=[{"label": "一致", "next": "ok"}]),
            block("outcome", key="ok", title="核验通过", outcome="已核实"),
        ],
        outcomes="已核实",
    )
    verify.maintainer = trainer
    verify.save_revision().publish()
    verify.refresh_from_db()
    pinned = verify.live_revision_id
    caller = add_procedure(
        section,
        "caller",
        "少货登记",
        [
            block("subprocedure", key="verify", title="核验身份", procedure=verify.pk, next="done"),
            block("outcome", key="done", title="已登记", outcome="已解决"),
        ],
    )
    login(client, agent)
    run = start(client, caller)
    run.refresh_from_db()
    assert run.current_step == "verify/ask"
    verify.save_revision().publish()  # a newer 身份核验 mid-run: the feedback names the pinned one
    response = send(client, page=caller.pk, step="verify/ask", run=run.pk)
    assert response.status_code == 200 and "已提交给 李培训" in response.content.decode()
    feedback = Feedback.objects.get()
    assert (feedback.page_id, feedback.step_key, feedback.revision_id, feedback.run_id) == (
        verify.pk,
        "ask",
        pinned,
        run.pk,
    )
    assert feedback.owner == trainer
    step(client, run, answer="0")  # the run goes on
