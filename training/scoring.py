"""Scoring, in plain Python (no Django): quiz answers per question type, and a practice run against a
scenario card's golden path, ending, expected time and must-say lines.

Questions and options are plain dicts, as an attempt snapshots them::

    {"id": 7, "type": "single", "options": [{"id": 21, "correct": True}, {"id": 22, "correct": False}]}

Option order in ``options`` is the question's own order: for an ordering question it is the correct
order (the trainee sees the options shuffled). A fill question's options are its accepted answers.
"""

import re

from zhtext.folding import normalize

from .choices import ONE_CORRECT, QuestionType

__all__ = [
    "PRACTICE_WEIGHTS",
    "answer_is_correct",
    "compare_path",
    "normalise_phrase",
    "practice_score",
    "quiz_percent",
]

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_phrase(text):
    """A typed phrase as compared: full-width/traditional folded, lower case, punctuation and spaces
    dropped (``您好，请问！`` matches ``您好请问``)."""
    return _NOT_WORD.sub("", normalize(str(text or "")))


def answer_is_correct(question, answer):
    """Whether ``answer`` is right for ``question``.

    ``answer`` is a list of option ids (as chosen; for ordering, in the trainee's order) or, for a
    fill question, the typed text.
    """
    qtype = question["type"]
    options = question["options"]
    if qtype == QuestionType.FILL:
        typed = normalise_phrase(answer if isinstance(answer, str) else "")
        return bool(typed) and any(typed == normalise_phrase(o["text"]) for o in options)
    chosen = list(answer or [])
    if qtype == QuestionType.ORDERING:
        return chosen == [o["id"] for o in options]
    correct = {o["id"] for o in options if o.get("correct")}
    if qtype in ONE_CORRECT:
        return len(chosen) == 1 and set(chosen) == correct
    if qtype == QuestionType.MULTIPLE:
        return len(chosen) == len(set(chosen)) and set(chosen) == correct
    return False


def quiz_percent(results):
    """The score in percent (0–100, one decimal) of a list of booleans (one per question)."""
    results = list(results)
    if not results:
        return 0.0
    return round(100 * sum(1 for r in results if r) / len(results), 1)


def compare_path(golden, actual):
    """Compare the steps a run went through (``actual``, keys in order, back-steps already undone)
    with a card's golden path.

    Returns ``{"followed": n, "length": len(golden), "left_at": None | {...}, "percent": p}``: how many
    golden steps were taken in order before the run left the path, and where it left it (the step
    expected and the one taken instead, ``None`` when the run stopped short).
    """
    golden = list(golden)
    actual = list(actual)
    followed = 0
    left_at = None
    for index, key in enumerate(golden):
        if index < len(actual) and actual[index] == key:
            followed += 1
            continue
        left_at = {
            "index": index,
            "expected": key,
            "taken": actual[index] if index < len(actual) else None,
        }
        break
    percent = round(100 * followed / len(golden), 1) if golden else 100.0
    return {"followed": followed, "length": len(golden), "left_at": left_at, "percent": percent}


# How much each part weighs in a practice score (out of 100).
PRACTICE_WEIGHTS = {"path": 40, "ending": 30, "time": 10, "must_say": 20}


def practice_score(*, golden, actual, expected_outcome, outcome, seconds, expected_seconds, must_say, said):
    """Score one practice run against its card. ``must_say`` and ``said`` are collections of line ids.

    Each part gives its share of ``PRACTICE_WEIGHTS``:

    - path: the share of the golden path followed in order before leaving it;
    - ending: all of it when the run ended with the card's expected outcome, else nothing;
    - time: all of it within the expected time, falling to nothing at twice the expected time;
    - must-say lines: the share of them the run went through.

    Returns the parts, each with its points, and the total (0–100, one decimal).
    """
    path = compare_path(golden, actual)
    ending_ok = bool(expected_outcome) and outcome == expected_outcome if expected_outcome else True
    if expected_seconds and expected_seconds > 0:
        over = max(seconds - expected_seconds, 0) / expected_seconds
        time_share = max(0.0, 1.0 - over)
    else:
        time_share = 1.0
    must_say = list(dict.fromkeys(must_say))
    said_lines = [line for line in must_say if line in set(said)]
    say_share = len(said_lines) / len(must_say) if must_say else 1.0
    parts = {
        "path": round(PRACTICE_WEIGHTS["path"] * path["percent"] / 100, 1),
        "ending": PRACTICE_WEIGHTS["ending"] if ending_ok else 0,
        "time": round(PRACTICE_WEIGHTS["time"] * time_share, 1),
        "must_say": round(PRACTICE_WEIGHTS["must_say"] * say_share, 1),
    }
    return {
        "parts": parts,
        "total": round(sum(parts.values()), 1),
        "path": path,
        "ending_ok": ending_ok,
        "said": said_lines,
        "missed": [line for line in must_say if line not in set(said)],
    }
