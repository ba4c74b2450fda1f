"""What a move costs the database (issue 14: a move ≤ 10 ms of server CPU), and that what the run screen
keeps between steps (``procedures.screen_cache``: the 相关规范 panel, the agent's 工号 / name / company)
follows every change on the agent's next step."""

import json
import re

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix
from wagtail.models import PageViewRestriction, Site

from kb_site.content.models import ArticleRelatedPage
from kb_site.content.profiles import AgentProfile, CompanySettings
from procedures.models import ProcedureRun, RunEvent
from procedures.models.run_log import _snapshot_procedures
from procedures.screen_cache import agent_values
from procedures.statements import kept_json
from procedures.views import OWN_RUN
from tests.factories import ArticlePageFactory
from tests.procedures.conftest import login
from tests.procedures.test_procedure_views import form_state, start, step
from tests.procedures.test_related_pages import publish, related_panel
from tests.training.fixtures_team import make_path
from training import progress


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


def test_a_move_and_its_next_step_page_cost_ten_queries(client, agent, missing_item):
    """The POST of the step form (the user; in a savepoint: the run locked, the event, the run's new
    state) and the GET of the next step page (the user, the run, its events, the header's counts)."""
    login(client, agent)
    run = start(client, missing_item)
    state = form_state(run_page(client, run))
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("procedures:move", args=[run.pk]), {**state, "action": "next"})
        assert response.status_code == 302
        moved = len(queries)  # read now: the next request empties the connection's log, which it slices
        run_page(client, run)
        total = len(queries)
    assert (moved, total - moved) == (6, 4)


def test_the_run_and_events_read_by_the_written_out_statements_are_the_orms(client, agent, missing_item):
    """``procedures.statements.Rows`` converts every column as the ORM does (JSON, times, the UUID key)."""
    login(client, agent)
    run = start(client, missing_item)
    step(client, run, action="next")
    read = OWN_RUN.first(run.pk, agent.pk)
    orm = ProcedureRun.objects.get(pk=run.pk)
    for field in ProcedureRun._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(orm, field.attname), field.name
    assert read.started_at.tzinfo is not None and isinstance(read.definition, dict)
    assert OWN_RUN.first(run.pk, agent.pk + 1000) is None  # another agent's id: not found
    events = read.logged_events
    assert [(e.pk, e.seq, e.inputs, e.said, e.entered_at) for e in events] == [
        (e.pk, e.seq, e.inputs, e.said, e.entered_at)
        for e in RunEvent.objects.filter(run=run).order_by("seq")
    ]
    assert events and events[0].run is read


def header_of(response, token=True):
    """The page's header; ``token=False``: without its CSRF token's value (masked anew on every page)."""
    html = response.content.decode()
    header = html[html.index('<header class="site-header">') : html.index("</header>")]
    return header if token else re.sub(r'(name="csrfmiddlewaretoken" value=)"[^"]+"', r"\1", header)


def test_the_kept_header_follows_the_agent_name_counts_and_roles_at_once(client, agent, missing_item):
    """``{% site_header %}`` keeps the header's markup per everything it shows: a new name, a learning
    path assigned (a count) or a permission granted show on the next step page."""
    login(client, agent)
    run = start(client, missing_item)
    header = header_of(run_page(client, run))
    assert header_of(run_page(client, run), token=False) == header_of(run_page(client, run), token=False)
    assert "我的培训" not in header and "内容反馈" not in header
    agent.first_name, agent.last_name = "小红", "李"
    agent.save()
    assert '<span class="user-name">小红 李</span>' in header_of(
        run_page(client, run)
    )  # Django's get_full_name
    assignment = progress.assign(agent, make_path())
    assert "我的培训" in header_of(run_page(client, run))
    assignment.delete()
    assert "我的培训" not in header_of(run_page(client, run))
    agent.user_permissions.add(Permission.objects.get(codename="handle_feedback"))
    assert "内容反馈" in header_of(run_page(client, run))


def test_the_kept_headers_logout_form_carries_the_requests_csrf_token(agent, missing_item):
    client = Client(enforce_csrf_checks=True)
    login(client, agent)
    client.get("/")  # the header is kept now
    header = header_of(client.get("/"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', header).group(1)
    assert "\ue000" not in header
    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # logged out: the login page


def test_a_runs_snapshot_is_decoded_once_per_text_and_a_changed_one_shows_at_once(
    client, agent, missing_item
):
    """The run's definition (``OWN_RUN``'s ``kept_json``) is decoded once per text: runs of one revision
    share it; a run whose snapshot changes (a sub-procedure entered rewrites it) shows the new one on its
    next page, while another run of the revision keeps its own."""
    login(client, agent)
    first, second = start(client, missing_item), start(client, missing_item)
    assert OWN_RUN.first(first.pk, agent.pk).definition is OWN_RUN.first(second.pk, agent.pk).definition
    definition = ProcedureRun.objects.get(pk=first.pk).definition
    title = definition["steps"][0]["title"]
    assert f'<h1 id="step-title">{title}</h1>' in run_page(client, first).content.decode()
    steps = [{**definition["steps"][0], "title": "改过的第一步"}, *definition["steps"][1:]]
    ProcedureRun.objects.filter(pk=first.pk).update(definition={**definition, "steps": steps})
    assert '<h1 id="step-title">改过的第一步</h1>' in run_page(client, first).content.decode()
    assert f'<h1 id="step-title">{title}</h1>' in run_page(client, second).content.decode()
    assert OWN_RUN.first(second.pk, agent.pk).definition["steps"][0]["title"] == title


def test_snapshots_are_kept_up_to_a_total_length_and_a_longer_one_is_read_each_time(
    client, agent, missing_item, monkeypatch
):
    """What a worker keeps of run snapshots is bounded by their text's length, not only their number: with
    room for less than one snapshot, none is kept and every page still reads the run as it is."""
    kept_json.clear()  # what earlier tests of this process left
    _snapshot_procedures.clear()
    login(client, agent)
    run = start(client, missing_item)
    run_page(client, run)
    length = len(json.dumps(ProcedureRun.objects.get(pk=run.pk).definition, ensure_ascii=False))
    assert len(list(kept_json)) == 1 and kept_json.weight >= length // 2
    assert len(list(_snapshot_procedures)) == 1 and _snapshot_procedures.weight == length
    kept_json.clear()
    _snapshot_procedures.clear()
    monkeypatch.setattr(kept_json, "max_weight", length // 2)
    monkeypatch.setattr(_snapshot_procedures, "max_weight", length // 2)
    title = ProcedureRun.objects.get(pk=run.pk).definition["steps"][0]["title"]
    for _ in range(2):
        assert f'<h1 id="step-title">{title}</h1>' in run_page(client, run).content.decode()
    assert list(kept_json) == [] and list(_snapshot_procedures) == []
    events = RunEvent.objects.filter(run_id=run.pk).count()
    step(client, run, action="next")
    assert RunEvent.objects.filter(run_id=run.pk).count() > events
    assert list(kept_json) == [] and list(_snapshot_procedures) == []


def test_the_kept_static_urls_follow_the_static_settings(client, agent, missing_item, settings):
    """``{% load kept_static %}`` keeps each file's URL per process; a new ``STATIC_URL`` shows at once."""
    login(client, agent)
    run = start(client, missing_item)
    html = run_page(client, run).content.decode()
    assert 'href="/static/css/procedures.css"' in html and 'href="/static/css/callbook.css"' in html
    settings.STATIC_URL = "/assets/"
    html = run_page(client, run).content.decode()
    assert 'href="/assets/css/procedures.css"' in html and 'href="/assets/css/callbook.css"' in html
    assert "/static/" not in html


def test_the_kept_related_panel_shows_a_published_title_and_a_move_at_once(client, agent, missing_item):
    """The 相关规范 panel's markup is kept per version of what it lists: an article's new title, summary
    and place show on the agent's next step page."""
    login(client, agent)
    run = start(client, missing_item)
    rules = ArticlePageFactory(parent=missing_item.get_parent(), title="少货处理规范", slug="rules")
    rules.related_pages = [ArticleRelatedPage(page=missing_item)]
    rules = publish(rules)
    html = run_page(client, run).content.decode()
    assert related_panel(run_page(client, run)) == ["少货处理规范"] and f'href="{rules.url}"' in html
    rules.title, rules.summary = "少货处理规范（新）", "先核对签收记录"
    rules = publish(rules)
    html = run_page(client, run).content.decode()
    assert related_panel(run_page(client, run)) == ["少货处理规范（新）"] and "先核对签收记录" in html
    rules.slug = "rules-2024"
    rules = publish(rules)
    assert f'href="{rules.url}"' in run_page(client, run).content.decode() and rules.url.endswith(
        "/rules-2024/"
    )


def test_the_summarys_link_back_to_the_procedure_follows_its_page(client, agent, missing_item):
    """回到流程 on a finished run's summary: the page's url, kept, follows a new slug at once."""
    login(client, agent)
    run = start(client, missing_item)
    step(client, run, action="give_up", confirm="1", reason="客户挂断")
    summary = reverse("procedures:run", args=[run.pk])
    assert f'<a class="btn" href="{missing_item.url}">回到流程</a>' in client.get(summary).content.decode()
    missing_item.slug = "missing-item-new"
    missing_item = publish(missing_item)
    html = client.get(summary).content.decode()
    assert f'<a class="btn" href="{missing_item.url}">回到流程</a>' in html and "missing-item-new" in html


def test_the_kept_links_follow_the_script_prefix_the_site_is_served_under(client, agent, missing_item):
    """The same site behind two prefixes (WSGI's ``SCRIPT_NAME``, which the test client does not set:
    ``set_script_prefix`` here, as Django's handler does): the summary's 回到流程 and the 相关规范 panel
    each link under the prefix of the request, never one kept from the other."""
    rules = ArticlePageFactory(parent=missing_item.get_parent(), title="少货处理规范", slug="missing-rules")
    rules.related_pages = [ArticleRelatedPage(page=missing_item)]
    publish(rules)
    login(client, agent)
    live, finished = start(client, missing_item), start(client, missing_item)
    step(client, finished, action="give_up", confirm="1", reason="客户挂断")
    summary_path = reverse("procedures:run", args=[finished.pk])
    run_path = reverse("procedures:run", args=[live.pk])
    seen = []
    try:
        for prefix in ("/", "/kb/", "/"):
            set_script_prefix(prefix)
            environ = {"SCRIPT_NAME": prefix.rstrip("/")}
            summary = client.get(summary_path, **environ).content.decode()
            panel = client.get(run_path, **environ).content.decode()
            back = re.search(r'href="([^"]+)">回到流程', summary)[1]
            seen.append((prefix, back == missing_item.url, f'href="{rules.url}"' in panel))
            assert back.startswith(prefix) and rules.url.startswith(prefix)
    finally:
        set_script_prefix("/")
    assert seen == [("/", True, True), ("/kb/", True, True), ("/", True, True)]


def test_runs_sharing_a_snapshot_each_get_a_procedure_of_their_own(client, agent, missing_item):
    """The procedure built from a shared snapshot is kept once; each run's is a fork: what pinning a
    sub-procedure changes in one run's procedure is not in another's."""
    login(client, agent)
    first, second = start(client, missing_item), start(client, missing_item)
    mine = OWN_RUN.first(first.pk, agent.pk).get_procedure()
    theirs = OWN_RUN.first(second.pk, agent.pk).get_procedure()
    assert mine is not theirs and mine.steps == theirs.steps
    called = ProcedureRun.objects.get(pk=first.pk).get_procedure()
    mine.pin("sub", missing_item.pk, None, "子流程", called)
    assert "sub" in mine.subprocedures and any(key.startswith("sub/") for key in mine.by_key)
    again = OWN_RUN.first(second.pk, agent.pk).get_procedure()
    assert again.subprocedures == {} and not any(key.startswith("sub/") for key in again.by_key)
    assert again.by_key == theirs.by_key and again.variables == theirs.variables


def test_what_the_panel_keeps_expires_with_the_pages_it_was_built_from(
    client, agent, missing_item, monkeypatch
):
    """Another process's change (here a view restriction saved without signals, as another worker with its
    own LocMemCache saves it) shows once the panel's pages, loaded before, expire: the restrictions and
    markup kept from that load later do not outlive it (they did, by up to ``SECONDS``)."""
    import time

    from django.core.cache import cache

    from procedures import screen_cache

    monkeypatch.setattr(screen_cache, "SECONDS", 1)
    cache.clear()
    login(client, agent)
    run = start(client, missing_item)
    rules = ArticlePageFactory(parent=missing_item.get_parent(), title="内部规范", slug="internal")
    rules.related_pages = [ArticleRelatedPage(page=missing_item)]
    publish(rules)
    cache.clear()
    loaded = time.time()
    screen_cache._related(missing_item.pk)  # the pages, loaded (as a summary or another step would)
    time.sleep(0.5)
    assert related_panel(run_page(client, run)) == ["内部规范"]  # restrictions and markup kept from them
    (restriction,) = PageViewRestriction.objects.bulk_create(
        [PageViewRestriction(page=rules, restriction_type=PageViewRestriction.GROUPS)]
    )
    restriction.groups.add(Group.objects.create(name="仅限主管"))
    time.sleep(max(0.0, loaded + 1.1 - time.time()))  # the pages' load has expired
    assert related_panel(run_page(client, run)) == []
