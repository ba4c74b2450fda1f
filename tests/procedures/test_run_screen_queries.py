"""What a move costs the database (issue 14: a move ≤ 10 ms of server CPU), and that what the run screen
keeps between steps (``procedures.screen_cache``: the 相关规范 panel, the agent's 工号 / name / company)
follows every change on the agent's next step."""

from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import PageViewRestriction, Site

from kb_site.content.models import ArticleRelatedPage
from kb_site.content.profiles import AgentProfile, CompanySettings
from procedures.models import RunEvent
from procedures.screen_cache import agent_values
from tests.factories import ArticlePageFactory
from tests.procedures.conftest import login
from tests.procedures.test_procedure_views import form_state, start
from tests.procedures.test_related_pages import publish, related_panel


def run_page(client, run):
    response = client.get(reverse("procedures:run", args=[run.pk]))
    assert response.status_code == 200
    return response


def test_a_move_is_one_read_of_the_run_and_one_write(client, agent, missing_item, django_assert_num_queries):
    login(client, agent)
    run = start(client, missing_item)
    state = form_state(run_page(client, run))
    # the user; then, in one transaction (a savepoint inside the test's), the run (locked), the event,
    # the run's new state
    with django_assert_num_queries(6) as queries:
        response = client.post(reverse("procedures:move", args=[run.pk]), {**state, "action": "next"})
    assert response.status_code == 302
    sql = [query["sql"] for query in queries.captured_queries]
    assert sql[1].startswith("SAVEPOINT") and sql[-1].startswith("RELEASE SAVEPOINT")
    assert sum('FROM "procedures_procedurerun"' in q for q in sql) == 1
    assert not any(
        '"definition"' in q for q in sql if q.startswith("UPDATE")
    )  # the snapshot is not rewritten
    assert RunEvent.objects.filter(run=run).count() == 1


def test_a_step_page_reads_the_run_its_events_and_what_the_header_needs(
    client, agent, missing_item, django_assert_max_num_queries
):
    login(client, agent)
    run = start(client, missing_item)
    run_page(client, run)  # what the run screen keeps is kept now
    with CaptureQueriesContext(connection) as queries:
        run_page(client, run)
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    kept = (
        "content_agentprofile",
        "content_companysettings",
        "procedures_procedurerelatedarticle",
        "auth_permission",  # which header links the agent's permissions show (kb_site.context_processors)
    )
    for table in kept:
        assert table not in tables
    assert "django_session" not in tables
    with django_assert_max_num_queries(12):  # the user, the run, its events; the header's links
        run_page(client, run)


def test_the_related_panel_follows_publishing_and_restrictions_between_steps(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    assert related_panel(run_page(client, run)) == []

    rules = ArticlePageFactory(parent=missing_item.get_parent(), title="少货处理规范", slug="rules")
    rules.related_pages = [ArticleRelatedPage(page=missing_item)]
    rules = publish(rules)
    assert related_panel(run_page(client, run)) == ["少货处理规范"]

    restriction = PageViewRestriction.objects.create(page=rules, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="主管"))
    assert related_panel(run_page(client, run)) == []
    restriction.delete()
    assert related_panel(run_page(client, run)) == ["少货处理规范"]

    rules.unpublish()
    assert related_panel(run_page(client, run)) == []


def test_the_agents_number_name_and_company_follow_changes_between_steps(client, agent, home, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    run_page(client, run)
    AgentProfile.objects.create(user=agent, employee_number="1001")
    agent.last_name = "王"
    agent.save()
    company = CompanySettings.for_site(Site.objects.get(is_default_site=True))
    company.company_name = "示范服务中心"
    company.save()
    assert agent_values(agent.pk) == {"工号": "1001", "客服姓名": "王小王", "公司名称": "示范服务中心"}
    AgentProfile.objects.filter(user=agent).delete()
    assert "工号" not in agent_values(agent.pk)
