"""Sessions read through the machine's shared cache (kb_site/sessions.py) and a user's permissions read
in one query (kb_site/auth_backends.py): cheaper requests, with logout and password changes still
ending sessions."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kb_site.content import roles
from kb_site.sessions import session_cache
from tests.factories import PASSWORD, make_user

PAGE = reverse("procedures:my_runs")


def logged_in(username):
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def copy_of(client):
    """Another browser holding the same session cookie (or the same browser on another worker)."""
    other = Client()
    other.cookies = client.cookies.__class__(client.cookies)
    return other


def sees_page(client):
    response = client.get(PAGE)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("login"))
        return False
    assert response.status_code == 200
    return True


def test_a_page_reads_no_session_row(agent):
    client = logged_in(agent.username)
    assert sees_page(client)
    with CaptureQueriesContext(connection) as queries:
        assert sees_page(client)
    assert not [q["sql"] for q in queries if "django_session" in q["sql"]]


def test_logout_ends_the_session_for_every_copy_of_its_cookie(agent):
    client = logged_in(agent.username)
    copy = copy_of(client)
    assert sees_page(copy)
    client.post(reverse("logout"))
    assert not sees_page(client)
    assert not sees_page(copy)


def test_a_new_password_ends_the_other_sessions(agent):
    elsewhere = logged_in(agent.username)
    assert sees_page(elsewhere)
    agent.set_password("a-new-password-2026")
    agent.save()
    assert not sees_page(elsewhere)
    assert not logged_in_with(agent.username, PASSWORD)
    assert logged_in_with(agent.username, "a-new-password-2026")


def logged_in_with(username, password):
    return Client().post("/login/", {"username": username, "password": password}).status_code == 302


def test_a_deactivated_user_is_logged_out(agent):
    client = logged_in(agent.username)
    assert sees_page(client)
    agent.is_active = False
    agent.save()
    assert not sees_page(client)


def test_logout_removes_the_cached_copy(agent):
    """The shared cache holds a session until logout deletes it there and in the database (an expired
    one, which ``clearsessions`` removes from the database, expires in the cache at the same time)."""
    client = logged_in(agent.username)
    key = client.cookies["sessionid"].value
    assert session_cache().get("callbook.sessions." + key) is not None
    client.post(reverse("logout"))
    assert session_cache().get("callbook.sessions." + key) is None


def test_permissions_are_read_in_one_query(agent, django_assert_num_queries):
    agent.user_permissions.add(Permission.objects.get(codename="view_procedure_stats"))
    make_user(roles.TRAINER)  # a role the agent is not in
    agent.groups.add(*get_user_model().objects.get(username="trainer").groups.all())
    user = get_user_model().objects.get(pk=agent.pk)  # nothing read yet
    with django_assert_num_queries(1):
        assert user.has_perm("procedures.view_procedure_stats")  # the user's own
        assert user.has_perm("wagtailadmin.access_admin")  # the trainers' group's
        assert user.has_perm("content.add_phrasing")
        assert not user.has_perm("content.delete_phrasing")  # supervisors' only
    assert user.get_all_permissions() >= {"procedures.view_procedure_stats", "content.change_phrasing"}


@pytest.mark.parametrize("change", ["inactive", "superuser"])
def test_permissions_of_inactive_users_and_superusers(agent, change):
    if change == "inactive":
        agent.is_active = False
        agent.save()
        assert not get_user_model().objects.get(pk=agent.pk).has_perm("procedures.view_procedure_stats")
    else:
        agent.is_superuser = True
        agent.save()
        assert get_user_model().objects.get(pk=agent.pk).has_perm("content.delete_phrasing")
