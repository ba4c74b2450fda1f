"""GET /search/suggest/: titles for the header box, matched by Chinese, full pinyin or initials."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.models import Collection, CollectionViewRestriction

from kb_site.content.models import CallbookDocument
from search.suggest import SuggestIndex, reading
from tests.factories import publish
from tests.search.frontend_data import article, phrasing, refresh_index, restrict_to_group

pytestmark = pytest.mark.usefixtures("kb_for_the_module", "search_index")


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


# Issue 13: any word of a title, its tags and phrasing titles, and infixes, not only the start.


def suggest(client, typed, **headers):
    return titles(client.get("/search/suggest/", {"q": typed}, headers=headers))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed, expected",
    [
        ("少发", "少货处理规范"),  # a tag: 少发货
        ("快递压", "催办快递压件规范"),  # inside the title
        ("包裹丢", "客户包裹丢失处理"),
        ("包裹丢了", "客户包裹丢失处理"),  # 了 dropped: 包裹 and 丢 both in the title
        ("少發", "少货处理规范"),  # traditional
        ("ｂａｏｇｕｏ", "客户包裹丢失处理"),  # full-width pinyin of a word of the title
    ],
)
def test_words_inside_titles_and_tags_are_suggested(agent_client, kb, typed, expected):
    article(kb["section"], "少货处理规范", tags=["少货", "少发货"])
    article(kb["section"], "催办快递压件规范")
    article(kb["other"], "客户包裹丢失处理")
    refresh_index()
    assert expected in suggest(agent_client, typed)


@pytest.mark.django_db
def test_a_tag_suggests_what_it_is_on(agent_client, kb):
    """时限 is a tag of 客户投诉处理流程 (and in the title of 退款时限说明); 安抚 is in no tag."""
    assert set(suggest(agent_client, "时限")) == {"客户投诉处理流程", "退款时限说明"}
    tagged = phrasing(
        "破损致歉", "非常抱歉，商品在运输中受损了。", section=kb["section"], tags=["快递压坏了"]
    )
    assert suggest(agent_client, "压坏") == [tagged.title]


@pytest.mark.django_db
def test_a_phrasing_title_matches_inside(agent_client, kb):
    items = agent_client.get("/search/suggest/", {"q": "抚话"}).json()
    assert [(item["title"], item["type"]) for item in items] == [("投诉安抚话术", "phrasing")]
    assert items[0]["url"] == f"{kb['section'].url}#phrasing-{kb['greeting'].pk}"


@pytest.mark.django_db
def test_ranked_title_start_then_word_then_inside(agent_client, kb):
    for title in ("少货处理办法", "客户货物签收", "货到付款须知"):  # 货 inside 少货, starting 货物, first
        article(kb["section"], title)
    refresh_index()
    assert suggest(agent_client, "货") == ["货到付款须知", "客户货物签收", "少货处理办法"]


@pytest.mark.django_db
def test_ranked_text_before_pinyin_title_start_before_pinyin_word(agent_client, kb):
    for title in ("网络卡顿说明", "卡顿处理", "重点KA客户名单"):
        article(kb["section"], title)
    article(kb["other"], "KA客户对接规范")  # another parent: both slugs are "ka"
    refresh_index()
    assert suggest(agent_client, "ka") == ["KA客户对接规范", "重点KA客户名单", "卡顿处理", "网络卡顿说明"]


@pytest.mark.django_db
def test_whole_phrase_before_its_words_apart(agent_client, kb):
    article(kb["section"], "客户包裹丢失处理")
    article(kb["section"], "包裹丢了怎么办")
    refresh_index()
    assert suggest(agent_client, "包裹丢了") == ["包裹丢了怎么办", "客户包裹丢失处理"]


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["了", "的", "了的", "请问", "的的的的"])
def test_function_words_alone_suggest_nothing(agent_client, kb, typed):
    article(kb["section"], "包裹丢了怎么办")
    article(kb["section"], "请问的使用")
    refresh_index()
    assert suggest(agent_client, typed) == []


@pytest.mark.django_db
def test_restricted_pages_are_never_suggested_by_a_tag_or_inside(agent_client, kb):
    restrict_to_group(kb["complaint"], "质检组")
    assert suggest(agent_client, "时限") == ["退款时限说明"]  # 时限: the restricted page's tag
    assert "客户投诉处理流程" not in suggest(agent_client, "诉处")
    restrict_to_group(kb["other"], "质检组")  # a section: every page under it
    assert suggest(agent_client, "查询") == []


@pytest.mark.django_db
def test_a_restricted_users_group_sees_the_page(client, kb, agent):
    group = restrict_to_group(kb["complaint"], "质检组")
    agent.groups.add(group)
    client.force_login(agent)
    assert "客户投诉处理流程" in suggest(client, "诉处")


@pytest.mark.django_db
def test_unpublished_disappears_and_published_appears_at_once(agent_client, kb):
    assert suggest(agent_client, "查询") == ["快递查询规范"]  # the index is built
    kb["parcel"].unpublish()
    assert suggest(agent_client, "查询") == []
    page = article(kb["section"], "物流查询说明")
    refresh_index()
    assert suggest(agent_client, "查询") == ["物流查询说明"]
    page.title = "物流跟踪说明"
    publish(page)
    assert suggest(agent_client, "查询") == [] and suggest(agent_client, "跟踪") == ["物流跟踪说明"]


@pytest.mark.django_db
def test_a_deleted_or_unpublished_phrasing_disappears(agent_client, kb):
    assert suggest(agent_client, "安抚") == ["投诉安抚话术"]
    kb["greeting"].live = False
    kb["greeting"].save()
    assert suggest(agent_client, "安抚") == []
    kb["closing"].delete()
    assert suggest(agent_client, "结束") == []


@pytest.mark.django_db
def test_documents_are_suggested_unless_their_collection_is_restricted(agent_client, kb):
    root = Collection.get_first_root_node()
    private = root.add_child(name="质检资料")
    restriction = CollectionViewRestriction.objects.create(
        collection=private, restriction_type=CollectionViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.create(name="质检组"))
    CallbookDocument.objects.create(
        title="退货质检标准", file=SimpleUploadedFile("qc.txt", "质检".encode()), collection=private
    )
    shown = CallbookDocument.objects.create(
        title="七天无理由退货须知", file=SimpleUploadedFile("r.txt", "退货".encode())
    )
    items = agent_client.get("/search/suggest/", {"q": "退货"}).json()
    assert items == [{"title": shown.title, "url": shown.url, "type": "document", "type_label": "文档"}]


@pytest.mark.django_db
def test_htmx_fragment_for_an_infix(agent_client, kb):
    response = agent_client.get("/search/suggest/", {"q": "诉处"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert html.count('role="option"') == 1
    assert f'data-url="{kb["complaint"].url}"' in html and "客户投诉处理流程" in html


HOSTILE = [
    "少发" * 200,
    "\x00投诉",
    "投诉\t\n",
    "%",
    ".*",
    "(",
    "\\",
    "'; DROP TABLE wagtailcore_page; --",
    "title:投诉 OR 1=1",
    "𠀀𠀁",
    "🙂",
    "\u200b",
    "\ufeff\ufffe",
    "ts" * 30,
    " ",
]


@pytest.mark.django_db
def test_hostile_input_never_fails(agent_client, kb, caplog):
    for typed in HOSTILE:
        response = agent_client.get("/search/suggest/", {"q": typed})
        assert response.status_code == 200 and isinstance(response.json(), list), typed
        response = agent_client.get("/search/suggest/", {"q": typed}, headers={"HX-Request": "true"})
        assert response.status_code == 200, typed
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # the view's catch-all never ran
    assert suggest(agent_client, "\x00投诉") == suggest(agent_client, "投诉")


INDEX_ROWS = [
    ("article", 1, "货到付款须知", "000100010001", ()),
    ("article", 2, "客户货物签收", "000100010002", ("签收", "货物")),
    ("article", 3, "少货处理办法", "000100010003", ("少发货",)),
    ("article", 4, "KA客户对接规范", "000100010004", ()),
    ("article", 5, "网络卡顿说明", "000100010005", ("卡顿",)),
    ("phrasing", 1, "卡顿致歉", None, ("客户很生气",)),
    ("phrasing", 2, "客户包裹丢失致歉", None, ("包裹丢了", "丢件")),
    ("document", 1, "少货登记表", None, ()),
]


def test_the_index_ranks_alike_however_many_are_asked_for():
    """What a request reads again in batches (``ranked`` with a growing ``want``) follows one ranking."""
    index = SuggestIndex(INDEX_ROWS)
    for typed in ["货", "客户", "ka", "k", "kd", "包裹 丢", "包裹丢了", "少发", "致歉", "sh"]:
        needle, words, letters = reading(typed)
        everything = index.ranked(needle, words, letters, 1000)
        assert everything, typed
        for want in range(1, len(everything) + 2):
            assert index.ranked(needle, words, letters, want) == everything[:want], (typed, want)


def test_a_rebuild_reuses_unchanged_entries_and_reads_changed_ones():
    index = SuggestIndex(INDEX_ROWS)
    same = SuggestIndex(INDEX_ROWS, previous=index)
    assert (same.text, same.marks, same.pinyin) == (index.text, index.marks, index.pinyin)
    changed = [
        row if row[:2] != ("article", 1) else ("article", 1, "物流跟踪说明", row[3], ()) for row in INDEX_ROWS
    ]
    rebuilt = SuggestIndex(changed, previous=index)
    assert rebuilt.ranked(*reading("跟踪"), 10) and not rebuilt.ranked(*reading("付款"), 10)
    assert rebuilt.ranked(*reading("wlgz"), 10) == rebuilt.ranked(*reading("跟踪"), 10)


@pytest.mark.django_db
def test_a_tag_match_names_the_tag(agent_client, kb):
    """少发 suggests 少货致歉 for its tag 少发货: the item says so, the title alone would puzzle."""
    tagged = phrasing("少货致歉", "非常抱歉，少发了商品。", section=kb["section"], tags=["少货", "少发货"])
    article(kb["section"], "少发商品处理")
    refresh_index()
    items = agent_client.get("/search/suggest/", {"q": "少发"}).json()
    assert [(item["title"], item.get("tag")) for item in items] == [
        ("少发商品处理", None),
        (tagged.title, "少发货"),
    ]
    html = agent_client.get(
        "/search/suggest/", {"q": "少发"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert html.count("标签：") == 1 and '<span class="suggest-tag">标签：少发货</span>' in html
