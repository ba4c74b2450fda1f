"""Which page types can be created where."""

from wagtail.models import Page

from kb_site.content.models import ArticlePage, HomePage, SectionPage


def test_home_only_under_root_and_only_once(home):
    root = Page.get_first_root_node()
    assert HomePage in root.specific_class.allowed_subpage_models()
    assert not HomePage.can_create_at(root)  # max_count = 1, one exists
    assert HomePage.allowed_parent_page_models() == [Page]


def test_sections_live_under_home(home, section):
    assert SectionPage.can_create_at(home)
    assert not SectionPage.can_create_at(section)
    assert not SectionPage.can_create_at(Page.get_first_root_node())


def test_articles_live_under_sections_only(home, section):
    assert ArticlePage.can_create_at(section)
    assert not ArticlePage.can_create_at(home)
    assert ArticlePage.allowed_subpage_models() == []


def test_home_accepts_only_sections(home):
    assert HomePage.allowed_subpage_models() == [SectionPage]
