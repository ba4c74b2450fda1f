"""Stale content: the 待复核 badge and the admin listing of everything overdue."""

import datetime

import pytest
from django.utils import timezone

from tests.factories import ArticlePageFactory, publish


@pytest.fixture
def pages(section, trainer):
    today = timezone.localdate()
    stale = ArticlePageFactory(
        parent=section,
        title="过期的规范",
        slug="stale",
        maintainer=trainer,
        last_reviewed=today - datetime.timedelta(days=200),
        review_interval_days=180,
    )
    fresh = ArticlePageFactory(
        parent=section, title="新的规范", slug="fresh", last_reviewed=today, review_interval_days=180
    )
    return publish(stale), publish(fresh)


def test_review_due_is_derived_on_save(pages):
    stale, fresh = pages
    assert stale.review_due == stale.last_reviewed + datetime.timedelta(days=180)
    assert stale.is_review_overdue
    assert not fresh.is_review_overdue


def test_badge_on_section_listing(agent_client, section, pages):
    html = agent_client.get(section.url).content.decode()
    stale_card = html[html.index("过期的规范") :][:400]
    fresh_card = html[html.index("新的规范") :][:400]
    assert "待复核" in stale_card
    assert "待复核" not in fresh_card


def test_overdue_report_lists_only_overdue(client, trainer, pages):
    client.force_login(trainer)
    response = client.get("/admin/reports/overdue-review/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "过期的规范" in html
    assert "新的规范" not in html
    assert "20 天" in html  # 200 days since review, interval 180


def test_overdue_report_exports_csv(client, trainer, pages):
    client.force_login(trainer)
    response = client.get("/admin/reports/overdue-review/?export=csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "过期的规范" in body and "新的规范" not in body
    assert "逾期天数" in body


def test_overdue_report_is_for_editors_only(client, agent, pages):
    client.force_login(agent)
    assert client.get("/admin/reports/overdue-review/").status_code in (302, 403)


def test_reviewing_again_clears_the_badge(pages):
    stale, _ = pages
    stale.last_reviewed = timezone.localdate()
    publish(stale)
    assert not stale.is_review_overdue
