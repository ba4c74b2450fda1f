"""Classing a change in the editor: each change starts unclassed, a major one needs a summary, and an
erratum resets no trainee's confirmation."""

import time

import pytest
from django.urls import reverse
from wagtail.models import Revision
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from kb_site.content.models import ArticlePage
from tests.factories import ArticlePageFactory, publish
from tests.training.journeys import item, make_path, stage
from training import progress, reading

from .conftest import publish_change


@pytest.fixture
def article(section):
    return publish(ArticlePageFactory(parent=section, title="投诉处理原则", slug="principles"))


def edit_data(article, **changes):
    data = {
        "title": article.title,
        "slug": article.slug,
        "summary": "新摘要",
        "body": streamfield([("heading", "先安抚情绪")]),
        "tags": "",
        "related_pages": inline_formset([]),
        "maintainer": "",
        "last_reviewed": article.last_reviewed.isoformat(),
        "review_interval_days": "180",
        "change_class": "",
        "change_summary": "",
        "action-submit": "1",
    }
    data.update(changes)
    return nested_form_data(data)


def selected_class(html):
    start = html.index('name="change_class"')
    select = html[start : html.index("</select>", start)]
    return [value for value in ("major", "normal", "erratum") if f'value="{value}" selected' in select]


def test_a_new_edit_starts_unclassed_but_a_pending_draft_keeps_its_class(client, trainer, article):
    publish_change(article, "major", "上次的重大变更")
    client.force_login(trainer)
    edit_url = reverse("wagtailadmin_pages:edit", args=[article.pk])
    html = client.get(edit_url).content.decode()
    assert selected_class(html) == []
    assert "上次的重大变更" not in html

    page = ArticlePage.objects.get(pk=article.pk)
    page.change_class, page.change_summary = "erratum", "错别字"
    page.save_revision(user=trainer)  # a draft in progress
    html = client.get(edit_url).content.decode()
    assert selected_class(html) == ["erratum"]


def test_a_major_change_needs_a_summary(client, trainer, article):
    client.force_login(trainer)
    edit_url = reverse("wagtailadmin_pages:edit", args=[article.pk])
    revisions = Revision.objects.filter(object_id=str(article.pk)).count()
    response = client.post(edit_url, edit_data(article, change_class="major"))
    assert response.status_code == 200
    assert "重大变更请写一句变更说明" in response.content.decode()
    assert Revision.objects.filter(object_id=str(article.pk)).count() == revisions

    response = client.post(edit_url, edit_data(article, change_class="major", change_summary="先安抚再核实"))
    assert response.status_code == 302
    latest = Revision.objects.filter(object_id=str(article.pk)).latest("pk")
    assert latest.content["change_class"] == "major" and latest.content["change_summary"] == "先安抚再核实"


def test_an_erratum_does_not_ask_trainees_to_confirm_again(client, newhire, article):
    progress.assign(newhire, make_path(stage("业务培训", item("read", article=article.pk, min_seconds=1))))
    token = reading.make_token(newhire, article, article.live_revision_id, now=time.time() - 60)
    client.force_login(newhire)
    client.post(reverse("training:confirm_read", args=[article.pk]), {"token": token, "scrolled": "1"})
    assert reading.to_confirm(newhire) == []

    publish_change(article, "erratum", "错别字")
    assert reading.to_confirm(newhire) == []
    page = ArticlePage.objects.get(pk=article.pk)
    assert reading.confirm_state(newhire, page)["confirmed"] is not None

    publish_change(article, "normal", "补充了一条要点")
    items = reading.to_confirm(newhire)
    assert [(i["page"].pk, i["updated"]) for i in items] == [(article.pk, True)]
    assert "文章已更新，需重新确认" in client.get(reverse("training:to_confirm")).content.decode()
