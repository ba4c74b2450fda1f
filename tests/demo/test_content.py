"""The demo site as an agent meets it: logging in through the form, every page rendering with its
placeholders filled."""

from wagtail.models import Page

from kb_site.content.models import SectionPage
from kb_site.content.placeholders import PLACEHOLDER_RE


def test_demo_agent_logs_in_and_every_page_renders(client, demo):
    # Through the login form, as an agent does (django-axes counts attempts per request).
    response = client.post("/login/", {"username": "agent", "password": "callbook-agent"})
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    for section in SectionPage.objects.live():
        assert section.title in home.content.decode()
    for page in Page.objects.live().filter(depth__gt=2).specific():
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        main = response.content.decode().split("<main", 1)[1].split("</main>")[0]
        assert not PLACEHOLDER_RE.search(main), f"raw placeholder braces on {page.url}"
