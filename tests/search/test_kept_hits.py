"""The results page keeps what it showed of a hit (its URL, highlighted title and snippet, and the rendered
part: ``search.results.kept_descriptions``, ``{% fragment "search-hit" %}``): a hit shown again is neither
loaded nor rendered again, yet a publish, an unpublish or a view restriction shows on the very next
search, and what one reader was shown never reaches a reader who may not see it."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from kb_site.content.profiles import AgentProfile
from search.results import kept_descriptions
from tests.factories import publish
from tests.search.frontend_data import phrasing, refresh_index, restrict_to_group

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kb_for_the_module", "search_index")]


def search(client, q="投诉", **params):
    response = client.get("/search/", {"q": q, **params})
    assert response.status_code == 200
    return response


def shown(response):
    return [hit.title for hit in response.context["page_obj"].object_list]


def hit_of(response, title):
    return next(hit for hit in response.context["page_obj"].object_list if hit.title == title)


def searched_with_queries(client, q="投诉"):
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = search(client, q)
    return response, statements


def test_a_repeated_search_loads_no_shown_hit_and_shows_the_same_page(agent_client, kb):
    first, first_queries = searched_with_queries(agent_client)
    again, again_queries = searched_with_queries(agent_client)

    assert shown(first) == shown(again) == ["客户投诉处理流程", "投诉安抚话术"]
    assert again.content.decode().count("data-hit>") == 2
    # The first search loaded the article (its own table) and the phrasing (its text) to describe them.
    assert any("content_articlepage" in sql for sql in first_queries)
    assert any('"content_phrasing"."text"' in sql for sql in first_queries)
    # The second took both from what was kept: two queries fewer, and neither of those.
    assert not any("content_articlepage" in sql for sql in again_queries)
    assert not any('"content_phrasing"."text"' in sql for sql in again_queries)
    assert len(again_queries) <= len(first_queries) - 2
    # No page has a view restriction: the restrictions are not read (one statement says there are none).
    assert not any('"wagtailcore_pageviewrestriction"."id"' in sql for sql in again_queries)
    body = again.content.decode()
    assert "<mark>投诉</mark>" in body
    assert "/search/open/?" in body  # the click links are made per request
    assert "客户情绪激动时" in body and "非常理解您的心情" in body  # the phrasing's scenario and card


def test_highlighting_and_click_links_follow_each_query(agent_client, kb):
    search(agent_client, "投诉")
    search(agent_client, "投诉")  # kept for 投诉
    complaint = hit_of(search(agent_client, "工单"), "客户投诉处理流程")
    assert "<mark>工单</mark>" in str(complaint.snippet_html)
    assert "<mark>投诉</mark>" not in str(complaint.snippet_html) + str(complaint.title_html)
    assert "q=%E5%B7%A5%E5%8D%95" in complaint.open_url  # 工单, not the query kept before
    again = hit_of(search(agent_client, "投诉"), "客户投诉处理流程")
    assert "<mark>投诉</mark>" in str(again.title_html)
    assert "<mark>工单</mark>" not in str(again.snippet_html)


def test_a_new_publication_shows_at_once(agent_client, kb):
    search(agent_client)
    search(agent_client)  # kept now

    page = kb["complaint"]
    page.summary = "夜间投诉由值班主管受理。"
    publish(page)
    greeting = kb["greeting"]
    greeting.text = "您好，您的投诉已经转给专人处理。"
    publish(greeting)
    refresh_index()

    response = search(agent_client)
    assert "夜间" in str(hit_of(response, "客户投诉处理流程").snippet_html)
    body = response.content.decode()
    assert "转给专人处理" in body
    assert "非常理解您的心情" not in body


def test_an_unpublished_page_leaves_the_results_at_once(agent_client, kb):
    search(agent_client)
    assert "客户投诉处理流程" in shown(search(agent_client))

    kb["complaint"].unpublish()

    response = search(agent_client)
    assert "客户投诉处理流程" not in shown(response)
    assert "客户投诉处理流程" not in response.content.decode()


def test_a_hit_kept_for_one_reader_never_shows_to_a_reader_it_is_restricted_from(
    client, agent, supervisor, kb
):
    group = restrict_to_group(kb["complaint"], "投诉专员")
    supervisor.groups.add(group)
    client.force_login(supervisor)
    search(client)
    assert "客户投诉处理流程" in shown(search(client))  # kept while the supervisor searched

    client.force_login(agent)
    response = search(client)
    assert "客户投诉处理流程" not in shown(response)
    assert "客户投诉处理流程" not in response.content.decode()
    assert shown(response) == ["投诉安抚话术"]


def test_a_new_view_restriction_applies_at_once(agent_client, kb):
    search(agent_client)
    assert "客户投诉处理流程" in shown(search(agent_client))

    restrict_to_group(kb["complaint"], "投诉专员")
    response, queries = searched_with_queries(agent_client)
    assert "客户投诉处理流程" not in shown(response)
    assert any('"wagtailcore_pageviewrestriction"."id"' in sql for sql in queries)

    Group.objects.get(name="投诉专员").user_set.add(agent_client.session["_auth_user_id"])
    assert "客户投诉处理流程" in shown(search(agent_client))


def test_a_kept_phrasing_speaks_as_each_reader(client, agent, other_agent, kb):
    phrasing("报工号话术", "您好，我是{工号}号客服，您的投诉我来跟进。", section=kb["section"])
    refresh_index()
    AgentProfile.objects.create(user=agent, employee_number="1001")
    AgentProfile.objects.create(user=other_agent, employee_number="2002")

    client.force_login(agent)
    search(client)
    assert "1001" in search(client).content.decode()

    client.force_login(other_agent)
    body = search(client).content.decode()
    assert "2002" in body
    assert "1001" not in body


def test_a_process_that_missed_the_publish_still_shows_the_new_publication(agent_client, kb):
    """Another process with the default per-process cache hears of no change: the key holds the
    publication, so what it kept before is simply not asked for."""
    search(agent_client)
    search(agent_client)
    old = {key: kept_descriptions.get(key) for key in list(kept_descriptions)}
    assert any(key[:2] == ("article", kb["complaint"].pk) for key in old)

    page = kb["complaint"]
    page.summary = "夜间投诉由值班主管受理。"
    publish(page)
    refresh_index()
    for key, value in old.items():  # as if this process had not been told
        kept_descriptions.put(key, value)

    assert "夜间" in str(hit_of(search(agent_client), "客户投诉处理流程").snippet_html)
