"""Fixtures for the training tests: a question bank with one question of every type, a quiz drawing
from it, a second new hire and a mentor (the role users are in tests/conftest.py)."""

import pytest

from kb_site.content import roles
from tests.factories import ArticlePageFactory, make_user
from training.choices import QuestionType
from training.models import Question, QuestionOption, Quiz


@pytest.fixture
def article(section):
    return ArticlePageFactory(parent=section, title="投诉受理规范", slug="complaints")


def make_question(section, qtype, stem, options, **fields):
    """A question of ``qtype`` with ``options``: ``(text, correct)`` or ``(text, correct, extra fields)``."""
    question = Question.objects.create(section=section, type=qtype, stem=stem, **fields)
    for order, option in enumerate(options):
        text, correct, *extra = option
        QuestionOption.objects.create(
            question=question, sort_order=order, text=text, correct=correct, **(extra[0] if extra else {})
        )
    return question


@pytest.fixture
def questions(section, article):
    """One question of every type, by type; options in the question's own order (for ordering, the
    right order)."""
    cite = {"cite_page": article, "cite_anchor": "block-greeting"}
    return {
        QuestionType.SINGLE: make_question(
            section,
            QuestionType.SINGLE,
            "客户来电后，第一句应该说什么？",
            [
                ("您好，请问有什么可以帮您？", True, {"explanation": "先问候再询问来意。", **cite}),
                ("喂，什么事？", False, {"explanation": "不礼貌。"}),
                ("请稍等。", False),
            ],
            explanation="开场白要先问候。",
        ),
        QuestionType.MULTIPLE: make_question(
            section,
            QuestionType.MULTIPLE,
            "受理投诉时要记录哪些信息？",
            [("客户姓名", True), ("联系电话", True), ("客户星座", False)],
        ),
        QuestionType.TRUE_FALSE: make_question(
            section,
            QuestionType.TRUE_FALSE,
            "客户情绪激动时，可以直接挂断电话。",
            [("对", False), ("错", True, {"explanation": "要先安抚，按升级流程处理。"})],
        ),
        QuestionType.ORDERING: make_question(
            section,
            QuestionType.ORDERING,
            "把投诉受理的步骤排好顺序。",
            [("核实身份", True), ("记录诉求", True), ("告知时限", True)],
        ),
        QuestionType.FILL: make_question(
            section,
            QuestionType.FILL,
            "结束通话前要说的关键话术是？",
            [("请问还有其他可以帮您的吗", True), ("还有什么可以帮您", True)],
        ),
        QuestionType.COMPLIANT: make_question(
            section,
            QuestionType.COMPLIANT,
            "选出合规的话术。",
            [("这个我们保证明天一定修好。", False), ("我们会在 24 小时内安排人员联系您。", True)],
        ),
        QuestionType.SCENARIO: make_question(
            section,
            QuestionType.SCENARIO,
            "客户说：“我都打了三次电话了！”你怎么回答？",
            [("非常抱歉让您多次来电，我马上为您查询处理进度。", True), ("请您耐心等待。", False)],
            step_key="step-apologise",
        ),
    }


@pytest.fixture
def quiz(section, questions):
    """A quiz drawing every question of the section (7), the default pass mark (80), 3 attempts and
    30 minutes between a failed attempt and the next."""
    return Quiz.objects.create(
        title="投诉受理考核", section=section, draw_count=10, attempt_limit=3, cooldown_minutes=30
    )


@pytest.fixture
def other_newhire(db):
    return make_user(roles.NEW_HIRE, username="newhire2", first_name="小赵")


@pytest.fixture
def mentor(db):
    """A senior agent who mentors new hires (no training permission of their own)."""
    return make_user(roles.AGENT, username="mentor", first_name="老刘")
