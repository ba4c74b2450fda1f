"""`load_demo` builds a realistic site from fixtures/demo, and running it twice changes nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from wagtail.models import Page, Revision, Site

from kb_site.content.models import ArticlePage, HomePage, Phrasing, SectionPage


def counts():
    return {
        "pages": Page.objects.count(),
        "sections": SectionPage.objects.count(),
        "articles": ArticlePage.objects.count(),
        "phrasings": Phrasing.objects.count(),
        "users": get_user_model().objects.count(),
        "revisions": Revision.objects.count(),
    }


@pytest.fixture
def demo(db):
    call_command("load_demo", "--demo-users", verbosity=0)
    return counts()


def test_load_demo_is_idempotent(demo):
    call_command("load_demo", "--demo-users", verbosity=0)
    assert counts() == demo


def test_demo_is_big_enough(demo):
    assert demo["sections"] >= 5
    assert demo["articles"] >= 20
    assert demo["phrasings"] >= 40
    assert all(p.tags.exists() for p in Phrasing.objects.all())
    assert all(a.tags.exists() for a in ArticlePage.objects.all())
    assert Phrasing.objects.filter(live=False).count() == 0


def test_demo_home_is_the_site_root(demo):
    site = Site.objects.get(is_default_site=True)
    assert isinstance(site.root_page.specific, HomePage)
    assert not Page.objects.filter(depth=2).exclude(pk=site.root_page_id).exists()


def test_demo_agent_logs_in_and_every_page_renders(client, demo):
    assert client.login(username="agent", password="callbook-agent")
    home = client.get("/")
    assert home.status_code == 200
    for section in SectionPage.objects.live():
        assert section.title in home.content.decode()
    for page in Page.objects.live().filter(depth__gt=2).specific():
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        assert "{" not in response.content.decode().split("<main", 1)[1].split("</main>")[0].replace(
            "{%", ""
        ) or page.url.startswith("/procedures")


def test_demo_users_have_their_roles(demo):
    User = get_user_model()
    assert User.objects.get(username="agent").groups.filter(name="坐席").exists()
    assert User.objects.get(username="trainer").groups.filter(name="培训师").exists()
    assert User.objects.get(username="supervisor").groups.filter(name="主管").exists()
    assert User.objects.get(username="newhire").groups.filter(name="新员工").exists()


def test_demo_users_refused_with_debug_off(db):
    with pytest.raises(CommandError, match="published passwords"):
        call_command("load_demo", verbosity=0)
