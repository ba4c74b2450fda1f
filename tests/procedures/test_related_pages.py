"""Related pages on both sides: 相关规范 under a procedure, 相关内容 under an article (issue 12)."""

from django.contrib.auth.models import Group
from django.urls import reverse
from wagtail.models import PageViewRestriction
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from kb_site.content import demo as content_demo
from kb_site.content import roles
from kb_site.content.models import ArticlePage, ArticleRelatedPage
from kb_site.demo import DemoReport
from procedures import demo as procedures_demo
from procedures.models import ProcedurePage, ProcedureRelatedArticle
from tests.factories import ArticlePageFactory


def publish(page):
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def related_panel(response):
    """The titles listed in the related-pages panel of a front-end page, in order."""
    html = response.content.decode()
    if 'class="related-pages"' not in html:
        return []
    panel = html.split('class="related-pages"', 1)[1].split("</aside>", 1)[0]
    return [chunk.split("</a>", 1)[0].rsplit(">", 1)[1] for chunk in panel.split("<li>")[1:]]


def relate_article(article, *pages):
    article = article.get_latest_revision_as_object()
    article.related_pages = [ArticleRelatedPage(page=page) for page in pages]
    return publish(article)


def relate_procedure(procedure, *articles):
    procedure = procedure.get_latest_revision_as_object()
    procedure.related_articles = [ProcedureRelatedArticle(article=article) for article in articles]
    return publish(procedure)


def test_each_side_shows_what_either_side_names_once(agent_client, missing_item):
    section = missing_item.get_parent()
    rules = publish(ArticlePageFactory(parent=section, title="少货处理规范", slug="missing-item"))
    refunds = publish(ArticlePageFactory(parent=section, title="退款规范", slug="refunds"))
    relate_procedure(missing_item, rules)
    # the article names the procedure back (a duplicate to drop) and another article
    relate_article(refunds, missing_item, rules)
    relate_article(rules, missing_item)

    assert related_panel(agent_client.get(missing_item.url)) == ["少货处理规范", "退款规范"]
    assert related_panel(agent_client.get(rules.url)) == ["少货处理"]
    assert related_panel(agent_client.get(refunds.url)) == ["少货处理", "少货处理规范"]


def test_an_article_named_only_by_the_procedure_shows_it(agent_client, missing_item):
    rules = publish(ArticlePageFactory(parent=missing_item.get_parent(), title="少货处理规范"))
    relate_procedure(missing_item, rules)

    response = agent_client.get(rules.url)
    assert related_panel(response) == ["少货处理"]
    assert "相关内容" in response.content.decode()


def test_unpublished_and_restricted_pages_are_left_out(agent_client, supervisor, missing_item):
    section = missing_item.get_parent()
    rules = publish(ArticlePageFactory(parent=section, title="少货处理规范"))
    draft = publish(ArticlePageFactory(parent=section, title="草稿规范"))
    secret = publish(ArticlePageFactory(parent=section, title="主管内部规范"))
    relate_procedure(missing_item, rules, draft, secret)
    draft.unpublish()
    restriction = PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.set([Group.objects.get(name=roles.SUPERVISOR)])

    assert related_panel(agent_client.get(missing_item.url)) == ["少货处理规范"]
    agent_client.force_login(supervisor)
    assert related_panel(agent_client.get(missing_item.url)) == ["少货处理规范", "主管内部规范"]


def test_a_page_without_related_pages_has_no_panel(agent_client, missing_item):
    response = agent_client.get(missing_item.url)
    assert response.status_code == 200
    assert 'class="related-pages"' not in response.content.decode()


def _article_form(article, related):
    return nested_form_data(
        {
            "title": article.title,
            "slug": article.slug,
            "summary": article.summary,
            "body": streamfield([("heading", "核实")]),
            "tags": "",
            "related_pages": inline_formset([{"page": page.pk} for page in related]),
            "maintainer": "",
            "last_reviewed": "2026-11-01",
            "review_interval_days": "180",
        }
    )


def test_the_editor_refuses_a_section_as_related_page(client, trainer, missing_item):
    section = missing_item.get_parent()
    rules = publish(ArticlePageFactory(parent=section, title="少货处理规范"))
    client.force_login(trainer)
    edit_url = reverse("wagtailadmin_pages:edit", args=[rules.pk])
    revisions = rules.revisions.count()

    response = client.post(edit_url, _article_form(rules, [section]))

    assert response.status_code == 200
    assert "不能作为相关页面：只能选择规范文章、引导流程" in response.content.decode()
    assert rules.revisions.count() == revisions

    response = client.post(edit_url, _article_form(rules, [missing_item]))
    assert response.status_code == 302
    draft = ArticlePage.objects.get(pk=rules.pk).get_latest_revision_as_object()
    assert [link.page_id for link in draft.related_pages.all()] == [missing_item.pk]


def test_demo_related_keys_link_both_sides_once(agent_client, missing_item):
    section = missing_item.get_parent()
    section_spec = next(
        content_demo.load_yaml(path)
        for path in content_demo.section_files()
        if content_demo.load_yaml(path).get("slug") == "ecommerce"
    )
    article_spec = next(a for a in section_spec["articles"] if a["slug"] == "missing-item")
    phrasings = {p.title: p for p in section.specific.phrasings.all()}
    article_spec = {**article_spec, "body": [b for b in article_spec["body"] if "phrasing" not in b]}
    rules = content_demo.ensure_article(section, article_spec, phrasings, None, False, DemoReport())

    report = DemoReport()
    procedures_demo.link_related_pages(report)
    assert report.created == {"related links": 1}  # 30-missing-item.yaml: related: [missing-item]
    revision = ProcedurePage.objects.get(pk=missing_item.pk).live_revision_id

    again = DemoReport()
    procedures_demo.link_related_pages(again)
    assert again.created == {} and again.updated == {}
    assert ProcedurePage.objects.get(pk=missing_item.pk).live_revision_id == revision

    assert related_panel(agent_client.get(missing_item.url)) == ["少货处理规范"]
    assert related_panel(agent_client.get(rules.url)) == ["少货处理"]


def test_the_run_screen_shows_the_procedures_related_articles(agent_client, missing_item):
    rules = publish(ArticlePageFactory(parent=missing_item.get_parent(), title="少货处理规范"))
    relate_procedure(missing_item, rules)
    procedure = ProcedurePage.objects.get(pk=missing_item.pk)
    response = agent_client.post(
        reverse("procedures:start", args=[procedure.pk]),
        {f"v-{name}": "王女士" for name in procedure.to_procedure().required_at_start()},
    )
    assert response.status_code == 302

    assert related_panel(agent_client.get(response["Location"])) == ["少货处理规范"]
