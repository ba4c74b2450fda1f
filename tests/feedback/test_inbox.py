"""The site-wide inbox: feedback notices beside follow-up notices, newest first, and the bell for everyone."""

from django.urls import reverse
from django.utils import timezone

from feedback import handling
from feedback.models import FeedbackNotice
from feedback.targets import resolve
from followups.models import FollowUp, Notice
from tests.feedback.conftest import block_ids
from tests.procedures.conftest import login

INBOX = reverse("inbox")
READ = reverse("inbox_read")


def test_the_owner_is_told_of_new_feedback_and_the_reporter_of_the_result(client, trainer, agent, article):
    target = resolve(agent, {"page": article.pk, "block": block_ids(article)[0]})
    feedback = handling.submit(target, agent, "error", "电话号码错了。")
    login(client, trainer)
    response = client.get(INBOX)
    assert response.context["unread"] == 1 and "🔔 1" in response.content.decode()
    assert "反馈·新反馈" in response.content.decode() and "错误：退款时限" in response.content.decode()
    notice = FeedbackNotice.objects.get(user=trainer)
    response = client.post(READ, {"notice": f"feedback-{notice.pk}", "open": "1"})
    assert response.url == reverse("feedback:detail", args=[feedback.pk])
    assert client.get(INBOX).context["unread"] == 0
    client.post(reverse("feedback:handle", args=[feedback.pk]), {"action": "reject", "note": "号码没错。"})
    login(client, agent)
    page = client.get(INBOX).content.decode()
    assert "反馈·不采纳" in page and 'class="header-bell has-unread"' in page


def test_both_kinds_newest_first_and_mark_all_read(client, agent, trainer, article, run):
    target = resolve(agent, {"page": article.pk, "block": block_ids(article)[0]})
    feedback = handling.submit(target, agent, "error", "电话号码错了。")
    handling.ask(feedback, trainer, "哪个号码？")
    due = timezone.now() + timezone.timedelta(days=1)
    follow_up = FollowUp.objects.create(
        kind="callback", title="回访王女士", source_run=run, due_at=due, original_due_at=due, assignee=agent
    )
    Notice.objects.create(user=agent, follow_up=follow_up, kind="assigned")
    login(client, agent)
    response = client.get(INBOX)
    assert [row["kind"] for row in response.context["notices"]] == ["assigned", "feedback-question"]
    assert response.context["unread"] == 2
    client.post(READ)
    assert client.get(INBOX).context["unread"] == 0
    # The old address still works.
    assert client.get("/followups/inbox/", follow=True).redirect_chain[-1][0] == INBOX


def test_another_users_or_a_tampered_notice_is_refused(client, agent, other_agent, trainer, article):
    target = resolve(agent, {"page": article.pk, "block": block_ids(article)[0]})
    handling.submit(target, agent, "error", "电话号码错了。")
    notice = FeedbackNotice.objects.get(user=trainer)
    login(client, other_agent)
    assert client.post(READ, {"notice": f"feedback-{notice.pk}"}).status_code == 404
    response = client.post(READ, {"notice": "anything-1"}, follow=True)
    assert "没有这条提醒" in response.content.decode()
    notice.refresh_from_db()
    assert notice.read_at is None


def test_every_user_has_the_bell_and_my_feedback_handlers_the_list(client, newhire, trainer, home):
    login(client, newhire)
    page = client.get(reverse("feedback:mine")).content.decode()
    assert 'class="header-bell"' in page and reverse("feedback:mine") in page
    assert f'href="{reverse("feedback:list")}"' not in page
    login(client, trainer)
    assert f'href="{reverse("feedback:list")}"' in client.get(reverse("feedback:mine")).content.decode()
