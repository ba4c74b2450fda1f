"""The click demo (``search.click_demo``): after ``load_demo`` a colloquial query finds what demo agents
opened for it, and both click reports have rows."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from search.models import LearnedLink, SearchClick

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("search_index")]


def titles(client, query):
    results = client.get("/search/api/", {"q": query}).json()["results"]
    return [re.sub(r"<[^>]+>", "", hit["title"]) for hit in results]


def test_the_demo_teaches_colloquial_queries_and_fills_the_click_reports(client, search_index):
    call_command("load_demo", "--demo-users", verbosity=0)
    search_index.refresh_indexes()

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

    clicks = SearchClick.objects.count()
    call_command("load_demo", "--demo-users", verbosity=0)
    assert SearchClick.objects.count() == clicks
