"""`load_demo` builds a realistic site from fixtures/demo on an empty database. (What the demo holds, and that
a second load changes nothing: tests/demo/, on one load they share.)"""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from wagtail import hooks
from wagtail.models import Page, Revision, Site

from kb_site.content.models import ArticlePage, HomePage, Phrasing, SectionPage
from kb_site.demo import DemoReport
from procedures.models import ProcedurePage
from search.models import SynonymGroup


def counts():
    return {
        "pages": Page.objects.count(),
        "sections": SectionPage.objects.count(),
        "articles": ArticlePage.objects.count(),
        "phrasings": Phrasing.objects.count(),
        "users": get_user_model().objects.count(),
        "revisions": Revision.objects.count(),
        "procedures": ProcedurePage.objects.count(),
        "synonyms": SynonymGroup.objects.count(),
    }


@pytest.fixture
def demo(db):
    """One demo load, with two extra loaders registered first and last to see the order they run in."""
    calls = []

    def first(update, report, **options):
        calls.append(("first", options["with_users"], isinstance(report, DemoReport), counts()["articles"]))

    def last(update, report, **options):
        calls.append(("last", options["with_users"], report.created.get("articles"), counts()["synonyms"]))

    with (
        hooks.register_temporarily("register_demo_loader", first, order=-100),
        hooks.register_temporarily("register_demo_loader", last, order=1000),
    ):
        call_command("load_demo", "--demo-users", verbosity=0)
    return {**counts(), "calls": calls}


def test_load_demo_builds_the_site_once(demo):
    """Size, site root, roles, and every app's loader in hook order."""
    assert demo["sections"] >= 5
    assert demo["articles"] >= 20
    assert demo["phrasings"] >= 40
    assert demo["procedures"] >= 8 and demo["synonyms"] >= 10
    # Every app's registered loader ran, in hook order, sharing one report.
    [first, last] = demo.pop("calls")
    assert first == ("first", True, True, 0)  # before any app's loader
    assert last == ("last", True, demo["articles"], demo["synonyms"])
    assert all(p.tags.exists() for p in Phrasing.objects.all())
    assert all(a.tags.exists() for a in ArticlePage.objects.all())
    assert Phrasing.objects.filter(live=False).count() == 0

    site = Site.objects.get(is_default_site=True)
    assert isinstance(site.root_page.specific, HomePage)
    assert not Page.objects.filter(depth=2).exclude(pk=site.root_page_id).exists()

    User = get_user_model()
    for username, role in [
        ("agent", "坐席"),
        ("trainer", "培训师"),
        ("supervisor", "主管"),
        ("newhire", "新员工"),
    ]:
        assert User.objects.get(username=username).groups.filter(name=role).exists()


def test_demo_users_refused_with_debug_off(db):
    with pytest.raises(CommandError, match="published passwords"):
        call_command("load_demo", verbosity=0)
