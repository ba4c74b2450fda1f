"""The 培训进度 and 题目分析 reports: who sees them, their figures on a small constructed set, and their
spreadsheet exports (a real XLSX that openpyxl opens, a CSV with the BOM)."""

# The fixtures are imported from fixtures_team (tests/training/conftest.py belongs to the quiz tests):
# a test's argument of the same name is pytest's injection, not a redefinition.
# ruff: noqa: F811

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ArticlePageFactory
from training import progress
from training.models import AttemptAnswer, Cohort, Question, QuestionOption, Quiz, QuizAttempt
from training.reports import item_analysis

from .fixtures_team import mentor, path  # noqa: F401

pytestmark = pytest.mark.django_db

PROGRESS = "training_progress:index"
ITEMS = "training_items:index"


def xlsx_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def bank(section, newhire, other_agent):
    """Three questions answered in four attempts (and one never answered)."""
    article = ArticlePageFactory(parent=section, title="少货处理规范")
    single = Question.objects.create(section=section, type="single", stem="客户说少货，先做什么？")
    a = QuestionOption.objects.create(
        question=single, text="先道歉并核对订单", correct=True, cite_page=article
    )
    b = QuestionOption.objects.create(question=single, text="直接退款")
    c = QuestionOption.objects.create(question=single, text="让客户再等等")
    multiple = Question.objects.create(section=section, type="multiple", stem="哪些要核对？")
    x = QuestionOption.objects.create(question=multiple, text="订单号", correct=True)
    y = QuestionOption.objects.create(question=multiple, text="收货地址", correct=True)
    z = QuestionOption.objects.create(question=multiple, text="客户年龄")
    fill = Question.objects.create(section=section, type="fill", stem="开场白怎么说？")
    QuestionOption.objects.create(question=fill, text="您好，请问有什么可以帮您")
    Question.objects.create(section=section, type="single", stem="没人答过的题")
    quiz = Quiz.objects.create(title="少货考核", section=section)

    def attempt(user, answers):
        row = QuizAttempt.objects.create(
            quiz=quiz, quiz_title=quiz.title, user=user, pass_mark=80, submitted_at=timezone.now()
        )
        for question, chosen, text, correct in answers:
            AttemptAnswer.objects.create(
                attempt=row, question=question, chosen=chosen, text=text, correct=correct
            )

    attempt(newhire, [(single, [a.pk], "", True), (multiple, [x.pk], "", False), (fill, [], "你好", False)])
    attempt(
        newhire, [(single, [b.pk], "", False), (multiple, [x.pk, y.pk], "", True), (fill, [], "你好", False)]
    )
    attempt(other_agent, [(single, [b.pk], "", False), (multiple, [x.pk, z.pk], "", False)])
    attempt(other_agent, [(single, [c.pk], "", False)])
    return {"single": single, "multiple": multiple, "fill": fill}


def test_item_analysis_figures(bank):
    rows = {row.question_id: row for row in item_analysis(AttemptAnswer.objects.all())}
    assert set(rows) == {bank["single"].pk, bank["multiple"].pk, bank["fill"].pk}

    single = rows[bank["single"].pk]
    assert (single.answered, single.wrong, single.percent_wrong) == (4, 3, 75.0)
    assert (single.top_wrong, single.top_wrong_count) == ("直接退款", 2)
    assert single.top_wrong_display == "直接退款（2 次）"
    assert single.cites == "少货处理规范"
    assert single.section == "电商售前售后" and single.type_label == "单选"

    multiple = rows[bank["multiple"].pk]
    assert (multiple.answered, multiple.wrong, multiple.percent_wrong) == (3, 2, 66.7)
    assert (multiple.top_wrong, multiple.top_wrong_count) == (
        "客户年龄",
        1,
    )  # [订单号] alone names no wrong option

    fill = rows[bank["fill"].pk]
    assert (fill.answered, fill.wrong, fill.percent_wrong, fill.top_wrong) == (2, 2, 100.0, "你好")

    ordered = [row.question_id for row in item_analysis(AttemptAnswer.objects.all())]
    assert ordered == [bank["fill"].pk, bank["single"].pk, bank["multiple"].pk]  # hardest first


def test_the_wrong_option_chosen_most_often_ties_by_its_text(section, newhire):
    """Answers come from the database in no set order: a tie names the same option on every run."""
    question = Question.objects.create(section=section, type="single", stem="客户说少货，先做什么？")
    QuestionOption.objects.create(question=question, text="先道歉并核对订单", correct=True)
    refund = QuestionOption.objects.create(question=question, text="直接退款")
    wait = QuestionOption.objects.create(question=question, text="让客户再等等")
    quiz = Quiz.objects.create(title="少货考核", section=section)
    for option in (wait, refund):  # the later name first
        attempt = QuizAttempt.objects.create(
            quiz=quiz, quiz_title=quiz.title, user=newhire, pass_mark=80, submitted_at=timezone.now()
        )
        AttemptAnswer.objects.create(attempt=attempt, question=question, chosen=[option.pk], correct=False)
    (row,) = item_analysis(AttemptAnswer.objects.all())
    assert (row.top_wrong, row.top_wrong_count) == ("直接退款", 1)


def test_item_analysis_report_and_xlsx_export(client, trainer, bank):
    client.force_login(trainer)
    response = client.get(reverse(ITEMS))
    assert response.status_code == 200
    assert "直接退款（2 次）" in response.content.decode()
    rows = xlsx_rows(client.get(reverse(ITEMS), {"export": "xlsx"}))
    assert rows[0] == [
        "题干",
        "业务栏目",
        "题型",
        "作答次数",
        "答错次数",
        "答错率（%）",
        "最常选的错误选项",
        "选项依据",
        "题目编号",
    ]
    single = next(row for row in rows[1:] if row[0] == "客户说少货，先做什么？")
    assert single[1:8] == ["电商售前售后", "单选", 4, 3, 75.0, "直接退款（2 次）", "少货处理规范"]
    assert len(rows) == 4

    csv = client.get(reverse(ITEMS), {"export": "csv"})
    text = b"".join(csv.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff题干")


def test_item_analysis_filters_by_section_and_ignores_tampered_ids(client, supervisor, bank, home):
    from tests.factories import SectionPageFactory

    other = SectionPageFactory(parent=home, title="报修专线", slug="repair")
    client.force_login(supervisor)
    response = client.get(reverse(ITEMS), {"section": other.pk})
    assert response.status_code == 200
    assert list(response.context["object_list"]) == []
    assert client.get(reverse(ITEMS), {"section": "9" * 30, "quiz": "x"}).status_code == 200


def test_progress_report_rows_and_xlsx_export(client, trainer, newhire, other_agent, path, mentor):
    today = timezone.localdate()
    cohort = Cohort.objects.create(
        name="十一月第一批", path=path, start_date=today - datetime.timedelta(days=10)
    )
    progress.assign(newhire, path, start_date=cohort.start_date, mentor=mentor, cohort=cohort)
    progress.assign(other_agent, path, start_date=today)
    client.force_login(trainer)
    assert client.get(reverse(PROGRESS)).status_code == 200
    rows = xlsx_rows(client.get(reverse(PROGRESS), {"export": "xlsx"}))
    assert rows[0] == [
        "学员",
        "培训路径",
        "批次",
        "带教老师",
        "开始日期",
        "当前阶段",
        "已完成项目",
        "项目总数",
        "完成率（%）",
        "逾期项目",
        "完成时间",
    ]
    by_trainee = {row[0]: row for row in rows[1:]}
    assert by_trainee["小陈"][1:4] == ["客服上岗路径", "十一月第一批", "王带教"]
    assert by_trainee["小陈"][5:10] == ["业务培训", 0, 3, 0, 3]
    assert by_trainee["小李"][2] in ("", None) and by_trainee["小李"][9] == 0

    response = client.get(reverse(PROGRESS), {"cohort": cohort.pk})
    assert [a.user_id for a in response.context["object_list"]] == [newhire.pk]


@pytest.mark.parametrize("role", ["agent", "newhire", "mentor"])
def test_reports_are_for_trainers_and_supervisors(client, request, role, path):
    user = request.getfixturevalue(role)
    if role == "mentor":
        progress.assign(request.getfixturevalue("newhire"), path, mentor=user)
    client.force_login(user)
    for name in (PROGRESS, ITEMS):
        response = client.get(reverse(name), {"export": "xlsx"})
        assert response.status_code in (302, 403)
