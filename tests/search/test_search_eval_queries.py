"""The labelled query file of bench/search_eval.py is well-formed: enough queries in every category, and
every answer names a page or phrasing the demo fixtures define."""

import copy
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "search_eval.py"


@pytest.fixture(scope="module")
def search_eval():
    spec = importlib.util.spec_from_file_location("search_eval", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def query_file(search_eval):
    return search_eval.load_queries()


@pytest.fixture(scope="module")
def labels(search_eval):
    return search_eval.fixture_labels()


def test_the_query_file_is_well_formed(search_eval, query_file, labels):
    categories, queries = query_file
    assert search_eval.check_queries(categories, queries, labels) == []
    assert len(queries) >= 150
    minimums = {
        "colloquial": 50,
        "keyword": 20,
        "limit": 15,
        "pinyin": 10,
        "initials": 5,
        "traditional": 10,
        "homophone": 10,
        "noise": 20,
    }
    assert {name: spec["min"] for name, spec in categories.items()} == minimums


def test_labels_are_read_from_the_fixtures(labels):
    # an article, a procedure (under its section's slug) and a phrasing, as fixtures/demo names them
    assert {"ecommerce/missing-item", "ecommerce/missing-item-flow", "话术:少货核实说明"} <= labels
    assert "ecommerce/no-such-page" not in labels
    assert "话术:少货" not in labels  # a tag, not a phrasing title


def test_the_check_reports_what_is_wrong(search_eval, query_file, labels):
    categories, queries = copy.deepcopy(query_file)
    colloquial = [q for q in queries if q["cat"] == "colloquial"]
    broken = [q for q in queries if q["cat"] != "initials"]  # the whole category gone
    broken[0] = {**broken[0], "answers": ["ecommerce/no-such-page"]}
    noise = next(i for i, q in enumerate(broken) if q["cat"] == "noise")
    broken[noise] = {**broken[noise], "answers": ["ecommerce/missing-item"]}
    broken.append({"q": "未分类", "cat": "other", "answers": ["ecommerce/missing-item"]})
    broken.append(dict(colloquial[1]))  # the same query twice
    broken.append({"q": "没有答案", "cat": "keyword", "answers": []})
    problems = search_eval.check_queries(categories, broken, labels)
    assert any("initials" in p and "fewer than 5" in p for p in problems)
    assert any("ecommerce/no-such-page" in p for p in problems)
    assert any("noise query has answers" in p for p in problems)
    assert any("unknown category 'other'" in p for p in problems)
    assert any("twice" in p and colloquial[1]["q"] in p for p in problems)
    assert any("没有答案" in p and "no answers" in p for p in problems)
    assert search_eval.check_queries(categories, queries[:100], labels)[0] == "100 queries, fewer than 150"
