"""End to end in headless Chromium: a new hire reads and confirms an article, passes a quiz, practises a
procedure against a scenario card to a passing score, is signed off by the mentor, and then runs the
procedure live."""

import pytest

from procedures.models import ProcedureRun
from tests.browser import browser, login  # noqa: F401
from tests.factories import PASSWORD, ArticlePageFactory, make_user
from training import progress
from training.models import PracticeSession, Question, QuestionOption, Quiz, ReadConfirmation

from .journeys import item, make_path, missing_item_card, missing_item_procedure, stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def wait_for_step(page, title):
    page.wait_for_selector(f"h1#step-title:has-text('{title}')")
    page.wait_for_load_state("load")


def test_new_hire_from_reading_to_a_live_run(browser, live_server, newhire, home):  # noqa: F811
    procedure = missing_item_procedure()
    section = procedure.get_parent().specific
    article = ArticlePageFactory(parent=section, title="少货处理规范", body=[("heading", "三步核实")] * 30)
    article.save_revision().publish()
    article.refresh_from_db()
    question = Question.objects.create(section=section, type="single", stem="少货核实的第一步是什么？")
    QuestionOption.objects.create(
        question=question, text="查出库单底单", correct=True, explanation="先查底单"
    )
    QuestionOption.objects.create(
        question=question, text="直接补发", correct=False, explanation="核实前不承诺"
    )
    quiz = Quiz.objects.create(title="少货处理考核", section=section, draw_count=5, cooldown_minutes=0)
    card = missing_item_card(procedure, expected_minutes=60)
    mentor = make_user("坐席", username="mentor", first_name="老李")
    path = make_path(
        stage(
            "业务培训",
            item("read", article=article.pk, min_seconds=2, check_questions=[], due_day=3),
            item("quiz", quiz=quiz.pk, due_day=5),
        ),
        stage("试接", item("practice", procedure=procedure.pk, passes=1, due_day=10), gate="mentor"),
    )
    assignment = progress.assign(newhire, path, mentor=mentor)

    page = browser.new_page()
    login(page, live_server.url, newhire.username, PASSWORD)

    # The home page shows the path and its next item.
    page.goto(f"{live_server.url}/")
    assert "少货处理规范" in page.inner_text(".training-home")

    # Read to the end and confirm: the button is enabled only after scrolling and the dwell.
    page.goto(f"{live_server.url}{article.url}")
    assert page.is_disabled("#confirm-read")
    page.locator(".read-confirm-end").scroll_into_view_if_needed()
    page.click("#confirm-read")  # waits until enabled
    page.wait_for_selector(".read-confirmed")
    assert ReadConfirmation.objects.filter(user=newhire, revision_id=article.live_revision_id).count() == 1

    # The quiz.
    page.goto(f"{live_server.url}/training/quizzes/{quiz.pk}/")
    page.click("button:has-text('开始测验')")
    page.check("label:has-text('查出库单底单') input")
    page.click("button:has-text('交卷')")
    page.wait_for_selector("text=通过")
    assignment.refresh_from_db()
    assert assignment.current_stage_title == "试接"

    # Live runs are refused until the practice is passed: the start box says practice mode.
    page.goto(f"{live_server.url}{procedure.url}")
    assert "练习模式" in page.inner_text(".licence-note")

    # Practise against the card, along the golden path, by keyboard as on a call.
    page.goto(f"{live_server.url}/training/practice/cards/{card.pk}/")
    for name, value in {
        "客户称呼": "王女士",
        "订单号": "A1",
        "商品名称": "保温杯",
        "少货金额": "30",
        "天数": "3",
    }.items():
        field = page.locator(f'input[name="v-{name}"]')
        if field.count():
            field.fill(value)
    page.click("#start-practice")
    wait_for_step(page, "问候并确认来意")
    page.keyboard.press("1")
    wait_for_step(page, "外包装是否完好？")
    page.keyboard.press("1")
    wait_for_step(page, "记录订单和少货信息")
    page.keyboard.press("Enter")
    wait_for_step(page, "三步核实")
    for index in range(3):
        if index:
            page.keyboard.press("Tab")
        page.keyboard.press("Space")
    page.keyboard.press("1")
    wait_for_step(page, "核实结果：是否确实少发？")
    page.keyboard.press("1")
    page.wait_for_selector(".practice-score")
    assert "通过" in page.inner_text(".practice-score")
    page.click("text=查看评分与反馈")
    page.wait_for_selector("#practice-score")
    assert "完全按标准路径处理" in page.inner_text(".practice-parts")
    assert PracticeSession.objects.get().passed

    # The mentor signs the stage off from the queue.
    mentor_page = browser.new_page()
    login(mentor_page, live_server.url, mentor.username, PASSWORD)
    mentor_page.goto(f"{live_server.url}/training/team/sign-off/")
    mentor_page.fill("input[name=reason]", "试接表现合格")
    mentor_page.click("button:has-text('带教确认')")
    mentor_page.wait_for_load_state("load")
    assignment.refresh_from_db()
    assert assignment.completed_at is not None

    # Now the procedure runs live.
    page.goto(f"{live_server.url}{procedure.url}")
    assert "可以正式运行" in page.inner_text(".licence-note")
    page.uncheck('input[name="practice"]')
    page.fill('input[name="v-客户称呼"]', "张先生")
    page.click("#start-run")
    wait_for_step(page, "问候并确认来意")
    live = ProcedureRun.objects.get(practice=False)
    assert live.user == newhire
