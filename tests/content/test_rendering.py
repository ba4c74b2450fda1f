"""Every page type and block renders for a logged-in agent."""

import datetime

import pytest
from django.utils import timezone

from kb_site.content.demo import build_body
from tests.factories import ArticlePageFactory, PhrasingFactory, publish


@pytest.fixture
def phrasing(section):
    return PhrasingFactory(
        title="少货致歉", section=section, text="非常抱歉{客户称呼}，您的订单少发了{商品名称}。"
    )


@pytest.fixture
def article(section, phrasing, trainer):
    body = build_body(
        [
            {"heading": "核实信息"},
            {"paragraph": "先请客户提供订单号。\n\n再确认外包装。"},
            {
                "steps": {
                    "title": "处理步骤",
                    "items": ["核对发货单", {"title": "核对重量", "detail": "看面单称重"}],
                }
            },
            {"phrasing": "少货致歉"},
            {"phrasing": {"label": "安抚", "scenario": "客户很生气时", "text": "{客户称呼}，请您别着急。"}},
            {"callout": {"kind": "do", "items": ["先安抚再核实"]}},
            {"callout": {"kind": "dont", "items": ["未核实前承诺补发"]}},
            {
                "time_limits": {
                    "title": "投诉处理时限",
                    "rows": [
                        {"stage": "响应", "amount": 10, "unit": "minute"},
                        {"stage": "回访", "amount": 3, "unit": "day", "note": "处理完成后"},
                    ],
                }
            },
            {"table": {"header": ["邮件类型", "查询时限"], "rows": [["国内包裹", "10 日"]]}},
        ],
        {"少货致歉": phrasing},
        "test",
    )
    page = ArticlePageFactory(
        parent=section, title="少货处理规范", slug="missing-item", body=body, maintainer=trainer
    )
    page.tags.add("少货")
    return publish(page)


def test_home_lists_sections_and_recent_content(agent_client, home, section, article):
    response = agent_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "电商售前售后" in html
    assert "少货处理规范" in html  # recently updated
    assert 'id="site-search"' in html  # header search on every page


def test_section_lists_articles_and_phrasings(agent_client, section, article, phrasing):
    response = agent_client.get(section.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "少货处理规范" in html
    assert "少货致歉" in html
    assert "<copy-button" in html


def test_article_renders_every_block(agent_client, article):
    response = agent_client.get(article.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h2 class="block-heading">核实信息</h2>' in html
    assert "<p>先请客户提供订单号。</p><p>再确认外包装。</p>" in html
    assert 'class="steps"' in html and "核对发货单" in html and "看面单称重" in html
    # snippet phrasing and inline phrasing, placeholders as fillable gaps, never raw braces
    assert "非常抱歉" in html and 'data-ph="商品名称"' in html
    assert "客户很生气时" in html
    assert "{客户称呼}" not in html
    assert html.count("<copy-button") == 2
    assert "callout-do" in html and "callout-dont" in html and "禁忌" in html
    assert '<span class="time-limit">10 分钟内响应</span>' in html
    assert '<span class="time-limit">3 日内回访</span>' in html
    assert '<th scope="col">邮件类型</th>' in html and "<td>国内包裹</td>" in html
    assert 'class="breadcrumbs"' in html
    assert "少货" in html  # tag


def test_article_shows_overdue_badge_only_when_overdue(agent_client, article):
    assert "待复核" not in agent_client.get(article.url).content.decode()

    article.last_reviewed = timezone.localdate() - datetime.timedelta(days=400)
    article.review_interval_days = 180
    publish(article)
    assert article.is_review_overdue
    assert "badge-overdue" in agent_client.get(article.url).content.decode()


def test_phrasing_preview_renders_placeholders_as_gaps(rf, agent, phrasing):
    request = rf.get("/")
    request.user = agent
    response = phrasing.serve_preview(request, phrasing.default_preview_mode)
    html = response.render().content.decode()
    assert "少货致歉" in html and 'data-ph="客户称呼"' in html and "{客户称呼}" not in html


def test_pages_load_no_external_assets(agent_client, article):
    html = agent_client.get(article.url).content.decode()
    for attr in ('src="http', 'href="http', 'src="//', 'href="//'):
        assert attr not in html


def test_section_lists_phrasings_in_the_same_order_on_every_database(agent_client, section):
    """Titles are ordered by the database. SQLite compares UTF-8 bytes, i.e. code points; PostgreSQL follows
    the database's collation, which must be C.UTF-8 (README, .ci/with-postgres) for the same order: a
    language collation would put Latin before or after Chinese and fold case differently."""
    titles = ["退货话术", "ABC 客户", "安装预约", "abc 客户", "保修说明", "9 折优惠"]
    for title in titles:
        PhrasingFactory(title=title, section=section)
    html = agent_client.get(section.url).content.decode()
    positions = [html.index(f">{title}<") for title in titles]
    shown = [title for _, title in sorted(zip(positions, titles, strict=True))]
    assert shown == sorted(titles) == ["9 折优惠", "ABC 客户", "abc 客户", "保修说明", "安装预约", "退货话术"]
