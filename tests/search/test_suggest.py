"""GET /search/suggest/: titles for the header box, matched by Chinese, full pinyin or initials."""

import pytest

from tests.search.frontend_data import restrict_to_group

pytestmark = pytest.mark.usefixtures("search_index")


def titles(response):
    assert response.status_code == 200
    return [item["title"] for item in response.json()]


@pytest.mark.django_db
def test_anonymous_gets_401_json(client, kb):
    assert client.get("/search/suggest/", {"q": "投诉"}).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["投诉", "tousu", "ts", "TouSu", "tou"])
def test_complaint_titles_are_suggested(agent_client, kb, typed):
    suggested = titles(agent_client.get("/search/suggest/", {"q": typed}))
    assert "客户投诉处理流程" in suggested
    assert "投诉安抚话术" in suggested
    assert "退款时限说明" not in suggested


@pytest.mark.django_db
def test_items_have_title_url_type(agent_client, kb):
    items = agent_client.get("/search/suggest/", {"q": "kuaidi"}).json()
    assert items == [
        {"title": "快递查询规范", "url": kb["parcel"].url, "type": "article", "type_label": "文章"}
    ]


@pytest.mark.django_db
def test_drafts_unpublished_and_restricted_are_not_suggested(agent_client, kb):
    restrict_to_group(kb["complaint"], "质检组")
    suggested = titles(agent_client.get("/search/suggest/", {"q": "投诉"}))
    assert suggested == ["投诉安抚话术"]


@pytest.mark.django_db
def test_htmx_gets_the_listbox_fragment(agent_client, kb):
    """The header box asks through htmx: the same view answers with server-rendered options."""
    response = agent_client.get("/search/suggest/", {"q": "kuaidi"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert html.count('role="option"') == 1
    assert f'data-url="{kb["parcel"].url}"' in html
    assert "快递查询规范" in html and "文章" in html
    assert "<html" not in html


@pytest.mark.django_db
def test_htmx_fragment_escapes_titles(agent_client, kb):
    kb["parcel"].title = "快递<script>alert(1)</script>"
    kb["parcel"].save_revision().publish()
    html = agent_client.get(
        "/search/suggest/", {"q": "快递"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


@pytest.mark.django_db
def test_htmx_with_nothing_to_suggest_empties_the_list(agent_client, kb):
    for typed in ("", "的", "!!!"):
        response = agent_client.get("/search/suggest/", {"q": typed}, headers={"HX-Request": "true"})
        assert response.status_code == 200 and 'role="option"' not in response.content.decode()


@pytest.mark.django_db
def test_header_box_is_wired_to_suggestions(agent_client, kb):
    html = agent_client.get("/").content.decode()
    assert 'hx-get="/search/suggest/"' in html
    assert 'hx-target="#site-search-suggestions"' in html
    assert "/static/django_htmx/htmx-2.min.js" in html and "js/search.js" in html
    assert "X-CSRFToken" in html  # htmx sends the CSRF token with every request (hx-headers)
