"""Values phrasings speak that no procedure step asks for: the agent's 工号 and name, the company's name.

``{工号}`` comes from the agent's ``AgentProfile`` (set by an administrator under 代码片段 → 坐席工号),
``{客服姓名}`` from the agent's name on their user account (姓 + 名, as Chinese names are written),
``{公司名称}`` from the site's ``CompanySettings`` (设置 → 公司信息). ``system_values`` gathers them for one
user; a procedure run shows them in every phrasing without a step asking for them. To add another,
add its name to ``SYSTEM_PLACEHOLDERS`` and its value to ``system_values``.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import Site
from wagtail.snippets.models import register_snippet

__all__ = ["SYSTEM_PLACEHOLDERS", "AgentProfile", "CompanySettings", "person_name", "system_values"]

EMPLOYEE_NUMBER = "工号"
AGENT_NAME = "客服姓名"
COMPANY_NAME = "公司名称"
SYSTEM_PLACEHOLDERS = (EMPLOYEE_NUMBER, AGENT_NAME, COMPANY_NAME)


@register_snippet
class AgentProfile(models.Model):
    """An agent's 工号, which phrasings speak as ``{工号}``; one per user account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agent_profile",
        verbose_name=_("用户"),
        help_text=_("这个工号属于哪个坐席的账号"),
    )
    employee_number = models.CharField(
        _("工号"),
        max_length=20,
        help_text=_("坐席的工号，话术中的 {工号} 会自动填入，例如“我是 1001 号客服”"),
    )

    panels = [FieldPanel("user"), FieldPanel("employee_number")]

    class Meta:
        verbose_name = _("坐席工号")
        verbose_name_plural = _("坐席工号")

    def __str__(self):
        return f"{person_name(self.user)}（{self.employee_number}）"


@register_setting(icon="site")
class CompanySettings(BaseSiteSetting):
    """The company name phrasings speak as ``{公司名称}``, e.g. the hotline's opening “您好！{公司名称}。”."""

    company_name = models.CharField(
        _("公司名称"),
        max_length=60,
        blank=True,
        help_text=_("话术中的 {公司名称} 会自动填入，例如热线接听开场“您好！{公司名称}。”"),
    )

    panels = [FieldPanel("company_name")]

    class Meta:
        verbose_name = _("公司信息")
        verbose_name_plural = _("公司信息")


def agent_name(user):
    """The agent's name as spoken: 姓 then 名, no space (王 + 芳 → 王芳); empty when neither is set."""
    return f"{user.last_name}{user.first_name}".strip()


def person_name(user):
    """How the site names a person: their name as spoken (``agent_name``), else the username; "" for
    nobody."""
    if user is None:
        return ""
    return agent_name(user) or user.get_username()


def system_values(user_id, site=None):
    """``{name: value}`` of the system placeholders for one agent; a value not set is left out (a gap).

    One statement, written out (every search result page and step page showing a phrasing asks it): the
    user's name, their profile's 工号 and the company name of ``site`` (the default site when not given),
    as ``select_related("agent_profile")`` on the user and ``CompanySettings`` filtered by site, first by
    id, would read them.
    """
    user_model = get_user_model()
    users = user_model._meta.db_table
    profiles = AgentProfile._meta.db_table
    companies = CompanySettings._meta.db_table
    if site is not None:
        where, site_param = "site_id = %s", site.pk
    else:
        where, site_param = f"site_id IN (SELECT id FROM {Site._meta.db_table} WHERE is_default_site)", None
    sql = (
        f"SELECT (SELECT last_name FROM {users} WHERE id = %s), (SELECT first_name FROM {users} WHERE id = %s),"
        f" (SELECT employee_number FROM {profiles} WHERE user_id = %s),"
        f" (SELECT company_name FROM {companies} WHERE {where} ORDER BY id LIMIT 1)"
    )
    params = [user_id, user_id, user_id] + ([site_param] if site is not None else [])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        last_name, first_name, employee_number, company_name = cursor.fetchone()
    values = {}
    if employee_number:
        values[EMPLOYEE_NUMBER] = employee_number
    name = f"{last_name or ''}{first_name or ''}".strip()
    if name:
        values[AGENT_NAME] = name
    if company_name:
        values[COMPANY_NAME] = company_name
    return values


def ensure_site_company_name(site, company_name):
    """Set the site's company name if it has none yet (the demo loader); returns the settings."""
    company = CompanySettings.for_site(site)
    if not company.company_name and company_name:
        company.company_name = company_name
        company.save()
    return company
