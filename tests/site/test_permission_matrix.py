"""Who may do what, role by role, through the real admin and front-end URLs.

``MATRIX`` below is the expected permission table, derived from ``kb_site/content/roles.py`` and the
product brief: 坐席 and 新员工 read and run procedures and have no admin; 培训师 write pages,
phrasings, synonyms, documents and images but neither publish nor delete (only drafts that agents
never saw); 主管 also publish, unpublish, delete and move, and see every report (培训师 see the
figures, not individual agents' runs); a run is its agent's alone. Each cell is one test: the action
is performed as that role with the Django test client, and the test checks the status code (and
where it leads) and the effect on the database: the object changed or gone when allowed, untouched
when refused. ``pytest --collect-only -q tests/site/test_permission_matrix.py`` counts the cells.
"""

import dataclasses
import functools
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.contrib.search_promotions.models import SearchPromotion
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection, Page, PageLogEntry
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from kb_site.content import roles
from kb_site.content.models import ArticlePage, CallbookDocument, Phrasing, SectionPage
from kb_site.content.review import REVIEWED
from procedures.models import ProcedurePage, ProcedureRun, RunEvent
from procedures.runs import start_run
from search.models import LearnedLink, SynonymGroup
from tests.factories import (
    ArticlePageFactory,
    PhrasingFactory,
    SectionPageFactory,
    UserFactory,
    make_user,
    publish,
)

Image = get_image_model()

ROLES = ("agent", "newhire", "trainer", "supervisor", "superuser", "anonymous")

# ✓ allowed, · refused. "another's" objects belong to a second 主管 (supervisor2); "own" ones to the
# user acting. Pages are live unless the row says draft; the section has an article and a procedure.
MATRIX_TABLE = """
action                           agent  newhire  trainer  supervisor  superuser  anonymous
admin.dashboard                    ·       ·        ✓         ✓           ✓          ·
admin.users                        ·       ·        ·         ·           ✓          ·
admin.groups                       ·       ·        ·         ·           ✓          ·

document.list                      ·       ·        ✓         ✓           ✓          ·
document.add                       ·       ·        ✓         ✓           ✓          ·
document.choose                    ·       ·        ✓         ✓           ✓          ·
document.edit_anothers             ·       ·        ✓         ✓           ✓          ·
document.delete_button_shown       ·       ·        ·         ✓           ✓          ·
document.delete_anothers           ·       ·        ·         ✓           ✓          ·
document.delete_own                ·       ·        ·         ✓           ✓          ·
document.delete_after_upload       ·       ·        ·         ✓           ✓          ·
document.bulk_delete               ·       ·        ·         ✓           ✓          ·
document.download                  ✓       ✓        ✓         ✓           ✓          ·

image.list                         ·       ·        ✓         ✓           ✓          ·
image.add                          ·       ·        ✓         ✓           ✓          ·
image.choose                       ·       ·        ✓         ✓           ✓          ·
image.edit_anothers                ·       ·        ✓         ✓           ✓          ·
image.delete_button_shown          ·       ·        ·         ✓           ✓          ·
image.delete_anothers              ·       ·        ·         ✓           ✓          ·
image.delete_own                   ·       ·        ·         ✓           ✓          ·
image.bulk_delete                  ·       ·        ·         ✓           ✓          ·

article.read                       ✓       ✓        ✓         ✓           ✓          ·
article.add                        ·       ·        ✓         ✓           ✓          ·
article.edit                       ·       ·        ✓         ✓           ✓          ·
article.publish                    ·       ·        ·         ✓           ✓          ·
article.unpublish                  ·       ·        ·         ✓           ✓          ·
article.move                       ·       ·        ·         ✓           ✓          ·
article.delete                     ·       ·        ·         ✓           ✓          ·
article.bulk_delete                ·       ·        ·         ✓           ✓          ·
draft_article.delete               ·       ·        ✓         ✓           ✓          ·
article.mark_reviewed              ·       ·        ✓         ✓           ✓          ·
section.edit                       ·       ·        ✓         ✓           ✓          ·
section.publish                    ·       ·        ·         ✓           ✓          ·
section.unpublish                  ·       ·        ·         ✓           ✓          ·
section.move                       ·       ·        ·         ✓           ✓          ·
section.delete                     ·       ·        ·         ·           ✓          ·
procedure.edit                     ·       ·        ✓         ✓           ✓          ·
procedure.publish                  ·       ·        ·         ✓           ✓          ·
procedure.unpublish                ·       ·        ·         ✓           ✓          ·
procedure.move                     ·       ·        ·         ✓           ✓          ·
procedure.delete                   ·       ·        ·         ✓           ✓          ·

phrasing.list                      ·       ·        ✓         ✓           ✓          ·
phrasing.add                       ·       ·        ✓         ✓           ✓          ·
phrasing.edit                      ·       ·        ✓         ✓           ✓          ·
phrasing.publish                   ·       ·        ·         ✓           ✓          ·
phrasing.delete                    ·       ·        ·         ✓           ✓          ·
synonym.list                       ·       ·        ✓         ✓           ✓          ·
synonym.add                        ·       ·        ✓         ✓           ✓          ·
synonym.edit                       ·       ·        ✓         ✓           ✓          ·
synonym.delete                     ·       ·        ✓         ✓           ✓          ·

search.page                        ✓       ✓        ✓         ✓           ✓          ·
run.start                          ✓       ·        ✓         ✓           ✓          ·
run.practice                       ✓       ✓        ✓         ✓           ✓          ·
run.my_runs                        ✓       ✓        ✓         ✓           ✓          ·
run.anothers_screen                ·       ·        ·         ·           ·          ·
run.anothers_move                  ·       ·        ·         ·           ·          ·
run.anothers_json                  ·       ·        ·         ✓           ✓          ·

report.runs                        ·       ·        ·         ✓           ✓          ·
report.runs_export                 ·       ·        ·         ✓           ✓          ·
report.run_timeline                ·       ·        ·         ✓           ✓          ·
report.agents                      ·       ·        ·         ✓           ✓          ·
report.stats                       ·       ·        ✓         ✓           ✓          ·
report.abandonment                 ·       ·        ✓         ✓           ✓          ·
report.paths                       ·       ·        ✓         ✓           ✓          ·
report.step_times                  ·       ·        ✓         ✓           ✓          ·
report.must_say                    ·       ·        ·         ✓           ✓          ·
report.overdue_review              ·       ·        ✓         ✓           ✓          ·
report.top_queries                 ·       ·        ✓         ✓           ✓          ·
report.zero_results                ·       ·        ✓         ✓           ✓          ·
report.unclicked_queries           ·       ·        ✓         ✓           ✓          ·
report.learned_links               ·       ·        ✓         ✓           ✓          ·
learned_link.block                 ·       ·        ✓         ✓           ✓          ·
zero_results.add_synonym           ·       ·        ✓         ✓           ✓          ·
zero_results.add_promotion         ·       ·        ✓         ✓           ✓          ·
report.training_progress           ·       ·        ✓         ✓           ✓          ·
report.training_items              ·       ·        ✓         ✓           ✓          ·
report.change_acknowledgements     ·       ·        ✓         ✓           ✓          ·

training.my_training               ✓       ✓        ✓         ✓           ✓          ·
training.dashboard                 ·       ·        ✓         ✓           ✓          ·
training.path_add                  ·       ·        ✓         ✓           ✓          ·
training.path_delete               ·       ·        ·         ✓           ✓          ·

health.dashboard                   ·       ·        ✓         ✓           ✓          ·

followups.queue                    ✓       ·        ·         ✓           ✓          ·
followups.queue_all                ·       ·        ·         ✓           ✓          ·
followups.calendar_add             ·       ·        ✓         ✓           ✓          ·
report.followups_stats             ·       ·        ·         ✓           ✓          ·
report.followups_dissatisfaction   ·       ·        ·         ✓           ✓          ·

feedback.send                      ✓       ✓        ✓         ✓           ✓          ·
feedback.mine                      ✓       ✓        ✓         ✓           ✓          ·
feedback.list                      ·       ·        ✓         ✓           ✓          ·
feedback.handle_groups             ·       ·        ✓         ✓           ✓          ·
feedback.anothers_detail           ·       ·        ✓         ✓           ✓          ·
report.feedback_open               ·       ·        ✓         ✓           ✓          ·
inbox                              ✓       ✓        ✓         ✓           ✓          ·
changes.mine                       ✓       ✓        ✓         ✓           ✓          ·
"""


def parse_matrix(table):
    lines = [line.split() for line in table.strip().splitlines() if line.strip()]
    header, rows = lines[0], lines[1:]
    assert tuple(header[1:]) == ROLES, header
    matrix = {}
    for action, *marks in rows:
        assert len(marks) == len(ROLES) and set(marks) <= {"✓", "·"}, action
        assert action not in matrix, action
        matrix[action] = dict(zip(ROLES, (mark == "✓" for mark in marks), strict=True))
    return matrix


MATRIX = parse_matrix(MATRIX_TABLE)


# What a refusal looks like. Wagtail sends users without admin access to its login page, and admin
# users lacking a permission to the dashboard with a message; the front end sends anonymous users to
# the login page, and answers 404 for a run that is not the user's.
ADMIN_LOGIN = (302, "/admin/login/?next=")
ADMIN_HOME = (302, "/admin/")
SITE_LOGIN = (302, "/login/?next=")
NOT_FOUND = (404, None)
FORBIDDEN = (403, None)
OK = (200, None)


@dataclasses.dataclass
class Action:
    run: Callable  # (world) -> (response, done: whether the effect happened)
    allowed: object  # (status, Location prefix or None), or a function of the world giving it
    refused: object = ADMIN_HOME  # for admin users lacking the permission
    admin: bool = True  # an admin URL (else a front-end one)

    def expected(self, world, allowed):
        if not allowed and world.role == "anonymous":
            return ADMIN_LOGIN if self.admin else SITE_LOGIN
        if not allowed and self.admin and world.role in ("agent", "newhire"):
            return ADMIN_LOGIN
        spec = self.allowed if allowed else self.refused
        return spec(world) if callable(spec) else spec


ACTIONS = {}


def action(name, allowed, **options):
    def register(run):
        ACTIONS[name] = Action(run, allowed, **options)
        return run

    return register


class World:
    """The objects a cell needs, created on first use, and the client logged in as ``role``."""

    def __init__(self, client, role, section):
        self.client = client
        self.role = role
        self.section = section
        self.home = section.get_parent().specific
        if role != "anonymous":
            client.force_login(self.user)

    @functools.cached_property
    def user(self):
        if self.role == "superuser":
            return UserFactory(username="admin", is_superuser=True, is_staff=True)
        if self.role == "anonymous":
            return None
        role = {
            "agent": roles.AGENT,
            "newhire": roles.NEW_HIRE,
            "trainer": roles.TRAINER,
            "supervisor": roles.SUPERVISOR,
        }[self.role]
        return make_user(role)

    @functools.cached_property
    def another(self):
        """The owner of "another's" uploads: a 主管 other than anyone in the matrix."""
        return make_user(roles.SUPERVISOR, username="supervisor2")

    @functools.cached_property
    def other_agent(self):
        return make_user(roles.AGENT, username="agent2")

    @functools.cached_property
    def root_collection(self):
        return Collection.get_first_root_node()

    # Documents and images

    def document(self, owner, title):
        return CallbookDocument.objects.create(
            title=title, file=SimpleUploadedFile(f"{title}.txt", "退货须知".encode()), uploaded_by_user=owner
        )

    @functools.cached_property
    def anothers_document(self):
        return self.document(self.another, "another-doc")

    @functools.cached_property
    def own_document(self):
        return self.document(self.user, "own-doc")

    def image(self, owner, title):
        return Image.objects.create(title=title, file=get_test_image_file(), uploaded_by_user=owner)

    @functools.cached_property
    def anothers_image(self):
        return self.image(self.another, "another-image")

    @functools.cached_property
    def own_image(self):
        return self.image(self.user, "own-image")

    # Pages: the section holds a live article and a live procedure; a second section is the
    # destination of moves and comes after the first.

    @functools.cached_property
    def article(self):
        return publish(ArticlePageFactory(parent=self.section, title="少货处理规范", slug="missing-item"))

    @functools.cached_property
    def draft_article(self):
        article = ArticlePageFactory(parent=self.section, title="草稿文章", slug="draft", live=False)
        article.save_revision(user=self.another)
        return article

    @functools.cached_property
    def procedure(self):
        page = ProcedurePage(
            title="少货处理", slug="missing-flow", when_to_use="客户说少货", steps=procedure_steps()
        )
        self.section.add_child(instance=page)
        return publish(page)

    @functools.cached_property
    def full_section(self):
        """The section with its article and procedure in it."""
        assert self.article and self.procedure
        return self.section

    @functools.cached_property
    def other_section(self):
        return publish(SectionPageFactory(parent=self.home, title="邮政业务", slug="postal"))

    # Snippets, runs

    @functools.cached_property
    def phrasing(self):
        return publish(PhrasingFactory(title="开场问候", section=self.section, text="您好，很高兴为您服务。"))

    @functools.cached_property
    def synonyms(self):
        return SynonymGroup.objects.create(terms="退钱 = 退款")

    @functools.cached_property
    def anothers_run(self):
        return start_run(self.procedure, self.other_agent, ref="CALL-1")


def procedure_steps(title="问候"):
    def block(kind, **value):
        return {"type": kind, "value": value}

    return [
        block("instruction", key="greet", title=title, text="", phrasings=[], checklist=[], next="done"),
        block("outcome", key="done", title="完成", outcome="已解决", text="", phrasings=[]),
    ]


def gone(model, obj):
    return not model.objects.filter(pk=obj.pk).exists()


def body_of(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


# Admin in general


@action("admin.dashboard", allowed=OK, refused=ADMIN_LOGIN)
def admin_dashboard(w):
    response = w.client.get("/admin/")
    return response, response.status_code == 200


@action("admin.users", allowed=OK)
def admin_users(w):
    response = w.client.get("/admin/users/")
    return response, response.status_code == 200


@action("admin.groups", allowed=OK)
def admin_groups(w):
    response = w.client.get("/admin/groups/")
    return response, response.status_code == 200


# Documents


@action("document.list", allowed=OK)
def document_list(w):
    doc = w.anothers_document
    response = w.client.get("/admin/documents/")
    return response, response.status_code == 200 and doc.title in response.content.decode()


@action("document.add", allowed=(302, "/admin/documents/"))
def document_add(w):
    upload = SimpleUploadedFile("新员工手册.txt", "培训资料".encode())
    response = w.client.post(
        "/admin/documents/add/",
        {"title": "新员工手册", "file": upload, "collection": w.root_collection.pk, "tags": ""},
    )
    return response, CallbookDocument.objects.filter(title="新员工手册").exists()


@action("document.choose", allowed=OK)
def document_choose(w):
    doc = w.anothers_document
    response = w.client.get("/admin/documents/chooser/")
    return response, response.status_code == 200 and doc.title in response.content.decode()


@action("document.edit_anothers", allowed=(302, "/admin/documents/"))
def document_edit(w):
    doc = w.anothers_document
    response = w.client.post(
        f"/admin/documents/edit/{doc.pk}/",
        {"title": "改过的文档", "collection": w.root_collection.pk, "tags": ""},
    )
    doc.refresh_from_db()
    return response, doc.title == "改过的文档"


@action("document.delete_button_shown", allowed=OK, refused=OK)
def document_delete_button(w):
    doc = w.anothers_document
    response = w.client.get(f"/admin/documents/edit/{doc.pk}/")
    return response, f"/admin/documents/delete/{doc.pk}/" in response.content.decode()


@action("document.delete_anothers", allowed=(302, "/admin/documents/"))
def document_delete_anothers(w):
    doc = w.anothers_document
    return w.client.post(f"/admin/documents/delete/{doc.pk}/"), gone(CallbookDocument, doc)


@action("document.delete_own", allowed=(302, "/admin/documents/"))
def document_delete_own(w):
    doc = w.own_document
    return w.client.post(f"/admin/documents/delete/{doc.pk}/"), gone(CallbookDocument, doc)


@action("document.delete_after_upload", allowed=OK)
def document_delete_after_upload(w):
    """The delete button beside a file just uploaded on the multiple-upload page."""
    doc = w.own_document
    return w.client.post(f"/admin/documents/multiple/{doc.pk}/delete/"), gone(CallbookDocument, doc)


def bulk_url(app_label, model_name, obj):
    return (
        reverse("wagtail_bulk_action", args=[app_label, model_name, "delete"]) + f"?id={obj.pk}&next=/admin/"
    )


@action("document.bulk_delete", allowed=(302, "/admin/"), refused=lambda w: (302, "/admin/"))
def document_bulk_delete(w):
    doc = w.anothers_document
    response = w.client.post(bulk_url("content", "callbookdocument", doc))
    return response, gone(CallbookDocument, doc)


@action("document.download", allowed=OK, admin=False)
def document_download(w):
    doc = w.anothers_document
    response = w.client.get(doc.url)
    return response, response.status_code == 200 and body_of(response) == "退货须知".encode()


# Images


@action("image.list", allowed=OK)
def image_list(w):
    image = w.anothers_image
    response = w.client.get("/admin/images/")
    return response, response.status_code == 200 and image.title in response.content.decode()


@action("image.add", allowed=(302, "/admin/images/"))
def image_add(w):
    response = w.client.post(
        "/admin/images/add/",
        {
            "title": "门店照片",
            "file": SimpleUploadedFile("门店.png", get_test_image_file().file.getvalue()),
            "collection": w.root_collection.pk,
            "tags": "",
        },
    )
    return response, Image.objects.filter(title="门店照片").exists()


@action("image.choose", allowed=OK)
def image_choose(w):
    image = w.anothers_image
    response = w.client.get("/admin/images/chooser/")
    return response, response.status_code == 200 and image.title in response.content.decode()


@action("image.edit_anothers", allowed=(302, "/admin/images/"))
def image_edit(w):
    image = w.anothers_image
    data = {"title": "改过的图片", "collection": w.root_collection.pk, "tags": "", "description": ""}
    data.update(
        dict.fromkeys(["focal_point_x", "focal_point_y", "focal_point_width", "focal_point_height"], "")
    )
    response = w.client.post(f"/admin/images/{image.pk}/", data)
    image.refresh_from_db()
    return response, image.title == "改过的图片"


@action("image.delete_button_shown", allowed=OK, refused=OK)
def image_delete_button(w):
    image = w.anothers_image
    response = w.client.get(f"/admin/images/{image.pk}/")
    return response, f"/admin/images/{image.pk}/delete/" in response.content.decode()


@action("image.delete_anothers", allowed=(302, "/admin/images/"))
def image_delete_anothers(w):
    image = w.anothers_image
    return w.client.post(f"/admin/images/{image.pk}/delete/"), gone(Image, image)


@action("image.delete_own", allowed=(302, "/admin/images/"))
def image_delete_own(w):
    image = w.own_image
    return w.client.post(f"/admin/images/{image.pk}/delete/"), gone(Image, image)


@action("image.bulk_delete", allowed=(302, "/admin/"), refused=(302, "/admin/"))
def image_bulk_delete(w):
    image = w.anothers_image
    response = w.client.post(bulk_url("wagtailimages", "image", image))
    return response, gone(Image, image)


# Pages: the admin form data of each page type, with a new title


def comments():
    return inline_formset([])


def article_form(page, title, **extra):
    return nested_form_data(
        {
            "title": title,
            "slug": page.slug,
            "summary": "文章摘要",
            "body": streamfield([("heading", "处理步骤")]),
            "tags": "",
            "related_pages": inline_formset([]),
            "maintainer": "",
            "last_reviewed": "2026-11-01",
            "review_interval_days": "180",
            "comments": comments(),
            **extra,
        }
    )


def section_form(page, title, **extra):
    return nested_form_data(
        {"title": title, "slug": page.slug, "summary": "栏目简介", "comments": comments(), **extra}
    )


def procedure_form(page, title, **extra):
    def empty():
        return {"count": "0"}

    return nested_form_data(
        {
            "title": title,
            "slug": page.slug,
            "when_to_use": "客户说少货",
            "expected_minutes": "",
            "tags": "",
            "outcomes": "",
            "related_articles": inline_formset([]),
            "variables": streamfield([]),
            "steps": streamfield(
                [
                    (
                        "instruction",
                        {
                            "key": "greet",
                            "title": "问候",
                            "text": rich_text(""),
                            "phrasings": empty(),
                            "follow_ups": empty(),
                            "checklist": empty(),
                            "next": "done",
                        },
                    ),
                    (
                        "outcome",
                        {
                            "key": "done",
                            "title": "完成",
                            "outcome": "已解决",
                            "text": rich_text(""),
                            "phrasings": empty(),
                            "follow_ups": empty(),
                        },
                    ),
                ]
            ),
            "maintainer": "",
            "last_reviewed": "2026-11-01",
            "review_interval_days": "180",
            "comments": comments(),
            **extra,
        }
    )


PAGES = {
    "article": (lambda w: w.article, article_form, ArticlePage),
    "section": (lambda w: w.full_section, section_form, SectionPage),
    "procedure": (lambda w: w.procedure, procedure_form, ProcedurePage),
}


def edit_url(page):
    return reverse("wagtailadmin_pages:edit", args=[page.pk])


def page_actions(kind):
    get_page, form, model = PAGES[kind]

    def edited_url(w):
        return (302, edit_url(get_page(w)))

    @action(f"{kind}.edit", allowed=edited_url)
    def edit(w):
        page = get_page(w)
        response = w.client.post(edit_url(page), form(page, "新标题"))
        return response, Page.objects.get(pk=page.pk).draft_title == "新标题"

    # Without publish permission Wagtail saves the draft instead, and the live page stays as it was.
    @action(f"{kind}.publish", allowed=(302, "/admin/pages/"), refused=edited_url)
    def publish_(w):
        page = get_page(w)
        response = w.client.post(edit_url(page), form(page, "新标题", **{"action-publish": "1"}))
        return response, Page.objects.get(pk=page.pk).title == "新标题"

    @action(f"{kind}.unpublish", allowed=(302, "/admin/pages/"))
    def unpublish(w):
        page = get_page(w)
        response = w.client.post(reverse("wagtailadmin_pages:unpublish", args=[page.pk]))
        return response, not Page.objects.get(pk=page.pk).live

    @action(f"{kind}.delete", allowed=(302, "/admin/pages/"))
    def delete(w):
        page = get_page(w)
        response = w.client.post(reverse("wagtailadmin_pages:delete", args=[page.pk]))
        return response, gone(model, page)

    @action(f"{kind}.move", allowed=(302, "/admin/pages/"))
    def move(w):
        page = get_page(w)
        # An article or procedure goes to the other section; a section can only live under the home
        # page, so moving it there puts it after the other section.
        other_section = w.other_section
        destination = w.home if kind == "section" else other_section
        response = w.client.post(reverse("wagtailadmin_pages:move_confirm", args=[page.pk, destination.pk]))
        moved = Page.objects.get(pk=page.pk)
        if kind == "section":
            return response, moved.path > Page.objects.get(pk=other_section.pk).path
        return response, moved.get_parent().pk == destination.pk


for kind in PAGES:
    page_actions(kind)


@action("article.read", allowed=OK, admin=False)
def article_read(w):
    response = w.client.get(w.article.url)
    return response, response.status_code == 200 and "少货处理规范" in response.content.decode()


@action("article.add", allowed=lambda w: (302, edit_url(ArticlePage.objects.get(slug="new-article"))))
def article_add(w):
    url = reverse("wagtailadmin_pages:add", args=["content", "articlepage", w.section.pk])
    response = w.client.post(url, article_form(ArticlePage(slug="new-article"), "新文章"))
    return response, ArticlePage.objects.filter(slug="new-article").exists()


@action("article.bulk_delete", allowed=(302, "/admin/"), refused=(302, "/admin/"))
def article_bulk_delete(w):
    page = w.article
    url = (
        reverse("wagtail_bulk_action", args=["wagtailcore", "page", "delete"]) + f"?id={page.pk}&next=/admin/"
    )
    response = w.client.post(url)
    return response, gone(ArticlePage, page)


@action("draft_article.delete", allowed=(302, "/admin/pages/"))
def draft_article_delete(w):
    page = w.draft_article
    response = w.client.post(reverse("wagtailadmin_pages:delete", args=[page.pk]))
    return response, gone(ArticlePage, page)


# Snippets: phrasings (drafts, revisions, the 内容审核 workflow) and synonym groups

PHRASINGS = "wagtailsnippets_content_phrasing"
SYNONYMS = "wagtailsnippets_search_synonymgroup"


def phrasing_form(phrasing, **changes):
    data = {
        "title": phrasing.title,
        "scenario": phrasing.scenario,
        "text": phrasing.text,
        "section": "",
        "tags": "",
    }
    return {**data, **changes}


@action("phrasing.list", allowed=OK)
def phrasing_list(w):
    phrasing = w.phrasing
    response = w.client.get(reverse(f"{PHRASINGS}:list"))
    return response, response.status_code == 200 and phrasing.title in response.content.decode()


@action(
    "phrasing.add",
    allowed=lambda w: (302, reverse(f"{PHRASINGS}:edit", args=[Phrasing.objects.get(title="结束语").pk])),
)
def phrasing_add(w):
    data = {"title": "结束语", "scenario": "通话结束", "text": "感谢来电，再见。", "section": "", "tags": ""}
    response = w.client.post(reverse(f"{PHRASINGS}:add"), data)
    return response, Phrasing.objects.filter(title="结束语").exists()


def phrasing_edited(w):
    return (302, reverse(f"{PHRASINGS}:edit", args=[w.phrasing.pk]))


@action("phrasing.edit", allowed=phrasing_edited)
def phrasing_edit(w):
    phrasing = w.phrasing
    response = w.client.post(
        reverse(f"{PHRASINGS}:edit", args=[phrasing.pk]), phrasing_form(phrasing, text="新话术")
    )
    phrasing.refresh_from_db()
    latest = phrasing.latest_revision.as_object()
    return response, latest.text == "新话术"


@action("phrasing.publish", allowed=(302, reverse(f"{PHRASINGS}:list")), refused=phrasing_edited)
def phrasing_publish(w):
    phrasing = w.phrasing
    data = phrasing_form(phrasing, text="新话术", **{"action-publish": "1"})
    response = w.client.post(reverse(f"{PHRASINGS}:edit", args=[phrasing.pk]), data)
    return response, Phrasing.objects.get(pk=phrasing.pk).text == "新话术"


@action("phrasing.delete", allowed=(302, reverse(f"{PHRASINGS}:list")))
def phrasing_delete(w):
    phrasing = w.phrasing
    response = w.client.post(reverse(f"{PHRASINGS}:delete", args=[phrasing.pk]))
    return response, gone(Phrasing, phrasing)


@action("synonym.list", allowed=OK)
def synonym_list(w):
    group = w.synonyms
    # Newest first: the default synonym groups (search 0006) fill more than the first page.
    response = w.client.get(reverse(f"{SYNONYMS}:list"), {"ordering": "-updated_at"})
    return response, response.status_code == 200 and group.term_list[0] in response.content.decode()


@action("synonym.add", allowed=(302, reverse(f"{SYNONYMS}:list")))
def synonym_add(w):
    response = w.client.post(reverse(f"{SYNONYMS}:add"), {"terms": "快递 = 物流", "note": ""})
    return response, SynonymGroup.objects.filter(terms="快递 = 物流").exists()


@action("synonym.edit", allowed=(302, reverse(f"{SYNONYMS}:list")))
def synonym_edit(w):
    group = w.synonyms
    response = w.client.post(
        reverse(f"{SYNONYMS}:edit", args=[group.pk]), {"terms": "退钱 = 退款 = 返款", "note": ""}
    )
    group.refresh_from_db()
    return response, group.terms == "退钱 = 退款 = 返款"


@action("synonym.delete", allowed=(302, reverse(f"{SYNONYMS}:list")))
def synonym_delete(w):
    group = w.synonyms
    response = w.client.post(reverse(f"{SYNONYMS}:delete", args=[group.pk]))
    return response, gone(SynonymGroup, group)


# Front end: search, runs


@action("search.page", allowed=OK, admin=False)
def search_page(w):
    response = w.client.get("/search/?q=少货")
    return response, response.status_code == 200


# A new hire runs a procedure live only once licensed (training): until then, back to the page with a note.
@action(
    "run.start",
    allowed=lambda w: (302, "/procedures/runs/"),
    refused=lambda w: (302, w.procedure.url),
    admin=False,
)
def run_start(w):
    response = w.client.post(reverse("procedures:start", args=[w.procedure.pk]), {"ref": "CALL-9"})
    return response, ProcedureRun.objects.filter(ref="CALL-9", user=w.user, practice=False).exists()


@action("run.practice", allowed=lambda w: (302, "/procedures/runs/"), admin=False)
def run_practice(w):
    response = w.client.post(
        reverse("procedures:start", args=[w.procedure.pk]), {"ref": "P-1", "practice": "1"}
    )
    return response, ProcedureRun.objects.filter(ref="P-1", user=w.user, practice=True).exists()


@action("run.my_runs", allowed=OK, admin=False)
def run_my_runs(w):
    if w.user:
        start_run(w.procedure, w.user, ref="MINE-1")
    anothers = w.anothers_run
    response = w.client.get(reverse("procedures:my_runs"))
    html = response.content.decode()
    return response, response.status_code == 200 and "MINE-1" in html and anothers.ref not in html


@action("run.anothers_screen", allowed=OK, refused=NOT_FOUND, admin=False)
def run_anothers_screen(w):
    response = w.client.get(reverse("procedures:run", args=[w.anothers_run.pk]))
    return response, response.status_code == 200


@action("run.anothers_move", allowed=(302, "/procedures/runs/"), refused=NOT_FOUND, admin=False)
def run_anothers_move(w):
    run = w.anothers_run
    before = RunEvent.objects.filter(run=run).count()
    response = w.client.post(
        reverse("procedures:move", args=[run.pk]), {"step": "greet", "seq": before, "go": "next"}
    )
    return response, RunEvent.objects.filter(run=run).count() != before


@action("run.anothers_json", allowed=OK, refused=NOT_FOUND, admin=False)
def run_anothers_json(w):
    run = w.anothers_run
    response = w.client.get(reverse("procedures:run_json", args=[run.pk]))
    return response, response.status_code == 200 and response.json()["ref"] == "CALL-1"


# Reports (admin)


def report(name, url, shows_the_run=False):
    @action(f"report.{name}", allowed=OK)
    def view(w):
        run = w.anothers_run
        response = w.client.get(url(w) if callable(url) else url)
        shown = response.status_code == 200
        if shown and shows_the_run:
            shown = run.ref in response.content.decode()
        return response, shown


report("runs", "/admin/reports/procedures/runs/", shows_the_run=True)
report("run_timeline", lambda w: f"/admin/reports/procedures/runs/{w.anothers_run.pk}/", shows_the_run=True)
report("agents", "/admin/reports/procedures/agents/")
report("stats", "/admin/reports/procedures/stats/")
report("abandonment", "/admin/reports/procedures/abandonment/")
report("paths", "/admin/reports/procedures/paths/")
report("step_times", "/admin/reports/procedures/step-times/")
report("must_say", "/admin/reports/procedures/must-say/")
report("overdue_review", "/admin/reports/overdue-review/")
report("top_queries", "/admin/reports/top-queries/")
report("zero_results", "/admin/reports/zero-results/")
report("unclicked_queries", "/admin/reports/unclicked-queries/")
report("learned_links", "/admin/reports/learned-links/")
report("training_progress", "/admin/reports/training/progress/")
report("training_items", "/admin/reports/training/items/")
report("followups_stats", "/admin/reports/followups/stats/")
report("followups_dissatisfaction", "/admin/reports/followups/dissatisfaction/")
report("change_acknowledgements", "/admin/reports/change-acknowledgements/")


@action("learned_link.block", allowed=(302, "/admin/reports/learned-links/"))
def learned_link_block(w):
    link = LearnedLink.objects.create(
        query_string="只到了两样", kind="article", object_id="1", title="少货处理", weight=1, clicks=1
    )
    response = w.client.post(f"/admin/reports/learned-links/{link.pk}/block/")
    return response, LearnedLink.objects.get(pk=link.pk).blocked


@action("zero_results.add_synonym", allowed=(302, "/admin/reports/zero-results/"))
def zero_results_add_synonym(w):
    """加同义词 from a row of 无结果搜索: the query's word into a new group."""
    response = w.client.post("/admin/reports/zero-results/synonym/", {"term": "发票", "new_terms": "票据"})
    return response, SynonymGroup.objects.filter(terms="发票 = 票据").exists()


@action("zero_results.add_promotion", allowed=(302, "/admin/reports/zero-results/"))
def zero_results_add_promotion(w):
    """设推荐结果 from a row of 无结果搜索: a live article promoted for the query."""
    page = w.article
    response = w.client.post("/admin/reports/zero-results/promote/", {"query": "少货怎么赔", "page": page.pk})
    return response, SearchPromotion.objects.filter(query__query_string="少货怎么赔", page=page).exists()


# Follow-ups: agents work their own and their groups'; supervisors see all; trainers keep the calendar.


@action("followups.queue", allowed=OK, refused=FORBIDDEN, admin=False)
def followups_queue(w):
    response = w.client.get(reverse("followups:queue"))
    return response, response.status_code == 200


@action("followups.queue_all", allowed=OK, refused=FORBIDDEN, admin=False)
def followups_queue_all(w):
    response = w.client.get(reverse("followups:queue"), {"queue": "all"})
    return response, response.status_code == 200


@action("followups.calendar_add", allowed=(302, reverse("wagtailsnippets_followups_workcalendarday:list")))
def followups_calendar_add(w):
    from followups.models import WorkCalendarDay

    response = w.client.post(
        reverse("wagtailsnippets_followups_workcalendarday:add"),
        {"date": "2027-02-08", "is_workday": "", "note": "春节"},
    )
    return response, WorkCalendarDay.objects.filter(note="春节").exists()


# Training: the trainee's page, the team dashboard, authoring paths in the admin.


@action("training.my_training", allowed=OK, admin=False)
def training_my_training(w):
    response = w.client.get(reverse("training:home"))
    return response, response.status_code == 200


@action("training.dashboard", allowed=OK, refused=FORBIDDEN, admin=False)
def training_dashboard(w):
    response = w.client.get(reverse("training:dashboard"))
    return response, response.status_code == 200


@action("training.path_add", allowed=OK)
def training_path_add(w):
    response = w.client.get(reverse("wagtailsnippets_training_learningpath:add"))
    return response, response.status_code == 200


@action("training.path_delete", allowed=(302, reverse("wagtailsnippets_training_learningpath:list")))
def training_path_delete(w):
    from training.models import LearningPath

    path = LearningPath.objects.create(
        title="待删路径",
        stages=[
            {
                "type": "stage",
                "value": {
                    "title": "业务培训",
                    "gate": "all_done",
                    "items": [
                        {"type": "offline", "value": {"title": "跟岗", "description": "", "due_day": None}}
                    ],
                },
            }
        ],
    )
    response = w.client.post(reverse("wagtailsnippets_training_learningpath:delete", args=[path.pk]))
    return response, gone(LearningPath, path)


# 内容健康: what to fix next, for those who fix content.


@action("health.dashboard", allowed=OK, refused=FORBIDDEN, admin=False)
def health_dashboard(w):
    assert w.full_section
    response = w.client.get(reverse("health"))
    return response, response.status_code == 200 and "少货处理" in body_of(response).decode()


@action("report.runs_export", allowed=OK)
def report_runs_export(w):
    run = w.anothers_run
    response = w.client.get("/admin/reports/procedures/runs/?export=csv")
    return response, response.status_code == 200 and run.ref in body_of(response).decode("utf-8-sig")


# Feedback: everyone sends and follows their own; 培训师 (the content's owner, else their group) and 主管
# handle it; the inbox (the bell) is everyone's.

report("feedback_open", "/admin/reports/feedback/open/")


def anothers_feedback(w):
    """Another agent's remark on the article (no owner: the 培训师 group handles it)."""
    from feedback import handling
    from feedback.targets import resolve

    target = resolve(w.other_agent, {"page": w.article.pk, "block": w.article.body[0].id})
    return handling.submit(target, w.other_agent, "unclear", "这一段看不懂。")


@action("feedback.send", allowed=OK, admin=False)
def feedback_send(w):
    from feedback.models import Feedback

    response = w.client.post(
        reverse("feedback:new"),
        {"page": w.article.pk, "block": w.article.body[0].id, "kind": "error", "text": "时限写错了。"},
    )
    return response, Feedback.objects.filter(text="时限写错了。").exists()


@action("feedback.mine", allowed=OK, admin=False)
def feedback_mine(w):
    response = w.client.get(reverse("feedback:mine"))
    return response, response.status_code == 200


@action("feedback.list", allowed=OK, refused=FORBIDDEN, admin=False)
def feedback_list(w):
    feedback = anothers_feedback(w)
    response = w.client.get(reverse("feedback:list"))
    return response, response.status_code == 200 and feedback.text in response.content.decode()


@action("feedback.handle_groups", allowed=(302, "/feedback/"), refused=FORBIDDEN, admin=False)
def feedback_handle_groups(w):
    feedback = anothers_feedback(w)
    response = w.client.post(
        reverse("feedback:handle", args=[feedback.pk]), {"action": "reject", "note": "不改"}
    )
    feedback.refresh_from_db()
    return response, feedback.status == "rejected"


@action("feedback.anothers_detail", allowed=OK, refused=NOT_FOUND, admin=False)
def feedback_anothers_detail(w):
    feedback = anothers_feedback(w)
    response = w.client.get(reverse("feedback:detail", args=[feedback.pk]))
    return response, response.status_code == 200


@action("inbox", allowed=OK, admin=False)
def inbox(w):
    response = w.client.get(reverse("inbox"))
    return response, response.status_code == 200


@action("article.mark_reviewed", allowed=lambda w: (302, edit_url(w.article)), refused=FORBIDDEN)
def article_mark_reviewed(w):
    response = w.client.post(reverse("content_review_page", args=[w.article.pk]), {"note": "核对无误"})
    return response, PageLogEntry.objects.filter(page=w.article, action=REVIEWED).exists()


@action("changes.mine", allowed=OK, admin=False)
def changes_mine(w):
    response = w.client.get(reverse("changes:mine"))
    return response, response.status_code == 200


CELLS = [(action_name, role) for action_name in MATRIX for role in ROLES]


def test_every_action_in_the_table_is_checked_and_every_check_is_in_the_table():
    assert set(MATRIX) == set(ACTIONS)
    print(f"permission cells checked: {len(CELLS)}")


@pytest.mark.parametrize(("action_name", "role"), CELLS, ids=[f"{a}-{r}" for a, r in CELLS])
def test_permission_cell(client, section, action_name, role):
    world = World(client, role, section)
    spec = ACTIONS[action_name]
    allowed = MATRIX[action_name][role]

    response, done = spec.run(world)

    status, location = spec.expected(world, allowed)
    where = response.get("Location")
    assert response.status_code == status, (response.status_code, where)
    if location is not None:
        assert where is not None and where.startswith(location), where
    assert done is allowed


def test_documents_and_images_use_the_role_policy_everywhere_wagtail_looks(db):
    from wagtail.documents import get_document_model
    from wagtail.permissions import policy_registry

    from kb_site.content.permissions import RoleCollectionPolicy

    for model in (get_document_model(), Image):
        assert isinstance(policy_registry.get_by_type(model), RoleCollectionPolicy)


def test_who_may_delete_a_document_as_wagtail_asks_it(db, trainer, supervisor):
    from wagtail.permissions import policy_registry

    policy = policy_registry.get_by_type(CallbookDocument)
    doc = CallbookDocument.objects.create(
        title="排班表", file=SimpleUploadedFile("roster.txt", b"x"), uploaded_by_user=trainer
    )
    admin = UserFactory(username="admin", is_superuser=True)
    assert set(policy.users_with_permission("delete")) == {supervisor, admin}
    assert set(policy.users_with_permission_for_instance("delete", doc)) == {supervisor, admin}
    assert set(policy.users_with_permission_for_instance("change", doc)) == {trainer, supervisor, admin}
    assert list(policy.instances_user_has_permission_for(trainer, "delete")) == []
    assert list(policy.instances_user_has_permission_for(supervisor, "delete")) == [doc]
    assert not policy.collections_user_has_permission_for(trainer, "delete").exists()


def test_the_group_editor_shows_who_may_delete_documents_and_images(client, db):
    import re

    from django.contrib.auth.models import Group, Permission

    client.force_login(UserFactory(username="admin", is_superuser=True))
    supervisors = Group.objects.get(name=roles.SUPERVISOR)
    html = client.get(reverse("wagtailusers_groups:edit", args=[supervisors.pk])).content.decode()
    for codename in ("delete_document", "delete_image"):
        permission = Permission.objects.get(codename=codename)
        assert re.search(rf'name="permissions" value="{permission.pk}" id="[^"]+" checked', html), codename


def test_existing_databases_get_the_new_grants(db):
    """``content.0006`` brings a database migrated before it to what ``roles.py`` now grants."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import GroupPagePermission

    migration = importlib.import_module("kb_site.content.migrations.0006_role_delete_permissions")
    supervisors = Group.objects.get(name=roles.SUPERVISOR)
    delete_image = Permission.objects.get(content_type__app_label="wagtailimages", codename="delete_image")
    delete_page = Permission.objects.get(content_type__app_label="wagtailcore", codename="delete_page")
    supervisors.permissions.remove(delete_image)
    GroupPagePermission.objects.create(
        group=supervisors, page=Page.get_first_root_node(), permission=delete_page
    )

    migration.update_grants(apps, None)

    assert supervisors.permissions.filter(pk=delete_image.pk).exists()
    assert not GroupPagePermission.objects.filter(permission=delete_page).exists()
    trainer_deletes = Group.objects.get(name=roles.TRAINER).permissions.filter(
        codename__in=["delete_document", "delete_image", "delete_phrasing"]
    )
    assert not trainer_deletes.exists()
