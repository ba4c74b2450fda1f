"""training.scoring in plain Python: every question type right and wrong, typed phrases with
punctuation, full-width and traditional characters, the golden-path comparison and practice scores."""

import pytest

from training.choices import QuestionType
from training.scoring import (
    PRACTICE_WEIGHTS,
    answer_is_correct,
    compare_path,
    normalise_phrase,
    practice_score,
    quiz_percent,
)


def question(qtype, *correct_flags):
    """A snapshot-shaped question whose options have ids 1, 2, 3 … with the given correctness."""
    return {
        "id": 9,
        "type": qtype,
        "options": [{"id": n, "text": f"选项{n}", "correct": c} for n, c in enumerate(correct_flags, 1)],
    }


@pytest.mark.parametrize(
    "qtype", [QuestionType.SINGLE, QuestionType.TRUE_FALSE, QuestionType.COMPLIANT, QuestionType.SCENARIO]
)
def test_one_correct_types_right_and_wrong(qtype):
    q = question(qtype, False, True)
    assert answer_is_correct(q, [2])
    assert not answer_is_correct(q, [1])
    assert not answer_is_correct(q, [1, 2]), "two options chosen for a one-answer question"
    assert not answer_is_correct(q, [2, 2])
    assert not answer_is_correct(q, [])
    assert not answer_is_correct(q, None)


def test_multiple_needs_exactly_the_right_set():
    q = question(QuestionType.MULTIPLE, True, True, False)
    assert answer_is_correct(q, [1, 2])
    assert answer_is_correct(q, [2, 1]), "order does not matter"
    assert not answer_is_correct(q, [1]), "a subset"
    assert not answer_is_correct(q, [1, 2, 3]), "a superset"
    assert not answer_is_correct(q, [1, 1, 2]), "a duplicate"
    assert not answer_is_correct(q, [])


def test_ordering_is_the_questions_own_order():
    q = question(QuestionType.ORDERING, True, True, True)
    assert answer_is_correct(q, [1, 2, 3])
    assert not answer_is_correct(q, [2, 1, 3])
    assert not answer_is_correct(q, [1, 2]), "stopping short"
    assert not answer_is_correct(q, [1, 2, 3, 3])


def fill(*accepted):
    return {
        "id": 9,
        "type": QuestionType.FILL,
        "options": [{"id": n, "text": t} for n, t in enumerate(accepted)],
    }


def test_fill_ignores_punctuation_spaces_and_case():
    q = fill("您好请问有什么可以帮您", "OK 收到")
    assert answer_is_correct(q, "您好，请问有什么可以帮您？")
    assert answer_is_correct(q, "  您好 请问 有什么可以帮您!! ")
    assert answer_is_correct(q, "ok收到。")
    assert not answer_is_correct(q, "您好请问有什么事")


def test_fill_folds_full_width_and_traditional():
    q = fill("您好请问有什么可以帮您", "OK 收到")
    assert answer_is_correct(q, "ＯＫ，收到"), "full-width letters and comma"
    assert answer_is_correct(q, "您好，請問有什麼可以幫您？"), "traditional characters"
    assert normalise_phrase("您好，請問！") == normalise_phrase("您好请问")


def test_fill_rejects_empty_and_non_text_answers():
    q = fill("您好")
    assert not answer_is_correct(q, "")
    assert not answer_is_correct(q, "，。！"), "only punctuation"
    assert not answer_is_correct(q, None)
    assert not answer_is_correct(q, ["您好"])
    assert not answer_is_correct(fill(), "您好"), "no accepted answer"


def test_unknown_type_is_never_correct():
    assert not answer_is_correct(question("essay", True), [1])


def test_quiz_percent():
    assert quiz_percent([]) == 0.0
    assert quiz_percent([True, True]) == 100.0
    assert quiz_percent([True, False, True]) == 66.7
    assert quiz_percent(iter([False])) == 0.0


def test_compare_path_followed_to_the_end():
    assert compare_path(["a", "b", "c"], ["a", "b", "c"]) == {
        "followed": 3,
        "length": 3,
        "left_at": None,
        "percent": 100.0,
    }


def test_compare_path_leaving_the_path():
    result = compare_path(["a", "b", "c", "d"], ["a", "x", "c", "d"])
    assert result["followed"] == 1
    assert result["left_at"] == {"index": 1, "expected": "b", "taken": "x"}
    assert result["percent"] == 25.0, "steps after leaving the path do not count even if they match"


def test_compare_path_stopping_short():
    result = compare_path(["a", "b", "c"], ["a", "b"])
    assert result["followed"] == 2
    assert result["left_at"] == {"index": 2, "expected": "c", "taken": None}
    assert result["percent"] == 66.7


def test_compare_path_edges():
    assert compare_path([], ["a"])["percent"] == 100.0
    assert compare_path(["a"], [])["left_at"] == {"index": 0, "expected": "a", "taken": None}


def score(**changes):
    arguments = {
        "golden": ["a", "b", "c", "d"],
        "actual": ["a", "b", "c", "d"],
        "expected_outcome": "已受理",
        "outcome": "已受理",
        "seconds": 100,
        "expected_seconds": 120,
        "must_say": [1, 2],
        "said": [1, 2, 5],
    }
    arguments.update(changes)
    return practice_score(**arguments)


def test_practice_score_full_marks():
    result = score()
    assert result["parts"] == PRACTICE_WEIGHTS
    assert result["total"] == 100.0
    assert result["missed"] == []
    assert sum(PRACTICE_WEIGHTS.values()) == 100


def test_practice_score_path_part():
    result = score(actual=["a", "b", "x"])
    assert result["parts"]["path"] == 20.0
    assert result["path"]["left_at"]["taken"] == "x"


def test_practice_score_ending_part():
    assert score(outcome="转人工")["parts"]["ending"] == 0
    assert score(outcome="")["parts"]["ending"] == 0
    assert score(expected_outcome="", outcome="随便")["parts"]["ending"] == 30, "no expected ending: full"


def test_practice_score_time_part():
    assert score(seconds=120)["parts"]["time"] == 10.0, "exactly in time"
    assert score(seconds=180)["parts"]["time"] == 5.0, "half as long again"
    assert score(seconds=240)["parts"]["time"] == 0.0, "twice the expected time"
    assert score(seconds=1000)["parts"]["time"] == 0.0
    assert score(expected_seconds=0, seconds=1000)["parts"]["time"] == 10.0, "no expected time: full"


def test_practice_score_must_say_part():
    result = score(must_say=[1, 2, 3, 4], said=[2, 4])
    assert result["parts"]["must_say"] == 10.0
    assert result["said"] == [2, 4]
    assert result["missed"] == [1, 3]
    assert score(must_say=[1, 1, 2], said=[1])["parts"]["must_say"] == 10.0, "duplicates count once"
    assert score(must_say=[], said=[])["parts"]["must_say"] == 20, "nothing to say: full"


def test_practice_score_total_adds_the_parts():
    result = score(actual=["a", "b"], outcome="转人工", seconds=180, must_say=[1, 2], said=[1])
    assert result["parts"] == {"path": 20.0, "ending": 0, "time": 5.0, "must_say": 10.0}
    assert result["total"] == 35.0
