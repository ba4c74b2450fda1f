"""Login lockout on top of django-axes: where a request comes from, what a locked-out user is told, and
the admin's 登录锁定 report through which a supervisor or an administrator lifts a lockout.

Axes counts failed logins per username *and* address (``AXES_LOCKOUT_PARAMETERS`` in settings) and
refuses a locked combination inside ``authenticate()``. Both login pages (the site's ``/login/`` and
Wagtail's ``/admin/login/``) use a form from here that turns that refusal into a form error saying
for how long and from where the account is locked; ``lockout_response`` (``AXES_LOCKOUT_CALLABLE``)
then sends that page with axes' status (429) instead of axes' English text.
"""

import ipaddress

from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import Max, Sum
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import PermissionCheckedMixin
from wagtail.admin.views.reports import ReportView
from wagtail.permission_policies import ModelPermissionPolicy

from kb_site.reports import ReportViewSet

LOCKED_OUT = "locked_out"


# Where a request comes from


def client_ip_address(request):
    """The address axes counts a login attempt against (``AXES_CLIENT_IP_CALLABLE``).

    The peer's address (``REMOTE_ADDR``) unless ``CALLBOOK_TRUSTED_PROXIES`` reverse proxies stand in
    front of the site: each appends the address it was reached from to ``X-Forwarded-For``, so with N
    of them the client is the N-th entry from the right (entries further left are whatever the client
    sent, and are ignored). A header too short or not an address falls back to the peer; it is never
    trusted when no proxy is configured, or a client could escape its lockout by inventing addresses.
    No usable address at all (a Unix socket) is None: axes then counts by username alone.
    """
    proxies = getattr(settings, "CALLBOOK_TRUSTED_PROXIES", 0)
    if proxies > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(forwarded) >= proxies and (address := plain_address(forwarded[-proxies])):
            return address
    return plain_address(request.META.get("REMOTE_ADDR", ""))


def plain_address(value):
    """``value`` as an IP address every database stores (no IPv6 zone), or None."""
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return None if getattr(address, "scope_id", None) else str(address)


# What a locked-out user is told


def cool_off_minutes(request=None):
    return int(get_cool_off(request).total_seconds() // 60)


def unlocks_at(username, ip_address, request=None):
    """When the lockout of ``username`` at ``ip_address`` ends by itself (local time), or None."""
    last = AccessAttempt.objects.filter(username=username, ip_address=ip_address).aggregate(
        last=Max("attempt_time")
    )["last"]
    return timezone.localtime(last + get_cool_off(request)) if last else None


def lockout_message(request, username):
    until = unlocks_at(username, getattr(request, "axes_ip_address", None), request)
    values = {"username": username, "minutes": cool_off_minutes(request)}
    if until:
        locked = _(
            "登录失败次数过多：账号“%(username)s”在此地址已被锁定 %(minutes)d 分钟，%(until)s 后可再试。"
        )
        values["until"] = f"{until:%H:%M}"
    else:
        locked = _("登录失败次数过多：账号“%(username)s”在此地址已被锁定 %(minutes)d 分钟，请稍后再试。")
    return (locked % values) + str(_("如需马上登录，请联系主管或管理员在管理后台“报告 → 登录锁定”中解锁。"))


class LockoutMessageMixin:
    """For a Django ``AuthenticationForm``: a login refused because axes locked the username at this
    address says so, instead of claiming the password was wrong."""

    def get_invalid_login_error(self):
        if getattr(self.request, "axes_locked_out", False):
            username = self.cleaned_data.get("username") or ""
            return forms.ValidationError(lockout_message(self.request, username), code=LOCKED_OUT)
        return super().get_invalid_login_error()


class SiteLoginForm(LockoutMessageMixin, AuthenticationForm):
    """The front end's login form (``/login/``)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确，请重新输入。"),
    }


class AdminLoginForm(LockoutMessageMixin, WagtailLoginForm):
    """Wagtail's login form (``/admin/login/``, ``WAGTAILADMIN_USER_LOGIN_FORM``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Wagtail leaves this label to Django's default, the field's name "Password", which no catalogue
        # translates; Django's and Wagtail's catalogues do translate the msgid.
        self.fields["password"].label = _("Password")


def shows_lockout(response):
    form = (getattr(response, "context_data", None) or {}).get("form")
    return isinstance(form, forms.Form) and form.has_error(NON_FIELD_ERRORS, LOCKED_OUT)


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: the login page as rendered, with the lockout as its form error, sent
    with axes' status; any other view that authenticates gets a page of its own with the message."""
    status = settings.AXES_HTTP_RESPONSE_CODE
    if isinstance(original_response, HttpResponse) and shows_lockout(original_response):
        original_response.status_code = status
        return original_response
    credentials = credentials if isinstance(credentials, dict) else {}
    username = credentials.get("username") or request.POST.get("username", "")
    return render(
        request, "account/locked_out.html", {"message": lockout_message(request, username)}, status=status
    )


# The admin's 登录锁定 report


def current_lockouts():
    """Each username and address axes refuses now: failures summed over browsers (axes keeps a row per
    user agent), most recent first."""
    since = timezone.now() - get_cool_off()
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=since)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=get_failure_limit(None, None))
        .order_by("-last_attempt", "username")
    )
    rows = list(rows)
    names = {
        user.get_username(): user.get_full_name() or "—"
        for user in get_user_model().objects.filter(username__in={row["username"] for row in rows})
    }
    cool_off = get_cool_off()
    for row in rows:
        row["name"] = names.get(row["username"], _("（无此账号）"))
        row["last_attempt_display"] = f"{timezone.localtime(row['last_attempt']):%Y-%m-%d %H:%M:%S}"
        row["unlocks_at_display"] = f"{timezone.localtime(row['last_attempt'] + cool_off):%Y-%m-%d %H:%M:%S}"
    return rows


lockout_permission_policy = ModelPermissionPolicy(AccessAttempt)


class UnlockColumn(Column):
    """The 解锁 button: a POST form to ``UnlockView``, shown to those who may delete lockouts."""

    cell_template_name = "kb_site/lockouts/unlock_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        request = parent_context.get("request")
        context["can_unlock"] = request is not None and lockout_permission_policy.user_has_permission(
            request.user, "delete"
        )
        if context["can_unlock"]:
            context["csrf_token"] = get_token(request)
            context["unlock_url"] = reverse("login_lockouts:unlock")
        return context


class LoginLockoutReportView(ReportView):
    """登录锁定: usernames refused at an address after too many wrong passwords, with an unlock button.

    Shown to whoever holds axes' ``view_accessattempt`` (主管, by the ``kb_site`` data migration;
    superusers); lifting a lockout needs ``delete_accessattempt``.
    """

    page_title = _("登录锁定")
    header_icon = "lock"
    index_url_name = "login_lockouts:index"
    index_results_url_name = "login_lockouts:index_results"
    permission_policy = lockout_permission_policy
    permission_required = "view"
    paginate_by = 100
    columns = [
        Column("username", label=_("用户名")),
        Column("name", label=_("姓名")),
        Column("ip_address", label=_("地址")),
        Column("failures", label=_("失败次数")),
        Column("last_attempt", label=_("最后一次尝试"), accessor="last_attempt_display"),
        Column("unlocks_at", label=_("自动解锁时间"), accessor="unlocks_at_display"),
        UnlockColumn("unlock", label=_("操作"), accessor="username"),
    ]

    @property
    def no_results_message(self):
        return _("当前没有被锁定的账号。")

    def get_queryset(self):
        return current_lockouts()


class UnlockForm(forms.Form):
    username = forms.CharField(max_length=255)
    ip_address = forms.GenericIPAddressField(required=False)


class UnlockView(PermissionCheckedMixin, View):
    """Lift one lockout: every failure axes holds for exactly this username at this address.

    Deleted here rather than through ``axes.utils.reset``, which drops a filter left empty and would
    then release every username at the address (or the username everywhere).
    """

    http_method_names = ["post"]
    permission_policy = lockout_permission_policy
    permission_required = "delete"

    def post(self, request):
        form = UnlockForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("无法解除：用户名或地址无效。"))
            return redirect("login_lockouts:index")
        username = form.cleaned_data["username"]
        ip_address = form.cleaned_data["ip_address"] or None
        deleted, _counts = AccessAttempt.objects.filter(username=username, ip_address=ip_address).delete()
        values = {"username": username, "address": ip_address or _("未知地址")}
        if deleted:
            messages.success(request, _("已解除 %(username)s 在 %(address)s 的登录锁定。") % values)
        else:
            messages.warning(request, _("%(username)s 在 %(address)s 的锁定已解除或已过期。") % values)
        return redirect("login_lockouts:index")


class LoginLockoutViewSet(ReportViewSet):
    """The 登录锁定 report and its unlock action, under Reports (beside Wagtail's locked pages)."""

    view_class = LoginLockoutReportView

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), path("unlock/", UnlockView.as_view(), name="unlock")]
