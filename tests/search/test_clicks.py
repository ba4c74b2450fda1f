"""Which result an agent opened for a query (``/search/open/``), whether they came back to search again,
and the links search learns from it (``search.clicks``)."""

import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from wagtail.models import Collection, CollectionViewRestriction

from kb_site.content.models import CallbookDocument
from search.models import LearnedLink, SearchClick
from tests.factories import make_user
from tests.search.frontend_data import article, phrasing, refresh_index, restrict_to_group

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("search_index")]

OPEN = "/search/open/"


def result_links(response):
    """[(href, data-url, title)] of the hits' title links on a results page, in order."""
    html = response.content.decode()
    found = re.findall(r'class="search-hit-title" href="([^"]*)" data-url="([^"]*)"[^>]*>(.*?)</a>', html)
    return [(href.replace("&amp;", "&"), url, re.sub(r"<[^>]+>", "", title)) for href, url, title in found]


def params(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def api_results(client, query, **extra):
    response = client.get("/search/api/", {"q": query, **extra})
    assert response.status_code == 200
    return response.json()["results"]


def api_titles(client, query):
    return [re.sub(r"<[^>]+>", "", hit["title"]) for hit in api_results(client, query)]


def api_score(client, query, title):
    for hit in api_results(client, query):
        if re.sub(r"<[^>]+>", "", hit["title"]) == title:
            return hit["score"]
    return None


def open_hit(client, query, obj, kind, pos=1):
    return client.get(OPEN, {"q": query, "kind": kind, "id": obj.pk, "pos": pos})


# --- recording ---------------------------------------------------------------------------------


def test_result_links_go_through_open_with_their_position(agent_client, agent, kb):
    response = agent_client.get("/search/", {"q": "投诉"})
    links = result_links(response)
    assert [title for _, _, title in links] == ["客户投诉处理流程", "投诉安抚话术"]
    for position, (href, url, _title) in enumerate(links, start=1):
        assert href.startswith(OPEN + "?")
        assert params(href)["pos"] == str(position) and params(href)["q"] == "投诉"
        assert url and not url.startswith(OPEN)  # the hit's own URL stays on the link

    href, url, _title = links[1]
    assert not SearchClick.objects.exists()
    response = agent_client.get(href)
    assert response.status_code == 302
    assert response["Location"] == url
    assert url.startswith(kb["section"].url)  # a phrasing opens on its section page
    click = SearchClick.objects.get()
    assert (click.user, click.query_string, click.kind, click.object_id, click.title, click.position) == (
        agent,
        "投诉",
        "phrasing",
        str(kb["greeting"].pk),
        "投诉安抚话术",
        2,
    )
    assert click.returned_at is None


def test_the_query_is_recorded_normalised_and_the_target_is_never_from_the_request(agent_client, kb):
    response = agent_client.get(
        OPEN,
        {
            "q": "  ABC  投诉 ",
            "kind": "article",
            "id": kb["complaint"].pk,
            "pos": 3,
            "next": "https://evil.example/",
            "url": "https://evil.example/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == kb["complaint"].url
    assert SearchClick.objects.get().query_string == "abc 投诉"


def test_positions_count_across_pages(agent_client, section, search_index):
    for n in range(23):
        phrasing(f"投诉话术{n:02d}", f"投诉回复第{n}条", section=section)
    refresh_index()
    first = api_results(agent_client, "投诉")
    second = api_results(agent_client, "投诉", page=2)
    assert len(first) == 20 and len(second) == 3
    assert [params(hit["open_url"])["pos"] for hit in second] == ["21", "22", "23"]
    html = agent_client.get("/search/", {"q": "投诉", "page": 2})
    assert [params(href)["pos"] for href, _, _ in result_links(html)] == ["21", "22", "23"]

    response = agent_client.get(second[0]["open_url"])
    assert response.status_code == 302 and response["Location"] == second[0]["url"]
    assert SearchClick.objects.get().position == 21


def test_the_api_gives_each_result_its_open_url(agent_client, kb):
    (hit,) = api_results(agent_client, "退款")
    assert params(hit["open_url"]) == {"q": "退款", "kind": "article", "id": str(kb["refund"].pk), "pos": "1"}
    response = agent_client.get(hit["open_url"])
    assert response.status_code == 302 and response["Location"] == hit["url"]
    assert SearchClick.objects.filter(kind="article", object_id=str(kb["refund"].pk)).count() == 1


@pytest.mark.parametrize(
    "query, status",
    [
        ({}, 400),
        ({"kind": "article", "id": "{complaint}", "pos": "1"}, 400),  # no query
        ({"q": "   ", "kind": "article", "id": "{complaint}", "pos": "1"}, 400),
        ({"q": "投诉", "id": "{complaint}", "pos": "1"}, 400),  # no kind
        ({"q": "投诉", "kind": "article", "pos": "1"}, 400),  # no id
        ({"q": "投诉", "kind": "article", "id": "{complaint}"}, 400),  # no position
        ({"q": "投诉", "kind": "article", "id": "{complaint}", "pos": "x"}, 400),
        ({"q": "投诉", "kind": "article", "id": "{complaint}", "pos": "0"}, 400),
        ({"q": "投诉", "kind": "article", "id": "{complaint}", "pos": "99999999999999999999"}, 400),
        ({"q": "投诉", "kind": "link", "id": "{complaint}", "pos": "1"}, 404),
        ({"q": "投诉", "kind": "nosuchkind", "id": "{complaint}", "pos": "1"}, 404),
        ({"q": "投诉", "kind": "article", "id": "abc", "pos": "1"}, 404),
        ({"q": "投诉", "kind": "article", "id": "-1", "pos": "1"}, 404),
        ({"q": "投诉", "kind": "article", "id": "99999999999999999999999", "pos": "1"}, 404),
        ({"q": "投诉", "kind": "article", "id": "999999", "pos": "1"}, 404),  # no such page
        ({"q": "投诉", "kind": "procedure", "id": "{complaint}", "pos": "1"}, 404),  # another kind
        ({"q": "投诉", "kind": "phrasing", "id": "{complaint}", "pos": "1"}, 404),
        ({"q": "投诉", "kind": "article", "id": "{section}", "pos": "1"}, 404),  # a section is no hit
        ({"q": "投诉", "kind": "article", "id": "{draft}", "pos": "1"}, 404),  # unpublished
        ({"q": "投诉", "kind": "phrasing", "id": "{hidden_phrasing}", "pos": "1"}, 404),
    ],
)
def test_bad_links_are_refused_and_record_nothing(agent_client, kb, query, status):
    query = {key: value.format(**{name: obj.pk for name, obj in kb.items()}) for key, value in query.items()}
    response = agent_client.get(OPEN, query)
    assert response.status_code == status
    assert "搜索结果" in response.content.decode()
    assert not SearchClick.objects.exists() and not LearnedLink.objects.exists()


def test_a_page_the_user_may_not_see_is_not_found(client, kb):
    restrict_to_group(kb["refund"], "质检组")
    agent = make_user("坐席")
    client.force_login(agent)
    assert open_hit(client, "退款", kb["refund"], "article").status_code == 404
    assert not SearchClick.objects.exists()

    inspector = make_user("坐席", username="inspector")
    inspector.groups.add(Group.objects.get(name="质检组"))
    client.force_login(inspector)
    response = open_hit(client, "退款", kb["refund"], "article")
    assert response.status_code == 302 and response["Location"] == kb["refund"].url
    assert SearchClick.objects.get().user == inspector


def test_a_deleted_hit_is_not_found(agent_client, kb):
    greeting = kb["greeting"]
    pk = greeting.pk
    greeting.delete()
    response = agent_client.get(OPEN, {"q": "投诉", "kind": "phrasing", "id": pk, "pos": 1})
    assert response.status_code == 404
    assert not SearchClick.objects.exists()


def test_a_document_in_a_restricted_collection_is_not_found(agent_client, search_index):
    root = Collection.get_first_root_node()
    private = root.add_child(name="质检资料")
    restriction = CollectionViewRestriction.objects.create(
        collection=private, restriction_type=CollectionViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.create(name="质检组"))
    hidden = CallbookDocument.objects.create(
        title="质检标准", file=SimpleUploadedFile("qc.txt", "质检".encode()), collection=private
    )
    shown = CallbookDocument.objects.create(title="退货须知", file=SimpleUploadedFile("r.txt", "退货".encode()))

    assert open_hit(agent_client, "质检", hidden, "document").status_code == 404
    assert not SearchClick.objects.exists()
    response = open_hit(agent_client, "退货", shown, "document")
    assert response.status_code == 302 and response["Location"] == shown.url
    assert SearchClick.objects.get().kind == "document"


def test_anonymous_users_log_in_first(client, kb):
    response = open_hit(client, "投诉", kb["complaint"], "article")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not SearchClick.objects.exists()
