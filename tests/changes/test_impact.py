"""Editing a phrasing lists every article block and procedure step that uses it."""

from django.urls import reverse

from kb_site.content.models import Phrasing
from tests.factories import ArticlePageFactory, PhrasingFactory, publish


def phrasing_edit_url(phrasing):
    return reverse("wagtailsnippets_content_phrasing:edit", args=[phrasing.pk])


def steps_using_a_phrasing(procedure):
    """``(phrasing id, {step key: step title})`` for the first phrasing the procedure's steps use."""
    found = {}
    for block in procedure.steps.raw_data:
        for entry in block["value"].get("phrasings") or []:
            value = entry.get("value", entry)
            found.setdefault(value["phrasing"], {})[block["value"]["key"]] = block["value"]["title"]
    phrasing_id = next(iter(found))
    return phrasing_id, found[phrasing_id]


def test_the_phrasing_editor_lists_the_pages_and_steps_using_it(client, trainer, section, missing_item):
    phrasing_id, steps = steps_using_a_phrasing(missing_item)
    phrasing = Phrasing.objects.get(pk=phrasing_id)
    article = publish(
        ArticlePageFactory(
            parent=section,
            title="少货处理规范",
            slug="missing-rules",
            body=[
                ("heading", "致歉"),
                ("phrasing", {"phrasing": phrasing, "label": "", "scenario": "", "text": ""}),
            ],
        )
    )
    client.force_login(trainer)
    html = client.get(phrasing_edit_url(phrasing)).content.decode()
    impact = html[html.index('id="phrasing-impact"') :]
    assert missing_item.title in impact and article.title in impact
    for key, title in steps.items():
        assert title in impact and f"#step-{key}" in impact
    assert "致歉 · " in impact  # the article block under its heading
    assert reverse("wagtailadmin_pages:edit", args=[article.pk]) in impact


def test_an_unused_phrasing_says_so(client, trainer, section):
    phrasing = PhrasingFactory(section=section)
    client.force_login(trainer)
    html = client.get(phrasing_edit_url(phrasing)).content.decode()
    assert "没有文章或流程步骤使用这句话术" in html
