"""The admin account page offers the site's own languages and time zone (with one zone Wagtail shows no
choice), not Wagtail's world lists."""

from django.urls import reverse


def test_account_page_offers_only_the_sites_languages_and_time_zone(client, trainer):
    client.force_login(trainer)
    html = client.get(reverse("wagtailadmin_account")).content.decode()
    assert "Europe/Paris" not in html and "America/New_York" not in html
    assert "简体中文" in html
    assert "Deutsch" not in html and "Français" not in html
