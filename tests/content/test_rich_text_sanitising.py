"""Rich text written outside the editor (ORM, loaders, imports) is sanitised like the editor's output."""

import pytest

from kb_site.content.models import ArticlePage
from kb_site.content.richtext import sanitize_rich_text
from tests.factories import ArticlePageFactory, publish

HOSTILE = (
    '<p>少货处理<script>alert(1)</script></p><img src="x" onerror="alert(2)">'
    '<svg onload="alert(3)"></svg><a href="javascript:alert(4)">点我</a>'
    '<p onclick="alert(5)">正文</p>'
)


def assert_harmless(html):
    for marker in ("<script", "alert(1)", "onerror", "<svg", "onload", "javascript:", "onclick", "<img"):
        assert marker not in html, marker


def test_the_editors_own_markup_is_kept():
    html = (
        '<p data-block-key="a1">先<b>安抚</b>，再<i>记录</i>：<a linktype="page" id="3">少货规范</a>'
        '<a href="https://example.com/x">外链</a><br/></p><ol><li data-block-key="b2">一</li></ol><h3>标题</h3>'
    )
    clean = sanitize_rich_text(html)
    for kept in (
        'data-block-key="a1"',
        "<b>安抚</b>",
        "<i>记录</i>",
        'linktype="page" id="3"',
        'href="https://example.com/x"',
        "<ol>",
        "<h3>标题</h3>",
    ):
        assert kept in clean


@pytest.mark.django_db
def test_an_article_paragraph_saved_through_the_orm_renders_harmless(client, agent, section):
    page = ArticlePageFactory(parent=section, title="少货处理规范", slug="missing")
    page.body = [("paragraph", HOSTILE)]
    publish(page)
    stored = ArticlePage.objects.get(pk=page.pk).body.raw_data[0]["value"]
    assert_harmless(stored)  # sanitised on the way in, too
    client.force_login(agent)
    html = client.get(page.url).content.decode()
    assert "少货处理" in html and "正文" in html
    main = html.split("<main", 1)[1]
    assert_harmless(main)
