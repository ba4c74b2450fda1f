"""No demo procedure shows the agent a gap mid-call: every placeholder a step shows is filled by then.

A placeholder in a step's title, text or phrasings (outcome steps included: the summary shows them) is
guaranteed a value when it is

- a system value (``kb_site.content.profiles.SYSTEM_PLACEHOLDERS``: the agent's 工号 and name, the
  company's name), filled for every run; or
- a required variable that an input step collects on *every* path from the start to that step, before
  it (an input step requires it, so the run cannot pass without it); or
- a required variable that no input step collects: the start form asks for it
  (``Procedure.required_at_start``).

Then a run as an agent shows the system values filled in, and dates the way they are spoken.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Site

from kb_site.content import demo as content_demo
from kb_site.content.models import AgentProfile, CompanySettings
from kb_site.content.placeholders import placeholder_names, spoken_date
from kb_site.content.profiles import SYSTEM_PLACEHOLDERS, system_values
from procedures import demo, graph
from procedures.choices import StepKind
from procedures.models import ProcedureRun
from procedures.text import spoken_values
from tests.procedures.conftest import load_demo_procedure, login


def shown_placeholders(step):
    texts = [step.get("title", ""), step.get("text_html", "")]
    texts += [phrasing["text"] for phrasing in step.get("phrasings", [])]
    return {name for text in texts for name in placeholder_names(text)}


def collected_before(steps, required):
    """``{key: names}``: the required variables every path from the start has collected on entering a step.

    The usual "must" data-flow over the procedure graph: a step's set is the intersection of what its
    predecessors hand on, an input step handing on its own required variables too.
    """
    by_key = {step["key"]: step for step in steps}
    start = steps[0]["key"]
    reachable = graph.reachable_from(start, by_key)
    everything = set(required)
    entering = {key: set(everything) for key in reachable}
    entering[start] = set()
    changed = True
    while changed:
        changed = False
        for key in reachable:
            step = by_key[key]
            leaving = set(entering[key])
            if step.get("kind") == StepKind.INPUT:
                leaving |= {name for name in step.get("variables") or [] if name in required}
            for successor in graph.successors(step):
                if successor == start:
                    continue
                narrowed = entering[successor] & leaving
                if narrowed != entering[successor]:
                    entering[successor] = narrowed
                    changed = True
    return entering


@pytest.mark.parametrize("path", demo.procedure_files(), ids=lambda p: p.name)
def test_every_placeholder_is_filled_before_it_is_shown(db, path):
    page = load_demo_procedure(path.name)
    procedure = page.to_procedure()
    steps = page.step_dicts()
    variables = procedure.variables
    required = {name for name, variable in variables.items() if variable.required}
    collected_somewhere = {
        name for step in steps if step.get("kind") == StepKind.INPUT for name in step.get("variables") or []
    }
    at_start = required - collected_somewhere  # asked on the start form, and required there
    entering = collected_before(steps, required)
    gaps = []
    for key, filled in entering.items():
        step = next(s for s in steps if s["key"] == key)
        for name in sorted(shown_placeholders(step)):
            if name in SYSTEM_PLACEHOLDERS or name in filled or name in at_start:
                continue
            if name not in variables:
                why = "no variable and no system value"
            elif name not in required:
                why = "not required, so it may be left empty"
            else:
                why = "not collected on every path before this step"
            gaps.append(f"{key}: {{{name}}} {why}")
    assert not gaps, "\n".join(gaps)


@pytest.mark.parametrize("path", demo.procedure_files(), ids=lambda p: p.name)
def test_no_procedure_asks_for_a_system_value(db, path):
    """A variable named 工号 would be typed on the start form instead of coming from the profile."""
    page = load_demo_procedure(path.name)
    assert not set(page.to_procedure().variables) & set(SYSTEM_PLACEHOLDERS)


def test_spoken_date():
    assert spoken_date("2026-11-16") == "2026年11月16日"
    assert spoken_date(datetime.date(2026, 3, 1)) == "2026年3月1日"
    assert spoken_date("下周一") == "下周一"  # not a date: kept as typed


def test_system_values_come_from_the_profile_the_user_and_the_site(db, agent, home):
    assert system_values(agent.pk) == {"客服姓名": "小王"}
    AgentProfile.objects.create(user=agent, employee_number="1001")
    company = CompanySettings.for_site(Site.objects.get(is_default_site=True))
    company.company_name = "示范服务中心"
    company.save()
    agent.last_name = "王"
    agent.save()
    assert system_values(agent.pk) == {"工号": "1001", "客服姓名": "王小王", "公司名称": "示范服务中心"}


def test_a_run_speaks_the_agents_number_the_company_and_dates(client, agent, home):
    AgentProfile.objects.create(user=agent, employee_number="1001")
    company = CompanySettings.for_site(Site.objects.get(is_default_site=True))
    company.company_name = "示范服务中心"
    company.save()
    page = load_demo_procedure("60-complaint-six-steps.yaml")
    login(client, agent)
    client.get(page.url)
    response = client.post(
        reverse("procedures:start", args=[page.pk]), {"v-客户称呼": "王先生", "v-投诉内容": "返修后仍漏油"}
    )
    assert response.status_code == 302
    run = ProcedureRun.objects.latest("started_at")
    html = client.get(reverse("procedures:run", args=[run.pk])).content.decode()
    for name, value in [("公司名称", "示范服务中心"), ("客服姓名", "小王"), ("工号", "1001")]:
        assert f'<span class="ph ph-filled" data-ph="{name}">{value}</span>' in html
    assert "ph-gap" not in html and "ph-missing" not in html

    finished = timezone.localdate() - datetime.timedelta(days=2)
    values = spoken_values(page.to_procedure(), {"处理日期": finished.isoformat(), "问题级别": "一般问题"})
    assert values == {
        "处理日期": f"{finished.year}年{finished.month}月{finished.day}日",
        "问题级别": "一般问题",
    }


def test_the_demo_gives_its_users_a_number_and_the_site_a_company_name(db):
    report = content_demo.DemoReport()
    users = content_demo.ensure_users(report)
    content_demo.ensure_home(content_demo.load_yaml(content_demo.DEMO_DIR / "site.yaml"), report)
    assert system_values(users["agent"].pk) == {
        "工号": "1001",
        "客服姓名": "小王",
        "公司名称": "示范服务中心",
    }
    content_demo.ensure_users(report)  # a second load changes nothing
    assert AgentProfile.objects.count() == 4


def test_an_administrator_sets_a_number_and_the_company_name_in_the_admin(client, agent, home):
    admin = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(admin)
    response = client.post(
        reverse("wagtailsnippets_content_agentprofile:add"), {"user": agent.pk, "employee_number": "1024"}
    )
    assert response.status_code == 302
    assert system_values(agent.pk)["工号"] == "1024"
    site = Site.objects.get(is_default_site=True)
    response = client.post(
        reverse("wagtailsettings:edit", args=["content", "companysettings", site.pk]),
        {"company_name": "示范服务中心"},
    )
    assert response.status_code == 302
    assert system_values(agent.pk)["公司名称"] == "示范服务中心"


def test_a_supervisor_keeps_the_numbers_and_the_company_name_a_trainer_cannot(
    client, agent, trainer, supervisor, home
):
    """The floor supervisor, not only a superuser, keeps 工号 and 公司信息 (roles.py, migration 0008)."""
    site = Site.objects.get(is_default_site=True)
    add_url = reverse("wagtailsnippets_content_agentprofile:add")
    settings_url = reverse("wagtailsettings:edit", args=["content", "companysettings", site.pk])

    client.force_login(trainer)
    assert client.post(add_url, {"user": agent.pk, "employee_number": "6666"}).status_code in (302, 403)
    assert client.post(settings_url, {"company_name": "篡改"}).status_code in (302, 403)
    assert "工号" not in system_values(agent.pk)
    assert "公司名称" not in system_values(agent.pk)

    client.force_login(supervisor)
    assert client.get(reverse("wagtailsnippets_content_agentprofile:list")).status_code == 200
    response = client.post(add_url, {"user": agent.pk, "employee_number": "1024"})
    assert response.status_code == 302
    response = client.post(settings_url, {"company_name": "示范服务中心"})
    assert response.status_code == 302
    values = system_values(agent.pk)
    assert (values["工号"], values["公司名称"]) == ("1024", "示范服务中心")
