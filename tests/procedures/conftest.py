"""Fixtures for the procedures tests: demo procedures loaded from YAML (the users are in tests/conftest.py).

Only the sections a test needs are loaded (home, section, its phrasings), not the whole demo:
the procedure loader is what is under test, and the full demo takes too long per test.
"""

import functools

import pytest

from kb_site.content import demo as content_demo
from procedures import demo as procedures_demo


@functools.cache
def _yaml(path):
    return content_demo.load_yaml(path)


def _section_spec(slug):
    for section_path in content_demo.section_files():
        spec = _yaml(section_path)
        if spec.get("slug") == slug:
            return spec
    raise LookupError(f"no demo section file with slug {slug!r}")


def _referenced_phrasings(spec):
    """The section phrasings a procedure names: by title, or as ``{phrasing: <title>, must_say: true}``."""
    return {
        p if isinstance(p, str) else p["phrasing"]
        for step in spec.get("steps", [])
        for p in step.get("phrasings") or []
        if isinstance(p, str) or p.get("phrasing")
    }


def load_demo_procedure(filename):
    """Load one demo procedure file with its section and the section phrasings it refers to."""
    path = procedures_demo.DEMO_DIR / "procedures" / filename
    spec = _yaml(path)
    report = content_demo.DemoReport()
    home = content_demo.ensure_home({}, report)
    section_spec = _section_spec(spec["section"])
    section = content_demo.ensure_section(home, section_spec, False, report)
    wanted = _referenced_phrasings(spec)
    for phrasing in section_spec.get("phrasings", []):
        if phrasing["title"] in wanted:
            content_demo.ensure_phrasing(section, phrasing, None, False, report)
    return procedures_demo.ensure_procedure(path, False, report)


@pytest.fixture
def missing_item(db):
    return load_demo_procedure("30-missing-item.yaml")


@pytest.fixture
def complaint(db):
    return load_demo_procedure("70-complaint-five-steps.yaml")


@pytest.fixture
def rule_first(missing_item):
    """A procedure whose first step is a rule: starting it writes events at once."""

    def block(kind, **value):
        return {"type": kind, "value": value}

    from procedures.models import ProcedurePage

    page = ProcedurePage(
        title="按金额分流",
        slug="by-amount-start",
        when_to_use="测试",
        variables=[block("variable", name="金额", label="", type="number", choices=[], required=True)],
        steps=[
            block(
                "rule",
                key="start",
                title="按金额",
                branches=[{"variable": "金额", "op": "lte", "value": "50", "next": "small"}],
                default="ask",
            ),
            block(
                "question",
                key="ask",
                title="大额：客户同意补发吗？",
                text="",
                phrasings=[],
                answers=[{"label": "同意", "next": "small"}],
            ),
            block("outcome", key="small", title="直接处理", outcome="已解决", text="", phrasings=[]),
        ],
    )
    missing_item.get_parent().add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def must_say_procedure(section):
    """A three-step procedure with target times and 必说 lines: 开场 (one must-say line of two, target 30 s),
    处理 (two must-say lines, target 60 s, answers 已解决 / 再说明), 结束."""
    from procedures.models import ProcedurePage

    def phrasing(label, text, must_say=False):
        return {"phrasing": None, "label": label, "scenario": "", "text": text, "must_say": must_say}

    def block(kind, **value):
        return {"type": kind, "value": value}

    page = ProcedurePage(
        title="必说测试流程",
        slug="must-say-flow",
        when_to_use="测试",
        steps=[
            block(
                "instruction",
                key="greet",
                title="开场",
                target_seconds=30,
                text="",
                phrasings=[phrasing("报工号", "您好，{工号}号为您服务", True), phrasing("寒暄", "天气不错")],
                checklist=[],
                next="handle",
            ),
            block(
                "question",
                key="handle",
                title="处理",
                target_seconds=60,
                text="",
                phrasings=[
                    phrasing("告知录音", "本次通话将被录音", True),
                    phrasing("致歉", "给您添麻烦了", True),
                ],
                answers=[{"label": "已解决", "next": "done"}, {"label": "再说明", "next": "greet"}],
            ),
            block("outcome", key="done", title="结束", outcome="已解决", text="", phrasings=[]),
        ],
    )
    section.add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    return page
