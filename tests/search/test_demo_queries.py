"""On the demo content, the way agents type finds the right page in the top three, for every seed's topics."""

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("search_index")]

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


def test_agent_queries_find_the_right_page_in_the_top_three(client, agent, search_index):
    """One demo load (it takes seconds) for all queries; every miss is reported at once."""
    call_command("load_demo", "--no-users", verbosity=0)
    search_index.refresh_indexes()
    client.force_login(agent)
    misses = []
    for query, expected in AGENT_QUERIES:
        results = client.get("/search/api/", {"q": query}).json()["results"]
        titles = [r["title"].replace("<mark>", "").replace("</mark>", "") for r in results[:3]]
        if not any(expected in title for title in titles):
            misses.append((query, expected, titles))
    assert not misses
