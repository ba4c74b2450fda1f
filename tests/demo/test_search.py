"""Search on the demo: the way agents type finds the right page in the top three, for every seed's topics;
and the click demo (``search.click_demo``): a colloquial query finds what demo agents opened for it, and
both click reports have rows."""

import re

from django.contrib.auth import get_user_model

from search.models import LearnedLink, SearchClick

# (what an agent types, a title that must be among the first three results)
AGENT_QUERIES = [
    ("少发货", "少货处理"),
    ("快递压坏了", "运输破损处理"),
    ("发错货了", "错货处理"),
    ("客户很生气", "客户很生气安抚"),
    ("投訴", "客户投诉处理规定"),
    ("EMS 上门揽收", "EMS上门揽收"),
    ("邮件 投诉 时限", "邮件查询与投诉受理"),
    ("前台 很忙 客人多", "忙时接待"),
    ("维修 回访", "维修次日电话回访"),
    ("热线 转接", "热线接听与分类转接"),
    ("95598 投诉 五步", "投诉受理五步法"),
    ("服务站 投诉 时限", "六步法"),
    ("仓库没有库存", "无库存"),
    ("装修 手续", "前台服务的工作内容"),
    ("业主 投诉 接待", "业主投诉接待规范"),
]


def titles(client, query):
    results = client.get("/search/api/", {"q": query}).json()["results"]
    return [re.sub(r"<[^>]+>", "", hit["title"]) for hit in results]


def test_agent_queries_find_the_right_page_in_the_top_three(client, demo):
    """Every miss is reported at once."""
    client.force_login(get_user_model().objects.get(username="agent"))
    misses = []
    for query, expected in AGENT_QUERIES:
        top = titles(client, query)[:3]
        if not any(expected in title for title in top):
            misses.append((query, expected, top))
    assert not misses


def test_the_demo_teaches_colloquial_queries_and_fills_the_click_reports(client, demo):

    learned = LearnedLink.objects.get(query_string="买了三样只到了两样")
    assert (learned.kind, learned.title, learned.clicks, learned.blocked) == (
        "procedure",
        "少货处理",
        5,
        False,
    )
    assert not LearnedLink.objects.filter(title="运输破损处理规范").exists()  # the agent came back
    assert SearchClick.objects.exclude(returned_at=None).count() == 1
    undone = LearnedLink.objects.get(query_string="快递")
    assert undone.blocked and undone.blocked_by.username == "trainer"

    client.force_login(get_user_model().objects.get(username="agent2"))
    assert titles(client, "买了三样只到了两样")[0] == "少货处理"

    client.force_login(undone.blocked_by)
    html = client.get("/admin/reports/learned-links/").content.decode()
    assert "买了三样只到了两样" in html and "已撤销" in html
    html = client.get("/admin/reports/unclicked-queries/").content.decode()
    for query in ("地址填错", "质量问题", "发票怎么开"):
        assert query in html
    assert "买了三样只到了两样" not in html
