"""Fixtures shared by all test packages: a site tree and one user per role."""

import pytest
from wagtail.models import Page, Site

from kb_site.content import roles
from tests.factories import HomePageFactory, SectionPageFactory, make_user


@pytest.fixture
def home(db):
    root = Page.get_first_root_node()
    home = HomePageFactory(parent=root, slug="kb-home")
    site = Site.objects.get(is_default_site=True)
    site.root_page = home
    site.hostname = "testserver"
    site.save()
    return home


@pytest.fixture
def section(home):
    return SectionPageFactory(parent=home, title="电商售前售后", slug="ecommerce")


@pytest.fixture
def agent(db):
    return make_user(roles.AGENT)


@pytest.fixture
def trainer(db):
    return make_user(roles.TRAINER)


@pytest.fixture
def supervisor(db):
    return make_user(roles.SUPERVISOR)


@pytest.fixture
def newhire(db):
    return make_user(roles.NEW_HIRE)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client
