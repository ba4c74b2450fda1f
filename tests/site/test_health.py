"""The 内容健康 dashboard (/health/): each signal on a small known data set, the ranking and its badges,
the step where runs stop (its editor link and its evidence), who may see it, bad filter input, the
export, and a fixed number of queries whatever the number of items."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from changes.models import PageView
from feedback.choices import FeedbackKind, FeedbackStatus
from feedback.models import Feedback
from kb_site import health
from kb_site.content import roles
from procedures.choices import EventAction, RunStatus
from procedures.models import ProcedurePage
from procedures.runs import apply_move, mark_abandoned_runs, start_run
from search.models import ZeroResultQuery
from tests.factories import ArticlePageFactory, PhrasingFactory, publish
from tests.procedures.conftest import load_demo_procedure
from training.models import AttemptAnswer, Question, QuestionOption, Quiz, QuizAttempt

pytestmark = pytest.mark.django_db

URL = reverse("health")
VALUES = {"客户称呼": "王女士", "订单号": "A100", "商品名称": "耳机", "少货金额": 59, "天数": 2}


def days_ago(days):
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def procedure(db):
    """The demo 少货处理 (tags 少货, 少发货, 售后; steps greet → ask-package → …), review due in 5 days."""
    page = load_demo_procedure("30-missing-item.yaml")
    page.last_reviewed = timezone.localdate() - datetime.timedelta(days=page.review_interval_days - 5)
    page.save()
    return page


@pytest.fixture
def article(section):
    """退款时限, reviewed 100 days ago on a 90-day interval: 10 days overdue."""
    return publish(
        ArticlePageFactory(
            parent=section,
            title="退款时限",
            slug="refund-time",
            last_reviewed=timezone.localdate() - datetime.timedelta(days=100),
            review_interval_days=90,
        )
    )


def move(run, action, note="", **extra):
    run.refresh_from_db()
    return apply_move(
        run.pk, run.user, step=run.current_step, seq=run.next_seq, action=action, note=note, **extra
    )


@pytest.fixture
def runs(procedure, agent, other_agent):
    """Seven runs of 少货处理 in the window and one before it:

    - ``abandoned``: greet → ask-package (noted), then left idle and marked abandoned there;
    - ``escalated``: greet → ask-package, escalated there to 主管 (with a reason);
    - ``gave_up``: the customer gave up on greet;
    - ``transferred``: greet → ask-package → 有破损或被拆过 → the outcome step to-damage (已转接): an escalation
      (a handoff), but the run went where the procedure led it, so it did not stop;
    - ``open``: just started, in progress on greet;
    - a practice run abandoned on greet (never counted);
    - ``old``: started 40 days ago and abandoned on greet (outside a 30-day window).
    """
    abandoned = start_run(procedure, agent, variables=VALUES)
    move(abandoned, EventAction.NEXT, note="客户说包装像被拆过，不知道选哪个")
    mark_abandoned_runs(now=timezone.now() + datetime.timedelta(hours=3))
    escalated = start_run(procedure, other_agent, variables=VALUES)
    move(escalated, EventAction.NEXT)
    move(
        escalated,
        EventAction.ESCALATE,
        handoff={"reason": "外包装破损，客户要求主管处理", "group": Group.objects.get(name=roles.SUPERVISOR)},
    )
    gave_up = start_run(procedure, agent, variables=VALUES)
    move(gave_up, EventAction.GIVE_UP, handoff={"reason": "客户挂断"})
    transferred = start_run(procedure, other_agent, variables=VALUES)
    move(transferred, EventAction.NEXT)
    move(transferred, EventAction.ANSWER, answer="1")
    open_run = start_run(procedure, agent, variables=VALUES)
    practice = start_run(procedure, agent, variables=VALUES, practice=True)
    practice.status = RunStatus.ABANDONED
    practice.save()
    old = start_run(procedure, agent, variables=VALUES, now=days_ago(40))
    old.status = RunStatus.ABANDONED
    old.save()
    runs = {"abandoned": abandoned, "escalated": escalated, "gave_up": gave_up, "transferred": transferred}
    for run in runs.values():
        run.refresh_from_db()
    return {**runs, "open": open_run, "old": old}


@pytest.fixture
def feedback(procedure, article, agent):
    def send(page, kind, status=FeedbackStatus.OPEN):
        return Feedback.objects.create(reporter=agent, page=page, kind=kind, text="……", status=status)

    send(procedure, FeedbackKind.ERROR)
    send(procedure, FeedbackKind.UNCLEAR)
    send(procedure, FeedbackKind.UNCLEAR, FeedbackStatus.NEEDS_INFO)
    send(procedure, FeedbackKind.ERROR, FeedbackStatus.FIXED)
    send(article, FeedbackKind.OUTDATED)


@pytest.fixture
def views(procedure, article, agent, other_agent):
    today = timezone.localdate()
    PageView.objects.create(user=agent, page=article, day=today, count=2)
    PageView.objects.create(user=other_agent, page=article, day=today - datetime.timedelta(days=3), count=1)
    PageView.objects.create(user=agent, page=article, day=today - datetime.timedelta(days=40), count=9)
    PageView.objects.create(user=agent, page=procedure, day=today, count=4)


@pytest.fixture
def zero_results(procedure, article):
    today = timezone.localdate()
    ZeroResultQuery.objects.create(query_string="少货赔偿标准", date=today, hits=3)  # 少货: the procedure
    ZeroResultQuery.objects.create(
        query_string="少货赔偿标准", date=today - datetime.timedelta(days=2), hits=1
    )
    ZeroResultQuery.objects.create(query_string="退款多久到账", date=today, hits=2)  # 退款: the article
    ZeroResultQuery.objects.create(query_string="怎么处理", date=today, hits=7)  # generic words: near nothing
    ZeroResultQuery.objects.create(query_string="少货照片", date=today - datetime.timedelta(days=40), hits=5)


@pytest.fixture
def quiz(section, procedure, article, newhire):
    """Answers to a question citing the article (2 of 3 wrong) and to a scenario question on the
    procedure (1 of 2 wrong); one wrong answer to an uncited question; one old wrong answer."""
    cites_article = Question.objects.create(section=section, type="single", stem="退款多久到账？")
    right = QuestionOption.objects.create(
        question=cites_article, text="三个工作日", correct=True, cite_page=article
    )
    QuestionOption.objects.create(question=cites_article, text="当天", cite_page=article)
    scenario = Question.objects.create(section=section, type="single", stem="客户说少货", procedure=procedure)
    uncited = Question.objects.create(section=section, type="single", stem="无依据的题")
    test = Quiz.objects.create(title="售后考核", section=section)

    def answer(question, correct, when=None):
        attempt = QuizAttempt.objects.create(
            quiz=test, quiz_title=test.title, user=newhire, pass_mark=80, submitted_at=when or timezone.now()
        )
        AttemptAnswer.objects.create(attempt=attempt, question=question, chosen=[right.pk], correct=correct)

    answer(cites_article, True)
    answer(cites_article, False)
    answer(cites_article, False)
    answer(cites_article, False, when=days_ago(40))
    answer(scenario, True)
    answer(scenario, False)
    answer(uncited, False)


@pytest.fixture
def data_set(runs, feedback, views, zero_results, quiz):
    return runs


def dashboard(client, user, **params):
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response


def items_of(response):
    return {item.title: item for item in response.context["page"].object_list}


# --- the signals --------------------------------------------------------------------------------------


def test_each_signal_on_a_known_data_set(client, trainer, data_set, procedure, article):
    items = items_of(dashboard(client, trainer))
    flow, text = items["少货处理"], items["退款时限"]

    assert (text.review_state, text.review_days_overdue, text.review_display) == (
        "overdue",
        10,
        "已逾期 10 天",
    )
    assert (flow.review_state, flow.review_display) == ("soon", "即将到期")

    assert (text.views, flow.views) == (3, 4)  # the 40-day-old view is outside the window

    # counted runs in the window: abandoned, escalated, gave up, transferred, open (not the practice run, not
    # the old one); escalated: the 升级 with a handoff and the outcome 已转接
    assert data_set["transferred"].outcome == "已转接"
    assert (flow.runs, flow.abandoned, flow.escalated) == (5, 1, 2)
    assert (flow.abandonment_rate, flow.escalation_rate) == (0.2, 0.4)
    assert (text.runs, text.abandonment_rate) == (0, None)

    assert flow.feedback == {FeedbackKind.ERROR: 1, FeedbackKind.UNCLEAR: 2}  # open and needs-info; not fixed
    assert flow.feedback_display == "错误 1、不清楚 2"
    assert text.feedback == {FeedbackKind.OUTDATED: 1}

    assert flow.zero_result_queries == [("少货赔偿标准", 4)]
    assert text.zero_result_queries == [("退款多久到账", 2)]

    assert (text.quiz_answers, text.quiz_missed) == (3, 2)
    assert (flow.quiz_answers, flow.quiz_missed) == (2, 1)


def test_the_window_follows_the_days_filter(client, trainer, data_set):
    flow = items_of(dashboard(client, trainer, days=60))["少货处理"]
    assert (flow.runs, flow.abandoned) == (6, 2)  # the 40-day-old abandoned run is in
    assert flow.zero_result_queries == [("少货照片", 5), ("少货赔偿标准", 4)]
    assert items_of(dashboard(client, trainer, days=60))["退款时限"].views == 12


def test_near_is_a_shared_content_word_of_the_title_or_tags():
    assert health.content_words("少货处理") == {"少货"}
    assert health.content_words("怎么查快递单号") >= {"快递单号", "快递", "单号"}
    assert "怎么" not in health.content_words("怎么查快递单号")
    assert health.content_words("怎么处理") == set()


def test_badges_say_why_and_the_score_sums_their_points(client, trainer, data_set):
    response = dashboard(client, trainer)
    flow = items_of(response)["少货处理"]
    labels = [reason.label for reason in flow.reasons]
    assert set(labels) == {
        "3 条反馈",
        "复核即将到期",
        "弃用率 20%",
        "升级率 40%",
        "测验错误率 50%",
        "无结果搜索 4 次",
    }
    # feedback 12 + 6 + 6; review soon 2; abandonment 40 × 20% × 5/10; escalation 25 × 40% × 5/10;
    # quiz 25 × 50% × 2/10; zero results 2 × 4; reach × (1 + (4 views + 5 runs) / 200)
    points = 24 + 2 + 4 + 5 + 2.5 + 8
    assert flow.score == round(points * (1 + 9 / 200), 1)
    text = items_of(response)["退款时限"]
    # outdated 10; 10 days overdue: 10 + 3; quiz 25 × 2/3 × 3/10; zero results 2 × 2; reach × (1 + 3 / 200)
    assert text.score == round((10 + 13 + 5 + 4) * (1 + 3 / 200), 1)
    html = response.content.decode()
    assert "复核逾期 10 天" in html and "弃用率 20%" in html and "3 条反馈" in html


def test_a_phrasing_has_its_feedback_quiz_and_searches(client, trainer, article, section, agent, newhire):
    phrasing = PhrasingFactory(title="退款到账说明", section=section, text="退款三个工作日内原路退回。")
    Feedback.objects.create(
        reporter=agent, page=article, phrasing=phrasing, kind=FeedbackKind.UNCLEAR, text="…"
    )
    question = Question.objects.create(section=section, type="single", stem="怎么说退款到账？")
    option = QuestionOption.objects.create(
        question=question, text="三个工作日", correct=True, cite_phrasing=phrasing
    )
    quiz = Quiz.objects.create(title="话术考核", section=section)
    for correct in (True, False):
        attempt = QuizAttempt.objects.create(
            quiz=quiz, quiz_title=quiz.title, user=newhire, pass_mark=80, submitted_at=timezone.now()
        )
        AttemptAnswer.objects.create(attempt=attempt, question=question, chosen=[option.pk], correct=correct)
    ZeroResultQuery.objects.create(query_string="退款多久到账", date=timezone.localdate(), hits=2)

    response = dashboard(client, trainer, kind="phrasing")
    item = items_of(response)["退款到账说明"]
    assert item.feedback == {FeedbackKind.UNCLEAR: 1}
    assert (item.quiz_answers, item.quiz_missed) == (2, 1)
    assert item.zero_result_queries == [("退款多久到账", 2)]
    assert (item.review_display, item.views, item.runs) == ("正常", 0, 0)
    assert item.url == f"{section.url}#phrasing-{phrasing.pk}"
    assert item.edit_url == reverse("wagtailsnippets_content_phrasing:edit", args=[phrasing.pk])
    html = response.content.decode()
    assert f'href="{item.edit_url}"' in html and "1 条反馈" in html
    # the feedback was sent from the article: it counts there too
    assert items_of(dashboard(client, trainer))["退款时限"].feedback == {FeedbackKind.UNCLEAR: 1}


def titles(response, phrasings=False):
    return [item.title for item in response.context["page"].object_list if phrasings or not item.is_phrasing]


def test_items_are_ranked_by_score_and_sortable(client, trainer, data_set, section):
    publish(ArticlePageFactory(parent=section, title="开场白", slug="greeting"))  # nothing wrong with it
    ranked = dashboard(client, trainer).context["page"].object_list
    assert [item.title for item in ranked if not item.is_phrasing] == ["少货处理", "退款时限", "开场白"]
    assert [item.score for item in ranked] == sorted((item.score for item in ranked), reverse=True)
    assert titles(dashboard(client, trainer, sort="views")) == ["少货处理", "退款时限", "开场白"]
    assert titles(dashboard(client, trainer, sort="review"))[0] == "退款时限"
    assert titles(dashboard(client, trainer, kind="article"), phrasings=True) == ["退款时限", "开场白"]


def test_fifty_a_page(client, trainer, section):
    for n in range(52):
        ArticlePageFactory(parent=section, title=f"文章{n:02d}", slug=f"a{n}")
    first = dashboard(client, trainer)
    assert len(first.context["page"].object_list) == 50
    second = dashboard(client, trainer, page=2)
    assert [item.title for item in second.context["page"].object_list] == ["文章50", "文章51"]
    assert "第 2 / 2 页" in second.content.decode()


# --- where runs stop ----------------------------------------------------------------------------------


def test_the_stop_step_links_to_the_editor_with_its_evidence(client, supervisor, data_set, procedure):
    """Two runs stopped at ask-package (abandoned there; escalated there), one at greet (gave up); the run
    that reached the outcome step to-damage did not stop."""
    response = dashboard(client, supervisor)
    stop = items_of(response)["少货处理"].stop
    assert (stop.key, stop.title, stop.stopped) == ("ask-package", "外包装是否完好？", 2)
    editor = reverse("wagtailadmin_pages:edit", args=[procedure.pk]) + "#step-ask-package"
    assert stop.editor_url == editor
    assert [entry["run"].pk for entry in stop.runs] == [data_set["escalated"].pk, data_set["abandoned"].pk]
    escalated, abandoned = stop.runs
    assert escalated["ending"] == "已升级" and escalated["reason"] == "外包装破损，客户要求主管处理"
    assert abandoned["ending"] == "已中断"
    assert abandoned["notes"] == [("问候并确认来意", "客户说包装像被拆过，不知道选哪个")]
    html = response.content.decode()
    assert f'href="{editor}"' in html
    assert "客户说包装像被拆过，不知道选哪个" in html and "外包装破损，客户要求主管处理" in html
    # the evidence links to each run's replay at its last event, which the supervisor may open
    run = data_set["escalated"]
    replay = reverse("procedures:replay", args=[run.pk, run.next_seq - 1])
    assert f'href="{replay}"' in html
    assert client.get(replay).status_code == 200
    assert escalated["agent"] == "小李"


def test_reaching_an_outcome_step_is_not_stopping(client, trainer, procedure, other_agent):
    """A run led by its answers to the outcome step to-damage (已转接) escalated but did not stop."""
    run = start_run(procedure, other_agent, variables=VALUES)
    move(run, EventAction.NEXT)
    move(run, EventAction.ANSWER, answer="1")
    flow = items_of(dashboard(client, trainer))["少货处理"]
    assert (flow.runs, flow.escalated, flow.stop) == (1, 1, None)


def test_trainers_see_the_notes_but_not_whose_runs(client, trainer, data_set):
    response = dashboard(client, trainer)
    stop = items_of(response)["少货处理"].stop
    assert stop.key == "ask-package"
    assert all(entry["replay_url"] == "" and entry["agent"] == "" for entry in stop.runs)
    html = response.content.decode()
    assert "客户说包装像被拆过，不知道选哪个" in html
    assert "/replay/" not in html


def test_an_article_has_no_stop_step(client, trainer, data_set):
    assert items_of(dashboard(client, trainer))["退款时限"].stop is None


def test_a_step_inside_a_sub_procedure_opens_the_calling_step():
    url = health.editor_step_url(7, "verify-id/ask-name")
    assert url == reverse("wagtailadmin_pages:edit", args=[7]) + "#step-verify-id"


# --- who may see it -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "newhire"])
def test_agents_and_new_hires_are_refused(client, role, request):
    client.force_login(request.getfixturevalue(role))
    response = client.get(URL)
    assert response.status_code == 403
    assert "只有培训师和主管可以查看内容健康" in response.content.decode()
    assert client.get(URL, {"export": "csv"}).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_header_link_is_for_trainers_and_supervisors(client, home, trainer, agent):
    client.force_login(trainer)
    assert f'href="{URL}"' in client.get(home.url).content.decode()
    client.force_login(agent)
    assert f'href="{URL}"' not in client.get(home.url).content.decode()


# --- bad input, export --------------------------------------------------------------------------------


def test_a_wrong_filter_is_said_and_the_default_used(client, trainer, data_set):
    response = dashboard(client, trainer, days="abc", sort="nonsense", kind="procedure")
    html = response.content.decode()
    assert "天数须为整数" in html and "没有这种排序方式" in html
    assert response.context["days"] == health.DEFAULT_DAYS
    assert titles(response, phrasings=True) == ["少货处理"]  # the valid kind kept
    assert "天数最多为 365" in dashboard(client, trainer, days="9999").content.decode()
    assert dashboard(client, trainer, page="x").context["page"].number == 1


def test_csv_export_has_every_row_in_rank_order(client, trainer, data_set):
    client.force_login(trainer)
    response = client.get(URL, {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:3] == ["排名", "标题", "类型"]
    assert [row[1] for row in rows[1:3]] == ["少货处理", "退款时限"]
    assert len(rows) == 1 + len(dashboard(client, trainer).context["page"].object_list)
    assert rows[1][7:9] == ["20%", "40%"]


def test_xlsx_export_opens(client, trainer, data_set):
    import openpyxl

    client.force_login(trainer)
    response = client.get(URL, {"export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == "少货处理" and rows[2][3] == "已逾期 10 天"


# --- cost ---------------------------------------------------------------------------------------------


def make_items(section, agent, count, start):
    """``count`` articles, ``count`` procedures (copies of the demo one) and ``count`` phrasings with views,
    feedback, a stopped run with a note, a zero-result search and a quiz answer each."""
    template = ProcedurePage.objects.get(slug="missing-item-flow")
    for n in range(start, start + count):
        article = publish(ArticlePageFactory(parent=section, title=f"补发规则{n}", slug=f"reship-{n}"))
        flow = template.copy(update_attrs={"title": f"少货流程{n}", "slug": f"flow-{n}"}, keep_live=False)
        publish(flow)
        for page in (article, flow):
            PageView.objects.create(user=agent, page=page, day=timezone.localdate(), count=n + 1)
            Feedback.objects.create(reporter=agent, page=page, kind=FeedbackKind.ERROR, text="……")
        run = start_run(flow, agent, variables=VALUES)
        move(run, EventAction.NEXT, note=f"备注{n}")
        move(
            run,
            EventAction.TRANSFER,
            handoff={"reason": "转售后", "group": Group.objects.get(name=roles.SUPERVISOR)},
        )
        ZeroResultQuery.objects.create(query_string=f"补发规则{n}怎么办", date=timezone.localdate(), hits=1)
        phrasing = PhrasingFactory(title=f"补发话术{n}", section=section)
        Feedback.objects.create(
            reporter=agent, page=article, phrasing=phrasing, kind=FeedbackKind.ERROR, text="…"
        )
        question = Question.objects.create(section=section, type="single", stem=f"补发{n}")
        QuestionOption.objects.create(question=question, text="对", correct=True, cite_phrasing=phrasing)
        quiz = Quiz.objects.create(title=f"补发考核{n}", section=section)
        attempt = QuizAttempt.objects.create(
            quiz=quiz, quiz_title=quiz.title, user=agent, pass_mark=80, submitted_at=timezone.now()
        )
        AttemptAnswer.objects.create(attempt=attempt, question=question, correct=False)


def test_the_number_of_queries_does_not_grow_with_the_items(
    client, supervisor, agent, procedure, section, django_assert_max_num_queries
):
    client.force_login(supervisor)
    make_items(section, agent, 2, start=0)
    client.get(URL)  # warm the per-process caches (site root paths, content types)
    with CaptureQueriesContext(connection) as two:
        response = client.get(URL)
    queries_for_two = len(two)  # now: the next request empties the connection's query log it slices
    assert len(response.context["page"].object_list) == 3 + 2 * 3  # the demo procedure and its 2 phrasings
    stops = [item.stop for item in response.context["page"].object_list if item.is_procedure and item.runs]
    assert len(stops) == 2 and all(stop and stop.runs[0]["notes"] for stop in stops)

    make_items(section, agent, 8, start=2)
    client.get(URL)  # the new pages made the per-process caches (site, view restrictions) reload: warm again
    with django_assert_max_num_queries(queries_for_two):
        response = client.get(URL)
    items = response.context["page"].object_list
    assert len(items) == 3 + 10 * 3
    assert sum(1 for item in items if item.is_phrasing and item.quiz_missed and item.feedback) == 10
    assert sum(1 for item in items if item.stop and item.stop.runs[0]["notes"]) == 10


# --- in the admin -------------------------------------------------------------------------------------


def test_the_editor_opens_a_step_named_in_the_address(client, trainer, procedure):
    """The page editor loads the script that opens ``#step-<key>``."""
    client.force_login(trainer)
    html = client.get(reverse("wagtailadmin_pages:edit", args=[procedure.pk])).content.decode()
    assert "js/editor-step-link.js" in html


def test_the_reports_menu_links_to_it(client, trainer):
    client.force_login(trainer)
    assert f'"url": "{URL}"' in client.get(reverse("wagtailadmin_home")).content.decode()
