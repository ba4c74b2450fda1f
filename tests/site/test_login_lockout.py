"""Login lockout (django-axes): after a few wrong passwords a username is locked for the address it was
tried from, on the site's login page and on the admin's, with a Chinese message; a supervisor or an
administrator unlocks it from the admin's 登录锁定 report."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory

LOGIN_URLS = ["/login/", "/admin/login/"]
LIMIT = 5
FLOOR = "10.20.30.40"  # the call centre's one NAT address
REPORT = "/admin/reports/login-lockouts/"
UNLOCK = "/admin/reports/login-lockouts/unlock/"


def attempt(client, url, username, password, address=FLOOR, **headers):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def fail(client, url, username, times, address=FLOOR):
    for _ in range(times):
        response = attempt(client, url, username, "wrong-password", address)
    return response


def logged_in_as(client):
    return client.session.get("_auth_user_id")


def assert_locked_message(response, username):
    text = response.content.decode()
    assert response.status_code == 429
    assert "登录失败次数过多" in text
    assert f"账号“{username}”在此地址已被锁定 30 分钟" in text
    assert "主管或管理员" in text


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_the_right_password_is_refused_after_too_many_wrong_ones(client, agent, url):
    for _ in range(LIMIT - 1):
        response = attempt(client, url, "agent", "wrong-password")
        assert response.status_code == 200
    assert_locked_message(fail(client, url, "agent", 1), "agent")

    response = attempt(client, url, "agent", PASSWORD)
    assert_locked_message(response, "agent")
    assert not logged_in_as(client)


def test_a_lockout_on_one_login_page_holds_on_the_other(client, agent):
    fail(client, "/login/", "agent", LIMIT)
    assert_locked_message(attempt(client, "/admin/login/", "agent", PASSWORD), "agent")


def test_the_message_says_when_to_try_again_in_local_time(client, agent):
    response = fail(client, "/login/", "agent", LIMIT)
    locked_at = AccessAttempt.objects.get(username="agent").attempt_time
    until = timezone.localtime(locked_at + timezone.timedelta(minutes=30))
    assert f"{until:%H:%M} 后可再试" in response.content.decode()


def test_another_username_from_the_same_address_is_not_locked(client, agent, other_agent):
    """Agents share one NAT address: one agent's lockout must not lock the floor."""
    fail(client, "/login/", "agent", LIMIT)
    response = attempt(client, "/login/", "agent2", PASSWORD)
    assert response.status_code == 302
    assert logged_in_as(client) == str(other_agent.pk)


def test_the_same_username_from_another_address_is_not_locked(client, agent):
    fail(client, "/login/", "agent", LIMIT)
    response = attempt(client, "/login/", "agent", PASSWORD, address="10.99.0.7")
    assert response.status_code == 302


def test_unknown_usernames_are_locked_the_same_way(client, db):
    """No telling real accounts from guessed ones."""
    assert_locked_message(fail(client, "/login/", "nobody", LIMIT), "nobody")


def test_a_successful_login_below_the_limit_starts_the_count_again(client, agent):
    fail(client, "/login/", "agent", LIMIT - 1)
    assert attempt(client, "/login/", "agent", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="agent").exists()
    client.logout()

    # Without the reset, these would make 8 failures and lock the account.
    fail(client, "/login/", "agent", LIMIT - 1)
    assert attempt(client, "/login/", "agent", PASSWORD).status_code == 302


def test_a_wrong_password_below_the_limit_keeps_the_usual_message(client, agent):
    response = fail(client, "/login/", "agent", 1)
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_a_forwarded_for_header_is_ignored_unless_a_proxy_is_trusted(client, agent):
    """Directly exposed, a client could otherwise escape its lockout by inventing addresses."""
    fail(client, "/login/", "agent", LIMIT)
    response = attempt(client, "/login/", "agent", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert_locked_message(response, "agent")


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, agent, settings):
    settings.CALLBOOK_TRUSTED_PROXIES = 1
    proxy = "192.168.0.2"
    for _ in range(LIMIT):
        attempt(client, "/login/", "agent", "wrong", proxy, HTTP_X_FORWARDED_FOR="spoofed, 10.0.0.8")
    assert AccessAttempt.objects.get().ip_address == "10.0.0.8"
    # Another agent behind the same proxy, from another desk address, is not locked.
    response = attempt(client, "/login/", "agent", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="10.0.0.9")
    assert response.status_code == 302


@pytest.mark.parametrize("forwarded", ["not-an-address", "fe80::1%eth0", ""])
def test_a_malformed_forwarded_address_falls_back_to_the_peer(client, agent, settings, forwarded):
    settings.CALLBOOK_TRUSTED_PROXIES = 1
    response = attempt(client, "/login/", "agent", "wrong", HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 200
    assert AccessAttempt.objects.get().ip_address == FLOOR


def test_without_a_peer_address_failures_count_by_username(client, agent):
    """Behind a Unix socket there is no address: the username alone is counted, and nothing breaks."""
    for _ in range(LIMIT):
        response = attempt(client, "/login/", "agent", "wrong", address="")
    assert_locked_message(response, "agent")
    assert AccessAttempt.objects.get().ip_address is None


# The admin's 登录锁定 report


@pytest.fixture
def locked_agent(client, agent):
    fail(client, "/login/", "agent", LIMIT)
    return agent


def test_a_supervisor_sees_current_lockouts_in_local_time(client, locked_agent, other_agent, supervisor):
    fail(client, "/login/", "agent2", LIMIT - 1)  # not locked: not listed
    client.force_login(supervisor)
    response = client.get(REPORT)
    assert response.status_code == 200
    text = response.content.decode()
    last = timezone.localtime(AccessAttempt.objects.get(username="agent").attempt_time)
    assert "agent" in text and "小王" in text and FLOOR in text
    assert f"{last:%Y-%m-%d %H:%M:%S}" in text
    assert "agent2" not in text


def test_unlock_from_the_report_lets_the_user_log_in_again(client, locked_agent, supervisor):
    client.force_login(supervisor)
    response = client.post(UNLOCK, {"username": "agent", "ip_address": FLOOR}, follow=True)
    assert response.redirect_chain[-1][0] == REPORT
    assert "已解除 agent 在 10.20.30.40 的登录锁定" in response.content.decode()
    client.logout()

    assert attempt(client, "/login/", "agent", PASSWORD).status_code == 302


def test_unlock_releases_only_that_username_and_address(client, locked_agent, other_agent, supervisor):
    fail(client, "/login/", "agent2", LIMIT)
    fail(client, "/login/", "agent", LIMIT, address="10.99.0.7")
    client.force_login(supervisor)
    client.post(UNLOCK, {"username": "agent", "ip_address": FLOOR})
    assert set(AccessAttempt.objects.values_list("username", "ip_address")) == {
        ("agent2", FLOOR),
        ("agent", "10.99.0.7"),
    }


def test_unlock_is_a_post(client, locked_agent, supervisor):
    client.force_login(supervisor)
    assert client.get(UNLOCK, {"username": "agent", "ip_address": FLOOR}).status_code == 405
    assert AccessAttempt.objects.exists()


def test_a_superuser_can_unlock(client, locked_agent):
    admin = UserFactory(username="admin", is_superuser=True)
    client.force_login(admin)
    assert client.get(REPORT).status_code == 200
    client.post(UNLOCK, {"username": "agent", "ip_address": FLOOR})
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("role", ["agent", "trainer"])
def test_other_roles_cannot_see_or_unlock(client, locked_agent, trainer, role):
    user = locked_agent if role == "agent" else trainer
    client.force_login(user)
    listing = client.get(REPORT)
    assert listing.status_code in (302, 403)
    assert "/admin/" in listing.get("Location", "/admin/")
    unlock = client.post(UNLOCK, {"username": "agent", "ip_address": FLOOR})
    assert unlock.status_code in (302, 403)
    assert AccessAttempt.objects.filter(username="agent").exists()


def test_the_report_is_in_the_menu_of_those_who_may_unlock(client, supervisor, trainer):
    client.force_login(supervisor)
    assert REPORT in client.get("/admin/").content.decode()
    client.force_login(trainer)
    assert REPORT not in client.get("/admin/").content.decode()


def test_unlock_needs_axes_delete_permission(client, locked_agent, trainer):
    """Seeing lockouts (view) is not enough to lift them (delete)."""
    trainer.user_permissions.add(Permission.objects.get(codename="view_accessattempt"))
    client.force_login(trainer)
    assert client.get(REPORT).status_code == 200
    client.post(UNLOCK, {"username": "agent", "ip_address": FLOOR})
    assert AccessAttempt.objects.filter(username="agent").exists()


def test_a_tampered_unlock_is_a_message_not_an_error(client, supervisor):
    client.force_login(supervisor)
    response = client.post(UNLOCK, {"username": "", "ip_address": "999.1.1.1"}, follow=True)
    assert response.status_code == 200
    assert "无法解除" in response.content.decode()
