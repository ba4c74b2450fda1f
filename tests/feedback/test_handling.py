"""Trainers and supervisors handle feedback at /feedback/; reporters follow theirs at /feedback/mine/."""

import pytest
from django.urls import reverse

from feedback import handling
from feedback.models import FeedbackLog, FeedbackNotice
from feedback.targets import resolve
from procedures.runs import start_run
from tests.factories import make_user, publish
from tests.feedback.conftest import block_ids
from tests.procedures.conftest import login

LIST = reverse("feedback:list")
MINE = reverse("feedback:mine")


@pytest.fixture
def sent(agent, article):
    target = resolve(agent, {"page": article.pk, "block": block_ids(article)[0]})
    return handling.submit(target, agent, "outdated", "时限已经改成五个工作日。")


@pytest.fixture
def group_sent(agent, section, phrasing):
    target = resolve(agent, {"page": section.pk, "phrasing": phrasing.pk})
    return handling.submit(target, agent, "unclear", "这句不好理解。")


def act(client, feedback, action, **data):
    return client.post(reverse("feedback:handle", args=[feedback.pk]), {"action": action, **data})


def titles(response):
    return [item["feedback"].text for item in response.context["items"]]


def test_the_owner_lists_feedback_assigned_to_them_and_their_group(
    client, trainer, sent, group_sent, article
):
    login(client, trainer)
    response = client.get(LIST)
    assert response.status_code == 200
    assert sorted(titles(response)) == sorted([sent.text, group_sent.text])
    page = response.content.decode()
    assert f"{article.url}#block-{block_ids(article)[0]}" in page and "小王" in page
    assert titles(client.get(LIST, {"kind": "unclear"})) == [group_sent.text]
    assert titles(client.get(LIST, {"status": "fixed"})) == []


def test_another_trainers_feedback_is_not_listed_nor_handled(client, sent):
    other = make_user("培训师", username="trainer2")
    sent.owner = make_user("培训师", username="trainer3")
    sent.save()
    login(client, other)
    assert titles(client.get(LIST)) == []
    assert act(client, sent, "reject", note="不是问题").status_code == 404
    assert client.get(reverse("feedback:detail", args=[sent.pk])).status_code == 404
    sent.refresh_from_db()
    assert sent.status == "open"


def test_supervisors_see_all_and_agents_may_not_handle(client, supervisor, agent, sent):
    login(client, supervisor)
    assert titles(client.get(LIST)) == [sent.text]
    login(client, agent)
    assert client.get(LIST).status_code == 403
    assert act(client, sent, "reject", note="x").status_code == 403


def test_fixed_links_a_newer_revision_and_tells_the_reporter(client, trainer, agent, sent, article):
    newer = publish(article).live_revision
    login(client, trainer)
    # Only revisions newer than the reported one are offered.
    response = act(client, sent, "fix", revision=sent.revision_id)
    assert response.status_code == 400 and "请选择比反馈时更新的版本" in response.content.decode()
    response = act(client, sent, "fix", revision=newer.pk)
    assert response.status_code == 302
    sent.refresh_from_db()
    assert (sent.status, sent.fixed_revision) == ("fixed", newer)
    assert FeedbackNotice.objects.filter(user=agent, kind="fixed").count() == 1
    # A double submit: no second log row, a clear message.
    response = act(client, sent, "fix", revision=newer.pk)
    assert FeedbackLog.objects.filter(feedback=sent).count() == 2
    assert "这条反馈现在是“已修正”" in str(list(client.get(LIST).context["messages"]))
    login(client, agent)
    page = client.get(MINE).content.decode()
    assert "已修正" in page and f"已在版本 #{newer.pk} 修正" in page


def test_rejecting_needs_a_reason(client, trainer, agent, sent):
    login(client, trainer)
    response = act(client, sent, "reject", note="  ")
    assert response.status_code == 400 and "不采纳时请写明原因" in response.content.decode()
    sent.refresh_from_db()
    assert sent.status == "open"
    act(client, sent, "reject", note="时限没有变，以系统为准。")
    sent.refresh_from_db()
    assert (sent.status, sent.reject_reason) == ("rejected", "时限没有变，以系统为准。")
    login(client, agent)
    assert "时限没有变，以系统为准。" in client.get(MINE).content.decode()


def test_a_question_goes_to_the_reporter_whose_answer_reopens_it(client, trainer, agent, other_agent, sent):
    login(client, trainer)
    act(client, sent, "ask", note="是哪个渠道的订单？")
    sent.refresh_from_db()
    assert sent.status == "needs_info"
    assert FeedbackNotice.objects.filter(user=agent, kind="question").exists()
    answer_url = reverse("feedback:answer", args=[sent.pk])
    login(client, other_agent)
    assert client.post(answer_url, {"answer": "我来答"}).status_code == 404
    login(client, agent)
    assert "是哪个渠道的订单？" in client.get(MINE).content.decode()
    client.post(answer_url, {"answer": ""})
    sent.refresh_from_db()
    assert sent.status == "needs_info"
    client.post(answer_url, {"answer": "天猫店的订单。"})
    sent.refresh_from_db()
    assert (sent.status, sent.answer) == ("open", "天猫店的订单。")
    assert FeedbackNotice.objects.filter(user=trainer, kind="answered").exists()
    # The answer sent twice: nothing more is logged.
    client.post(answer_url, {"answer": "天猫店的订单。"})
    assert list(FeedbackLog.objects.filter(feedback=sent).values_list("to_status", flat=True)) == [
        "open",
        "needs_info",
        "open",
    ]


def test_a_tampered_action_is_a_400_and_changes_nothing(client, trainer, sent):
    login(client, trainer)
    response = act(client, sent, "delete")
    assert response.status_code == 400 and "没有这个操作" in response.content.decode()
    response = act(client, sent, "fix", revision="abc")
    assert response.status_code == 400
    assert client.post(f"/feedback/{'9' * 30}/handle/", {"action": "fix"}).status_code == 404
    sent.refresh_from_db()
    assert sent.status == "open" and FeedbackLog.objects.filter(feedback=sent).count() == 1


def test_the_detail_shows_the_history_to_the_reporter_only(client, trainer, agent, other_agent, sent):
    login(client, trainer)
    act(client, sent, "ask", note="哪个渠道？")
    login(client, agent)
    page = client.get(reverse("feedback:detail", args=[sent.pk])).content.decode()
    assert "待处理 → 需补充信息：哪个渠道？" in page
    login(client, other_agent)
    assert client.get(reverse("feedback:detail", args=[sent.pk])).status_code == 404
    assert titles_mine(client) == []


def titles_mine(client):
    return [f.text for f in client.get(MINE).context["items"]]


def test_feedback_from_a_run_links_its_replay_for_supervisors_and_its_handler(
    client, supervisor, trainer, agent, procedure, run
):
    login(client, agent)
    client.post(
        reverse("procedures:move", args=[run.pk]),
        {"step": run.current_step, "seq": run.next_seq, "action": "next"},
    )
    run.refresh_from_db()
    assert run.current_step != "greet"
    target = resolve(agent, {"page": procedure.pk, "step": run.current_step, "run": str(run.pk)})
    feedback = handling.submit(target, agent, "unclear", "这一步不清楚。")
    replay = reverse("procedures:replay", args=[run.pk, feedback.replay_seq])
    login(client, supervisor)
    assert replay in client.get(LIST).content.decode()
    assert client.get(replay).status_code == 200
    # A trainer sees agents' runs as figures only (no view_procedurerun), but the run a remark was sent
    # from is evidence the agent chose to share: its handler may open that replay, and no other run.
    login(client, trainer)
    page = client.get(LIST).content.decode()
    assert "来自流程运行" in page and replay in page
    assert client.get(replay).status_code == 200
    other = start_run(procedure, agent, variables={"客户称呼": "李先生", "订单号": "A200"})
    assert client.get(reverse("procedures:replay_start", args=[other.pk])).status_code == 404
    # Someone who handles no remark on that run (a supervisor-less colleague agent) still gets 404.
    login(client, make_user("坐席", username="agent9"))
    assert client.get(replay).status_code == 404
