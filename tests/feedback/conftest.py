"""Fixtures for the feedback tests: an article owned by a trainer (a paragraph and a library phrasing),
the demo 少货处理 procedure (no owner: its feedback goes to the trainers' group), and a run of it."""

import pytest

from procedures.runs import start_run
from tests.factories import ArticlePageFactory, PhrasingFactory, publish
from tests.procedures.conftest import load_demo_procedure


@pytest.fixture
def phrasing(section):
    return PhrasingFactory(title="致歉话术", text="给您添麻烦了，非常抱歉。", section=section)


@pytest.fixture
def article(section, trainer, phrasing):
    page = ArticlePageFactory(
        parent=section,
        title="退款时限",
        maintainer=trainer,
        body=[
            ("paragraph", "<p>退款三个工作日内到账。</p>"),
            ("phrasing", {"phrasing": phrasing, "label": "", "scenario": "", "text": ""}),
        ],
    )
    return publish(page)


def block_ids(page):
    return [block.id for block in page.body]


@pytest.fixture
def procedure(db):
    return load_demo_procedure("30-missing-item.yaml")


@pytest.fixture
def run(procedure, agent):
    return start_run(
        procedure,
        agent,
        variables={"客户称呼": "王女士", "订单号": "A100", "商品名称": "耳机", "少货金额": 59, "天数": 2},
    )
