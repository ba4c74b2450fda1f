"""Parts of pages kept between requests (``kb_site.fragments``): the section menu, the home page's lists,
an article's breadcrumbs and body. The next request after a change shows it; a kept part never speaks
as another reader nor shows a reader what they may not see."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageViewRestriction, Site

from kb_site.content.demo import build_body
from kb_site.content.models import Phrasing
from kb_site.content.profiles import AgentProfile, CompanySettings
from search.caches import generations
from tests.factories import ArticlePageFactory, PhrasingFactory, SectionPageFactory, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def phrasing(section):
    return publish(
        PhrasingFactory(
            title="少货致歉", section=section, text="{公司名称}{工号}号为您服务，少发的商品马上补发。"
        )
    )


@pytest.fixture
def article(section, phrasing, trainer):
    body = build_body([{"heading": "核实信息"}, {"phrasing": "少货致歉"}], {"少货致歉": phrasing}, "test")
    page = ArticlePageFactory(
        parent=section, title="少货处理规范", slug="missing-item", body=body, maintainer=trainer
    )
    return publish(page)


def html_of(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def tables_read(client, url):
    with CaptureQueriesContext(connection) as queries:
        html_of(client, url)
    return " ".join(query["sql"] for query in queries.captured_queries)


def test_an_article_is_rendered_once_and_speaks_as_each_reader(client, agent, other_agent, article):
    AgentProfile.objects.create(user=agent, employee_number="1001")
    CompanySettings.objects.create(site=Site.objects.get(is_default_site=True), company_name="示范服务中心")
    client.force_login(agent)
    first = html_of(client, article.url)
    assert '<span class="ph ph-filled" data-ph="工号">1001</span>' in first
    assert '<span class="ph ph-filled" data-ph="公司名称">示范服务中心</span>' in first
    # Kept: the body's phrasing and tags are not read again, the reader's values are.
    sql = tables_read(client, article.url)
    assert "content_phrasing" not in sql and "taggit_tag" not in sql
    assert "content_agentprofile" in sql

    client.force_login(other_agent)  # no 工号 of their own: a gap, never the first reader's number
    html = html_of(client, article.url)
    assert "1001" not in html and 'data-ph="工号" placeholder="工号"' in html
    assert '<span class="ph ph-filled" data-ph="公司名称">示范服务中心</span>' in html


def test_a_new_publication_of_the_article_shows_at_once(agent_client, article):
    assert "核实信息" in html_of(agent_client, article.url)
    article.body = build_body([{"heading": "先安抚再核实"}], {}, "test")
    publish(article)
    html = html_of(agent_client, article.url)
    assert "先安抚再核实" in html and "核实信息" not in html


def test_a_phrasing_published_again_shows_in_the_article(agent_client, article, phrasing):
    assert "马上补发" in html_of(agent_client, article.url)
    phrasing.text = "少发的商品今天之内为您补发。"
    publish(phrasing)
    assert "今天之内为您补发" in html_of(agent_client, article.url)


def test_a_change_in_another_process_shows_once_it_bumps_the_generation(agent_client, article, phrasing):
    assert "马上补发" in html_of(agent_client, article.url)
    # Written behind this process's back: no signal here, the kept body stays...
    Phrasing.objects.filter(pk=phrasing.pk).update(text="少发的商品由仓库直接补发。")
    assert "马上补发" in html_of(agent_client, article.url)
    # ...until the other process's commit replaces the generation (search.caches).
    generations.bump("page_fragments")
    assert "仓库直接补发" in html_of(agent_client, article.url)


def test_reviewing_clears_the_badge_on_the_next_request(client, trainer, agent, article):
    article.last_reviewed = timezone.localdate() - datetime.timedelta(days=400)
    article.review_interval_days = 180
    publish(article)
    client.force_login(agent)
    assert "badge-overdue" in html_of(client, article.url)
    assert "badge-overdue" in html_of(client, "/")  # 最近更新
    client.force_login(trainer)
    response = client.post(reverse("content_review_page", args=[article.pk]), {"note": "核对无误"})
    assert response.status_code == 302
    client.force_login(agent)
    assert "badge-overdue" not in html_of(client, article.url)
    assert "badge-overdue" not in html_of(client, "/")


def test_the_menu_and_home_follow_publishing_renaming_and_unpublishing(agent_client, home, section, article):
    html = html_of(agent_client, "/")
    assert "少货处理规范" in html and "售后服务" not in html
    after_sales = SectionPageFactory(parent=home, title="售后服务", slug="after-sales")
    new = publish(ArticlePageFactory(parent=after_sales, title="退换货规范", slug="returns"))
    html = html_of(agent_client, article.url)
    assert f'href="{after_sales.url}"' in html  # the menu
    html = html_of(agent_client, "/")
    assert "售后服务" in html and "退换货规范" in html

    section.title = "电商客服"
    publish(section)
    assert "电商客服" in html_of(agent_client, article.url)  # menu and breadcrumbs
    new.unpublish()
    assert "退换货规范" not in html_of(agent_client, "/")


def test_a_restricted_section_is_kept_out_for_everyone(client, agent, supervisor, home, section, article):
    secret = SectionPageFactory(parent=home, title="主管专区", slug="leads")
    restriction = PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="主管"))
    for user in (supervisor, agent):
        client.force_login(user)
        assert "主管专区" not in html_of(client, "/")  # the menu and the home page list public pages only
    restriction.delete()
    assert "主管专区" in html_of(client, "/")


def test_a_restricted_article_read_by_one_role_is_not_shown_to_another(client, agent, supervisor, section):
    page = publish(ArticlePageFactory(parent=section, title="主管处理口径", slug="leads-only"))
    restriction = PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="主管"))
    client.force_login(supervisor)
    assert "主管处理口径" in html_of(client, page.url)
    client.force_login(agent)
    response = client.get(page.url)
    assert "主管处理口径" not in response.content.decode()


def test_related_content_is_kept_per_set_of_restrictions_the_reader_does_not_pass(
    client, agent, supervisor, section, article
):
    from kb_site.content.models import ArticleRelatedPage

    leads = publish(ArticlePageFactory(parent=section, title="主管处理口径", slug="leads-only"))
    restriction = PageViewRestriction.objects.create(page=leads, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="主管"))
    open_one = publish(ArticlePageFactory(parent=section, title="错货处理规范", slug="wrong-item"))
    article.related_pages = [ArticleRelatedPage(page=leads), ArticleRelatedPage(page=open_one)]
    publish(article)

    client.force_login(supervisor)
    html = html_of(client, article.url)
    assert "主管处理口径" in html and "错货处理规范" in html
    client.force_login(agent)
    for _ in range(2):  # rendered for the agent, then kept for the agent
        html = html_of(client, article.url)
        assert "主管处理口径" not in html and "错货处理规范" in html
    client.force_login(supervisor)
    assert "主管处理口径" in html_of(client, article.url)
    open_one.unpublish()
    assert "错货处理规范" not in html_of(client, article.url)
