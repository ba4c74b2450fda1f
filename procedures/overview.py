"""The overview map of a procedure: its steps laid out in rows by distance from the start."""

from django.utils.translation import gettext as _

from . import graph
from .choices import StepKind
from .engine import op_label


def overview_rows(steps):
    """``[[card, ...], ...]``: one row per distance from the start; unreachable steps last.

    A card is ``{"key", "title", "kind", "kind_label", "arrows": [(label, key, title)]}``.
    """
    titles = {s.get("key"): s.get("title") or s.get("key") for s in steps}
    depths = graph.path_depths(steps)
    rows = {}
    for step in steps:
        depth = depths.get(step.get("key"), len(steps) + 1)
        rows.setdefault(depth, []).append(_card(step, titles))
    return [rows[d] for d in sorted(rows)]


def _card(step, titles):
    kind = step.get("kind")
    arrows = []
    if kind in (StepKind.INSTRUCTION, StepKind.INPUT):
        arrows.append(("", step.get("next"), titles.get(step.get("next"), "？")))
    elif kind == StepKind.QUESTION:
        for answer in step.get("answers") or []:
            arrows.append((answer.get("label"), answer.get("next"), titles.get(answer.get("next"), "？")))
    elif kind == StepKind.SUBPROCEDURE:
        arrows.append((_("完成后"), step.get("next"), titles.get(step.get("next"), "？")))
    elif kind == StepKind.RULE:
        for branch in step.get("branches") or []:
            label = f"{branch.get('variable')} {op_label(branch.get('op'))} {branch.get('value')}"
            arrows.append((label, branch.get("next"), titles.get(branch.get("next"), "？")))
        arrows.append((_("其他情况"), step.get("default"), titles.get(step.get("default"), "？")))
    return {
        "key": step.get("key"),
        "title": step.get("title") or step.get("key"),
        "kind": kind,
        "kind_label": StepKind(kind).label if kind in StepKind.values else kind,
        "outcome": step.get("outcome", ""),
        "arrows": arrows,
    }
