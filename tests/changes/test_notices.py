"""Major changes: who is asked, the diff they see, acknowledging it, the refusals until they do."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from changes.models import ChangeNotice, NoticeRecipient, PageView
from kb_site.content import roles
from procedures.models import ProcedureRun
from tests.factories import make_user
from tests.training.journeys import item, make_path, stage
from training import progress
from training.models import ReadConfirmation

from .conftest import publish_change, retitle_first_answer, run_live


@pytest.fixture
def viewer(db):
    return make_user(roles.AGENT, username="viewer", first_name="小赵")


@pytest.fixture
def major(missing_item, agent, other_agent, viewer, newhire, trainer, client):
    """少货处理 published as a major change after: ``agent`` ran it, ``other_agent`` only practised it 40
    days ago... (not asked), ``viewer`` opened it, ``newhire`` has it on a learning path."""
    run_live(agent, missing_item)
    run_live(other_agent, missing_item, practice=True)
    client.force_login(viewer)
    assert client.get(missing_item.url).status_code == 200
    client.logout()
    progress.assign(newhire, make_path(stage("试接", item("practice", procedure=missing_item.pk, passes=1))))
    publish_change(missing_item, "major", "外包装问题要请客户拍照", user=trainer, edit=retitle_first_answer)
    return ChangeNotice.objects.get()


def test_page_views_are_one_row_per_user_page_and_day(client, agent, missing_item):
    client.force_login(agent)
    for _ in range(3):
        client.get(missing_item.url)
    view = PageView.objects.get()
    assert (view.user, view.page_id, view.day, view.count) == (
        agent,
        missing_item.pk,
        timezone.localdate(),
        3,
    )


def test_major_change_asks_those_who_ran_opened_or_learn_it(
    major, agent, other_agent, viewer, newhire, trainer
):
    asked = {r.user: r.reasons for r in NoticeRecipient.objects.filter(notice=major)}
    assert set(asked) == {agent, viewer, newhire}
    assert "运行过流程" in asked[agent]
    assert "打开过页面" in asked[viewer]
    assert "学习路径包含" in asked[newhire]
    assert major.summary == "外包装问题要请客户拍照"
    assert major.due_at - major.published_at == datetime.timedelta(days=7)


def test_old_runs_and_other_classes_ask_nobody(missing_item, agent, trainer):
    run_live(agent, missing_item, days_ago=40)
    publish_change(missing_item, "major", "旧运行不算", user=trainer)
    assert not NoticeRecipient.objects.exists()
    run_live(agent, missing_item)
    publish_change(missing_item, "normal", user=trainer)
    publish_change(missing_item, "erratum", user=trainer)
    assert ChangeNotice.objects.count() == 1


def test_the_procedure_opens_with_the_notice_and_refuses_a_live_run(client, major, agent, missing_item):
    client.force_login(agent)
    response = client.get(missing_item.url)
    assert response.status_code == 302
    notice_url = reverse("changes:notice", args=[major.pk])
    assert response["Location"].startswith(notice_url)

    runs = ProcedureRun.objects.count()
    start = reverse("procedures:start", args=[missing_item.pk])
    response = client.post(start, {"ref": "CALL-1", "v-客户称呼": "王女士"}, follow=True)
    html = response.content.decode()
    assert "请先确认变更再开始" in html and notice_url in html
    assert ProcedureRun.objects.count() == runs

    # the notice: what changed, before and after, marked per character
    html = client.get(notice_url).content.decode()
    assert "外包装问题要请客户拍照" in html
    assert "<ins>（请客户拍照）</ins>" in html
    assert "未改动" in html
    assert "我已了解这些变更" in html

    # the home panel lists it
    assert notice_url in client.get("/").content.decode()


def test_acknowledging_records_once_and_lets_the_run_start(client, major, agent, missing_item):
    client.force_login(agent)
    url = reverse("changes:notice", args=[major.pk])
    for _ in range(2):  # a double submit
        response = client.post(url, {"revision": major.revision_id, "next": missing_item.url})
        assert response.status_code == 302 and response["Location"] == missing_item.url
    confirmation = ReadConfirmation.objects.get(user=agent)
    assert confirmation.revision_id == major.revision_id and confirmation.kind == "change"
    assert confirmation.page_id == missing_item.pk and confirmation.dwell_seconds is None

    assert client.get(missing_item.url).status_code == 200
    response = client.post(
        reverse("procedures:start", args=[missing_item.pk]), {"ref": "C", "v-客户称呼": "王女士"}
    )
    assert response.status_code == 302 and "/runs/" in response["Location"]
    assert (
        reverse("changes:notice", args=[major.pk]) not in client.get(reverse("changes:mine")).content.decode()
    )


def test_an_acknowledgement_not_asked_for_is_refused(client, major, trainer, supervisor, agent):
    client.force_login(supervisor)
    url = reverse("changes:notice", args=[major.pk])
    response = client.post(url, {"revision": major.revision_id})
    assert response.status_code == 403
    assert "你没有被要求确认这次变更" in response.content.decode()
    client.force_login(agent)
    response = client.post(url, {"revision": major.previous_revision_id})
    assert response.status_code == 400
    assert "确认的版本与这条变更通知不符" in response.content.decode()
    response = client.post(url, {"revision": "10" * 20})
    assert response.status_code == 400
    assert not ReadConfirmation.objects.exists()
    assert client.get(reverse("changes:notice", args=[999999])).status_code == 404


def test_an_article_shows_the_notice_at_the_top(client, section, agent, trainer):
    from tests.factories import ArticlePageFactory, publish

    article = publish(
        ArticlePageFactory(parent=section, slug="rules", body=[("heading", "补发时限 48 小时")])
    )
    client.force_login(agent)
    client.get(article.url)

    def shorten(page):
        page.body = [("heading", "补发时限 24 小时")]

    publish_change(article, "major", "补发时限缩短", user=trainer, edit=shorten)
    notice = ChangeNotice.objects.get()
    html = client.get(article.url).content.decode()
    assert "补发时限缩短" in html and reverse("changes:notice", args=[notice.pk]) in html
    diff = client.get(reverse("changes:notice", args=[notice.pk])).content.decode()
    # a new block id (the heading was replaced): shown as removed and added
    assert "<del>补发时限 48 小时</del>" in diff and "<ins>补发时限 24 小时</ins>" in diff


def test_acknowledgement_report_and_who_is_pending(client, major, agent, viewer, trainer, supervisor):
    client.force_login(agent)
    client.post(reverse("changes:notice", args=[major.pk]), {"revision": major.revision_id})
    for user in (trainer, supervisor):
        client.force_login(user)
        html = client.get("/admin/reports/change-acknowledgements/").content.decode()
        assert "少货处理" in html and "重大变更" in html
        pending = client.get(reverse("changes_acknowledgements:pending", args=[major.pk])).content.decode()
        assert "小赵" in pending and "小陈" in pending and "小王" not in pending
    response = client.get("/admin/reports/change-acknowledgements/?export=csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = body.splitlines()[:2]
    assert header.split(",")[-4:] == ["应确认", "已确认", "未确认", "逾期未确认"]
    assert row.split(",")[-4:] == ["3", "1", "2", "0"]
    ChangeNotice.objects.update(due_at=timezone.now() - datetime.timedelta(days=1))
    body = b"".join(client.get("/admin/reports/change-acknowledgements/?export=csv").streaming_content)
    assert body.decode("utf-8-sig").splitlines()[1].split(",")[-1] == "2"

    client.force_login(agent)
    assert client.get("/admin/reports/change-acknowledgements/").status_code in (302, 403)
