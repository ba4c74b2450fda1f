"""复核完成 in one click: from the page's admin header and in bulk from the 待复核内容 report."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageLogEntry, Revision

from kb_site.content.models import ArticlePage
from kb_site.content.review import REVIEWED
from tests.factories import ArticlePageFactory, publish

LONG_AGO = datetime.timedelta(days=200)


@pytest.fixture
def stale(section, trainer):
    today = timezone.localdate()
    article = ArticlePageFactory(
        parent=section,
        title="过期的规范",
        slug="stale",
        last_reviewed=today - LONG_AGO,
        review_interval_days=180,
    )
    return publish(article)


@pytest.fixture
def stale2(section):
    today = timezone.localdate()
    article = ArticlePageFactory(
        parent=section,
        title="另一篇过期规范",
        slug="stale2",
        last_reviewed=today - LONG_AGO,
        review_interval_days=90,
    )
    return publish(article)


def review_url(page):
    return reverse("content_review_page", args=[page.pk])


def test_trainer_reviews_from_the_page_header_with_a_note(client, trainer, stale):
    client.force_login(trainer)
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[stale.pk])).content.decode()
    assert review_url(stale) in edit

    revisions = Revision.objects.filter(object_id=str(stale.pk)).count()
    assert client.get(review_url(stale)).status_code == 200
    response = client.post(review_url(stale), {"note": "与新版服务协议核对无误"})
    assert response.status_code == 302

    page = ArticlePage.objects.get(pk=stale.pk)
    today = timezone.localdate()
    assert page.last_reviewed == today
    assert page.review_due == today + datetime.timedelta(days=180)
    assert not page.is_review_overdue
    # no content edit, no workflow: no new revision, nothing waiting for approval
    assert Revision.objects.filter(object_id=str(stale.pk)).count() == revisions
    assert not page.has_unpublished_changes
    assert page.current_workflow_state is None

    entry = PageLogEntry.objects.get(page=stale, action=REVIEWED)
    assert entry.user == trainer
    history = client.get(reverse("wagtailadmin_pages:history", args=[stale.pk])).content.decode()
    assert "复核完成：与新版服务协议核对无误" in history
    report = client.get("/admin/reports/overdue-review/").content.decode()
    assert "过期的规范" not in report


def test_trainer_reviews_from_the_page_itself_and_comes_back_to_it(client, trainer, agent, stale):
    """On the front end the 待复核 badge has 复核完成 beside it, for editors only."""
    client.force_login(agent)
    page = client.get(stale.url).content.decode()
    assert "badge-overdue" in page and 'class="review-link"' not in page
    client.force_login(trainer)
    page = client.get(stale.url).content.decode()
    link = f"{review_url(stale)}?next={stale.url}"
    assert "待复核" in page and link in page
    response = client.post(link, {"note": "已核对"})
    assert response.status_code == 302 and response.url == stale.url
    page = client.get(stale.url).content.decode()
    assert "标记为复核完成" in page  # the admin's message, shown back on the page
    assert "badge-overdue" not in page and 'class="review-link"' not in page


def test_those_who_cannot_edit_are_refused(client, agent, newhire, stale):
    for user in (agent, newhire):
        client.force_login(user)
        assert client.post(review_url(stale), {"note": "x"}).status_code in (302, 403)
    assert ArticlePage.objects.get(pk=stale.pk).last_reviewed == stale.last_reviewed
    assert not PageLogEntry.objects.filter(action=REVIEWED).exists()


def test_a_page_without_review_or_a_tampered_id_is_not_found(client, trainer, section):
    client.force_login(trainer)
    assert client.post(reverse("content_review_page", args=[section.pk])).status_code == 404
    assert client.post(reverse("content_review_page", args=[999999])).status_code == 404


def test_publishing_an_older_draft_keeps_the_review_date(client, trainer, supervisor, stale):
    """A draft saved before the review holds the old date; publishing it must not bring it back."""
    stale.summary = "草稿里的新摘要"
    draft = stale.save_revision(user=trainer)
    assert (
        Revision.objects.get(pk=draft.pk).content["last_reviewed"]
        == (timezone.localdate() - LONG_AGO).isoformat()
    )

    client.force_login(trainer)
    client.post(review_url(stale), {"note": ""})
    # the editor opens the latest revision: it shows the reviewed date
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[stale.pk])).content.decode()
    assert timezone.localdate().isoformat() in edit

    # as an approval does: the draft read from the database, where the review updated it
    Revision.objects.get(pk=draft.pk).publish(user=supervisor, skip_permission_checks=True)
    page = ArticlePage.objects.get(pk=stale.pk)
    assert page.summary == "草稿里的新摘要"
    assert page.last_reviewed == timezone.localdate()
    assert not page.is_review_overdue


def test_bulk_review_from_the_overdue_report(client, trainer, section, stale, stale2):
    client.force_login(trainer)
    report = client.get("/admin/reports/overdue-review/").content.decode()
    assert f'name="id" value="{stale.pk}"' in report and f'name="id" value="{stale2.pk}"' in report
    bulk = reverse("wagtail_bulk_action", args=["wagtailcore", "page", "mark_reviewed"])
    query = f"?id={stale.pk}&id={stale2.pk}&id={section.pk}&next=/admin/reports/overdue-review/"
    confirm = client.get(bulk + query).content.decode()
    assert "过期的规范" in confirm and "另一篇过期规范" in confirm

    response = client.post(bulk + query, {"note": "季度复核"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/reports/overdue-review/"
    today = timezone.localdate()
    assert ArticlePage.objects.get(pk=stale.pk).last_reviewed == today
    assert ArticlePage.objects.get(pk=stale2.pk).review_due == today + datetime.timedelta(days=90)
    assert PageLogEntry.objects.filter(action=REVIEWED).count() == 2  # the section is not reviewable
    assert PageLogEntry.objects.filter(action=REVIEWED, data__note="季度复核").count() == 2
    assert "过期的规范" not in client.get("/admin/reports/overdue-review/").content.decode()


def test_bulk_review_refused_without_edit_permission(client, agent, stale):
    client.force_login(agent)
    bulk = reverse("wagtail_bulk_action", args=["wagtailcore", "page", "mark_reviewed"])
    client.post(bulk + f"?id={stale.pk}", {"note": ""})
    assert ArticlePage.objects.get(pk=stale.pk).last_reviewed == stale.last_reviewed
    assert not PageLogEntry.objects.filter(action=REVIEWED).exists()


def test_overdue_report_export_has_no_checkbox_column(client, trainer, stale):
    client.force_login(trainer)
    response = client.get("/admin/reports/overdue-review/?export=csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "过期的规范" in body and "checkbox" not in body and "选择" not in body


def test_an_editor_can_still_correct_a_wrong_review_date(stale):
    """复核完成 moves the date forward without an edit; a trainer may still set an earlier one by hand."""
    stale.last_reviewed = timezone.localdate() - datetime.timedelta(days=3)
    publish(stale)
    stale.last_reviewed = timezone.localdate() - datetime.timedelta(days=10)
    publish(stale)
    assert ArticlePage.objects.get(pk=stale.pk).last_reviewed == timezone.localdate() - datetime.timedelta(
        days=10
    )
