"""Which result an agent opened for a query (``/search/open/``), whether they came back to search again,
and the links search learns from it (``search.clicks``)."""

import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
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
    shown = CallbookDocument.objects.create(
        title="退货须知", file=SimpleUploadedFile("r.txt", "退货".encode())
    )

    assert open_hit(agent_client, "质检", hidden, "document").status_code == 404
    assert not SearchClick.objects.exists()
    response = open_hit(agent_client, "退货", shown, "document")
    assert response.status_code == 302 and response["Location"] == shown.url
    assert SearchClick.objects.get().kind == "document"


def test_anonymous_users_log_in_first(client, kb):
    response = open_hit(client, "投诉", kb["complaint"], "article")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not SearchClick.objects.exists()


# --- came back, learned links -------------------------------------------------------------------

LOST = "包裹丢失"


@pytest.fixture
def parcels(home, section, search_index):
    """For 包裹丢失: an article titled with it (the exact title match) and one that only mentions it."""
    data = {
        "titled": article(section, "包裹丢失怎么处理", summary="客户反映包裹丢失时的处理办法。"),
        "mentions": article(
            section,
            "物流异常登记",
            summary="物流异常都要登记。",
            paragraph="包裹丢失、包裹破损都要登记。包裹丢失先查物流轨迹，再联系快递公司。",
        ),
        "invoice": article(section, "发票开具说明", summary="电子发票在订单完成后开具。"),
    }
    refresh_index()
    return data


def agent_client_for(client_class, name):
    client = client_class()
    client.force_login(make_user("坐席", username=name))
    return client


@pytest.fixture
def agents(client):
    """Clients of five agents who open results."""
    return [agent_client_for(type(client), f"clicker{n}") for n in range(5)]


@pytest.fixture
def reader(client):
    """An agent who only searches (and so never comes back from a click)."""
    return agent_client_for(type(client), "reader")


def test_one_click_lifts_its_result_below_an_exact_title_match_several_above(agents, reader, parcels):
    assert api_titles(reader, LOST)[:2] == ["包裹丢失怎么处理", "物流异常登记"]
    before = api_score(reader, LOST, "物流异常登记")

    assert open_hit(agents[0], LOST, parcels["mentions"], "article", pos=2).status_code == 302
    link = LearnedLink.objects.get()
    assert (link.query_string, link.kind, link.object_id, link.clicks, link.weight) == (
        LOST,
        "article",
        str(parcels["mentions"].pk),
        1,
        1.0,
    )
    assert api_score(reader, LOST, "物流异常登记") == pytest.approx(before + 0.2, abs=0.01)
    assert api_titles(reader, LOST)[:2] == ["包裹丢失怎么处理", "物流异常登记"]  # one click is not enough

    for client in agents[1:]:
        open_hit(client, LOST, parcels["mentions"], "article", pos=2)
    assert LearnedLink.objects.get().clicks == 5
    assert api_titles(reader, LOST)[:2] == ["物流异常登记", "包裹丢失怎么处理"]
    assert api_score(reader, LOST, "物流异常登记") == pytest.approx(before + 1.0, abs=0.01)


def test_a_query_sharing_words_leans_less_and_an_unrelated_one_not_at_all(agents, reader, parcels):
    related = "包裹丢失了赔多少"
    before = api_score(reader, related, "物流异常登记")
    unrelated_before = api_score(reader, "物流", "物流异常登记")
    for client in agents[:3]:
        open_hit(client, LOST, parcels["mentions"], "article", pos=2)
    lifted = api_score(reader, related, "物流异常登记")
    assert before < lifted < before + 0.6  # what three clicks add for the query itself
    assert api_score(reader, "物流", "物流异常登记") == unrelated_before


def test_the_same_agent_opening_the_same_result_again_teaches_once(agents, parcels):
    for _ in range(3):
        open_hit(agents[0], LOST, parcels["mentions"], "article", pos=2)
    assert SearchClick.objects.count() == 3
    assert LearnedLink.objects.get().clicks == 1


def test_learning_decays_with_time(agents, reader, parcels):
    before = api_score(reader, LOST, "物流异常登记")
    for client in agents:
        open_hit(client, LOST, parcels["mentions"], "article", pos=2)
    assert api_titles(reader, LOST)[0] == "物流异常登记"
    link = LearnedLink.objects.get()
    link.last_clicked_at = timezone.now() - datetime.timedelta(days=60)  # two half-lives
    link.save()
    assert api_score(reader, LOST, "物流异常登记") == pytest.approx(before + 1.0 / 4, abs=0.01)
    assert api_titles(reader, LOST)[:2] == ["包裹丢失怎么处理", "物流异常登记"]

    # A new click adds to what is left, not to what there was.
    open_hit(reader, LOST, parcels["mentions"], "article", pos=2)
    assert LearnedLink.objects.get().weight == pytest.approx(5 / 4 + 1)


def test_a_blocked_link_has_no_effect_and_is_not_taught_again(agents, reader, parcels):
    before = api_score(reader, LOST, "物流异常登记")
    for client in agents[:2]:
        open_hit(client, LOST, parcels["mentions"], "article", pos=2)
    link = LearnedLink.objects.get()
    link.blocked = True
    link.save()
    assert api_score(reader, LOST, "物流异常登记") == before
    open_hit(agents[2], LOST, parcels["mentions"], "article", pos=2)
    assert LearnedLink.objects.get().clicks == 2
    assert SearchClick.objects.count() == 3


def test_searching_again_soon_after_a_click_marks_it_returned_and_unlearns_it(agents, reader, parcels):
    clicker = agents[0]
    before = api_score(reader, LOST, "物流异常登记")
    open_hit(clicker, LOST, parcels["mentions"], "article", pos=2)
    open_hit(agents[1], LOST, parcels["mentions"], "article", pos=2)
    assert LearnedLink.objects.get().clicks == 2

    clicker.get("/search/", {"q": "包裹丢失 赔偿"})  # the first agent did not find the answer there
    returned = SearchClick.objects.get(user__username="clicker0")
    assert returned.returned_at is not None
    assert SearchClick.objects.get(user__username="clicker1").returned_at is None
    link = LearnedLink.objects.get()
    assert link.clicks == 1 and link.weight == pytest.approx(1.0)
    assert api_score(reader, LOST, "物流异常登记") == pytest.approx(before + 0.2, abs=0.01)

    # Through the API too; the last click gone, the link goes.
    agents[1].get("/search/api/", {"q": "物流"})
    assert SearchClick.objects.get(user__username="clicker1").returned_at is not None
    assert not LearnedLink.objects.exists()
    assert api_score(reader, LOST, "物流异常登记") == before


def test_a_search_after_the_window_is_not_a_return(agents, parcels):
    open_hit(agents[0], LOST, parcels["mentions"], "article", pos=2)
    SearchClick.objects.update(clicked_at=timezone.now() - datetime.timedelta(minutes=10))
    agents[0].get("/search/", {"q": "发票"})
    assert SearchClick.objects.get().returned_at is None
    assert LearnedLink.objects.get().clicks == 1


def test_a_strongly_linked_result_the_text_search_missed_is_added_for_those_who_may_see_it(
    agents, reader, client, parcels
):
    colloquial = "只到了两样"
    assert api_titles(reader, colloquial) == []
    open_hit(agents[0], colloquial, parcels["invoice"], "article")
    assert api_titles(reader, colloquial) == []  # one click is not strong enough to add a page
    open_hit(agents[1], colloquial, parcels["invoice"], "article")
    assert api_titles(reader, colloquial) == ["发票开具说明"]
    (hit,) = api_results(reader, colloquial)
    assert params(hit["open_url"])["id"] == str(parcels["invoice"].pk)

    restrict_to_group(parcels["invoice"], "财务组")
    assert api_titles(reader, colloquial) == []


# --- trainers see and undo; the report ----------------------------------------------------------

LINKS = "/admin/reports/learned-links/"
UNCLICKED = "/admin/reports/unclicked-queries/"


def row_text(html, needle):
    """The text of the listing row (``<tr>``) that contains ``needle``."""
    (row,) = [row for row in re.findall(r"<tr.*?</tr>", html, re.S) if needle in row]
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


@pytest.fixture
def taught(agents, parcels):
    """包裹丢失 → 物流异常登记, taught by two agents' clicks."""
    for client in agents[:2]:
        open_hit(client, LOST, parcels["mentions"], "article", pos=2)
    return LearnedLink.objects.get()


def test_trainers_see_learned_links_with_weight_clicks_and_local_time(client, trainer, taught):
    client.force_login(trainer)
    response = client.get(LINKS)
    assert response.status_code == 200
    text = row_text(response.content.decode(), "物流异常登记")
    assert "文章：物流异常登记" in text and "生效中" in text and "撤销" in text
    assert "2.0" in text.split("物流异常登记", 1)[1]  # current weight, then clicks
    assert f"{timezone.localtime(taught.last_clicked_at):%Y-%m-%d %H:%M}" in text
    assert LOST in client.get(LINKS, {"query": "包裹"}).content.decode()
    assert "物流异常登记" not in client.get(LINKS, {"query": "发票"}).content.decode()

    body = b"".join(client.get(LINKS, {"export": "csv"}).streaming_content).decode("utf-8-sig")
    heading, row = body.splitlines()[:2]
    assert heading.split(",") == ["搜索词", "结果", "当前权重", "点击次数", "最近一次点击", "状态"]
    assert row.split(",")[:4] == [LOST, "文章：物流异常登记", "2.0", "2"]
    local = timezone.localtime(taught.last_clicked_at).replace(microsecond=0, tzinfo=None)
    assert row.split(",")[4] == f"{local:%Y-%m-%d %H:%M:%S}"


def test_undo_and_restore_with_csrf(trainer, taught):
    client = Client(enforce_csrf_checks=True)
    client.force_login(trainer)
    html = client.get(LINKS).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    block = f"{LINKS}{taught.pk}/block/"
    assert f'action="{block}"' in html

    assert client.post(block).status_code == 403  # no token
    assert not LearnedLink.objects.get().blocked
    response = client.post(block, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == LINKS
    link = LearnedLink.objects.get()
    assert link.blocked and link.blocked_by == trainer and link.blocked_at is not None
    text = row_text(client.get(LINKS).content.decode(), "物流异常登记")
    assert "已撤销 李培训" in text and "恢复" in text

    html = client.get(LINKS, {"query": "包裹"}).content.decode()
    assert 'name="next" value="/admin/reports/learned-links/?query=%E5%8C%85%E8%A3%B9"' in html
    filtered = f"{LINKS}?query=%E5%8C%85%E8%A3%B9"
    response = client.post(f"{LINKS}{taught.pk}/restore/", {"csrfmiddlewaretoken": token, "next": filtered})
    assert response.status_code == 302 and response["Location"] == filtered  # back as it was filtered
    link = LearnedLink.objects.get()
    assert not link.blocked and link.blocked_by is None and link.blocked_at is None
    assert link.weight == taught.weight and link.clicks == 2


def test_undo_is_refused_to_agents_and_admins_without_the_permission(client, agent, supervisor, taught):
    block = f"{LINKS}{taught.pk}/block/"
    client.force_login(agent)
    response = client.post(block)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get(LINKS).status_code == 302

    clerk = make_user("坐席", username="clerk")
    clerk.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(clerk)
    response = client.post(block)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get(LINKS).status_code == 302
    assert not LearnedLink.objects.get().blocked

    client.force_login(supervisor)
    assert client.get(block).status_code == 405
    assert client.post(f"{LINKS}999999/block/").status_code == 404
    assert client.post(f"{LINKS}{taught.pk}x/block/").status_code == 404
    assert not LearnedLink.objects.get().blocked
    response = client.post(block, {"next": "https://evil.example/admin/reports/learned-links/"})
    assert response.status_code == 302 and response["Location"] == LINKS
    assert LearnedLink.objects.get().blocked_by == supervisor


def test_the_report_lists_queries_searched_without_any_result_opened(client, agent_client, trainer, kb):
    nothing = "氪氙钋镭"
    for _ in range(3):
        for query in ("投诉", "退款", nothing, "快递"):
            agent_client.get("/search/", {"q": query})
    agent_client.get("/search/", {"q": "结束语"})
    open_hit(agent_client, "退款", kb["refund"], "article")

    client.force_login(trainer)
    response = client.get(UNCLICKED)
    assert response.status_code == 200
    html = response.content.decode()
    assert "无人点击的搜索" in html
    assert "3" in row_text(html, "投诉") and "快递" in html
    assert "退款" not in html  # opened once
    assert nothing not in html  # found nothing: 无结果搜索 lists it
    assert "结束语" not in html  # searched once
    assert "结束语" in client.get(UNCLICKED, {"min_searches": 1}).content.decode()

    today = timezone.localdate()
    before = {"date_from": "2020-01-01", "date_to": f"{today - datetime.timedelta(days=1):%Y-%m-%d}"}
    assert "投诉" not in client.get(UNCLICKED, before).content.decode()

    body = b"".join(client.get(UNCLICKED, {"export": "csv"}).streaming_content).decode("utf-8-sig")
    rows = body.splitlines()
    assert rows[0].split(",") == ["搜索词", "有结果的搜索次数", "出现天数", "最近一次"]
    assert {row.split(",")[0] for row in rows[1:]} == {"投诉", "快递"}


def test_hostile_queries_are_cleaned_and_the_exports_survive_them(agent_client, client, trainer, kb):
    assert open_hit(agent_client, "=1+1\ufffe投诉\x0b", kb["complaint"], "article").status_code == 302
    assert SearchClick.objects.get().query_string == "=1+1 投诉"
    assert LearnedLink.objects.get().query_string == "=1+1 投诉"
    client.force_login(trainer)
    for url in (LINKS, UNCLICKED):
        response = client.get(url, {"export": "xlsx", "min_searches": 1})
        assert b"".join(response.streaming_content)[:2] == b"PK"
    body = b"".join(client.get(LINKS, {"export": "csv"}).streaming_content).decode("utf-8-sig")
    assert body.splitlines()[1].startswith("'=1+1 投诉,")


def test_a_procedure_hit_opens_at_the_step_the_results_linked(agent_client, home):
    from procedures.models import ProcedurePage
    from tests.procedures.conftest import load_demo_procedure

    page = load_demo_procedure("30-missing-item.yaml")
    refresh_index()
    results = api_results(agent_client, "物流单称重")
    procedure = next(hit for hit in results if hit["type"] == "procedure")
    assert "#step-" in procedure["url"]
    response = agent_client.get(procedure["open_url"])
    assert response.status_code == 302
    assert response["Location"] == procedure["url"]
    assert procedure["url"].startswith(ProcedurePage.objects.get(pk=page.pk).url)


def test_clicks_on_a_query_read_as_pinyin_lean_when_it_is_typed_again(client, agent_client, kb):
    reader = agent_client_for(type(client), "reader")
    before = api_score(reader, "tousu", "投诉安抚话术")
    assert before is not None
    assert open_hit(agent_client, "tousu", kb["greeting"], "phrasing", pos=2).status_code == 302
    assert LearnedLink.objects.get().query_string == "tousu"
    assert api_score(reader, "tousu", "投诉安抚话术") == pytest.approx(before + 0.2, abs=0.01)
