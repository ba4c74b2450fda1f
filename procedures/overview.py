"""The overview map of a procedure: its steps laid out in rows by distance from the start."""

from . import graph
from .blocks import STEP_KINDS


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
    if kind in (graph.INSTRUCTION, graph.INPUT):
        arrows.append(("", step.get("next"), titles.get(step.get("next"), "？")))
    elif kind == graph.QUESTION:
        for answer in step.get("answers") or []:
            arrows.append((answer.get("label"), answer.get("next"), titles.get(answer.get("next"), "？")))
    elif kind == graph.RULE:
        for branch in step.get("branches") or []:
            label = f"{branch.get('variable')} {_op(branch.get('op'))} {branch.get('value')}"
            arrows.append((label, branch.get("next"), titles.get(branch.get("next"), "？")))
        arrows.append(("其他情况", step.get("default"), titles.get(step.get("default"), "？")))
    return {
        "key": step.get("key"),
        "title": step.get("title") or step.get("key"),
        "kind": kind,
        "kind_label": STEP_KINDS.get(kind, kind),
        "outcome": step.get("outcome", ""),
        "arrows": arrows,
    }


def _op(op):
    from .engine import OP_LABELS

    return OP_LABELS.get(op, op)
