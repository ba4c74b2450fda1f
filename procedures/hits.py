"""How a procedure is searched and shown among hits: the text of each step, and the step to link to."""

from django.utils.html import strip_tags

from search.results import best_anchor
from zhtext import fold


def step_text(step):
    """A step's title, text, phrasings, answers, checklist and outcome as plain text, one part a line.

    ``step`` is a plain dict of ``ProcedurePage.step_dicts()`` (see ``procedures.graph``). The search
    index holds every step's text; ``step_anchor`` finds the best step in it.
    """
    parts = [step.get("title", ""), strip_tags(step.get("text_html", ""))]
    for phrasing in step.get("phrasings", []):
        parts.extend([phrasing["title"], phrasing["text"]])
    parts.extend(answer.get("label", "") for answer in step.get("answers", []))
    parts.extend(step.get("checklist", []))
    parts.append(step.get("outcome") or "")
    return "\n".join(part for part in parts if part)


def step_anchor_texts(page):
    """``("#step-<key>", folded text)`` of each keyed step: what a search scores to pick the step to link
    (search remembers them per publication: decoding the steps resolves their phrasings)."""
    pairs = []
    for step in page.step_dicts():
        if not step.get("key"):
            continue
        # Scenarios (客户情绪激动时) say when a phrasing fits: they point at the step too.
        scenarios = " ".join(phrasing.get("scenario") or "" for phrasing in step.get("phrasings", []))
        pairs.append((f"#step-{step['key']}", fold(f"{step_text(step)}\n{scenarios}")))
    return pairs


def step_anchor(page, terms):
    """``#step-<key>`` of the procedure step that matches the query best, or ``""``.

    A step scores the total length of the distinct query terms in its text, so a step saying 物流单称重
    beats one that only says 物流; the first step wins a tie.
    """
    return best_anchor(step_anchor_texts(page), terms)
