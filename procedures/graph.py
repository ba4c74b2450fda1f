"""The shape of a procedure: steps and the arrows between them, and its validation.

Plain Python, no Django: a procedure is a list of step dicts, the first being the start step::

    {"key": "greet", "kind": "instruction", "title": "...", "next": "ask"}
    {"key": "ask", "kind": "question", "answers": [{"label": "是", "next": "done"}]}
    {"key": "collect", "kind": "input", "variables": ["订单号"], "next": "by-amount"}
    {"key": "by-amount", "kind": "rule", "branches": [{"variable": "金额", "op": "lte",
        "value": "50", "next": "refund"}], "default": "reship"}
    {"key": "done", "kind": "outcome", "outcome": "已解决"}

``validate(steps, variables)`` returns a list of ``GraphError`` naming the offending step (by
index, for the admin to show the message on it) and field.
"""

import re
import secrets
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .choices import DATE_OPS, OPS_BY_TYPE, StepKind, VariableType

KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


def new_key(taken=()):
    """A fresh step key: editors pick steps by title and never type one; the key only has to stay put."""
    while True:
        key = f"s-{secrets.token_hex(3)}"
        if key not in taken:
            return key


@dataclass(frozen=True)
class GraphError:
    """One problem: ``index`` is the step's position (None for the whole procedure)."""

    index: int | None
    key: str
    field: str | None
    message: str

    def __str__(self):
        where = _("步骤“%(key)s”：") % {"key": self.key} if self.key else ""
        return f"{where}{self.message}"


def targets(step):
    """``[(field, target_key), ...]``: every arrow leaving ``step``, in display order."""
    kind = step.get("kind")
    if kind in (StepKind.INSTRUCTION, StepKind.INPUT, StepKind.SUBPROCEDURE):
        return [("next", step.get("next") or "")]
    if kind == StepKind.QUESTION:
        return [("answers", a.get("next") or "") for a in step.get("answers") or []]
    if kind == StepKind.RULE:
        arrows = [("branches", b.get("next") or "") for b in step.get("branches") or []]
        return arrows + [("default", step.get("default") or "")]
    return []


def successors(step):
    seen = []
    for _field, key in targets(step):
        if key and key not in seen:
            seen.append(key)
    return seen


def reachable_from(start, by_key):
    seen = {start}
    stack = [start]
    while stack:
        for nxt in successors(by_key[stack.pop()]):
            if nxt in by_key and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def can_reach_outcome(by_key):
    """Keys of the steps from which some path leads to an outcome."""
    good = {key for key, step in by_key.items() if step.get("kind") == StepKind.OUTCOME}
    changed = True
    while changed:
        changed = False
        for key, step in by_key.items():
            if key not in good and any(n in good for n in successors(step)):
                good.add(key)
                changed = True
    return good


def automatic_cycle(by_key):
    """A loop made only of rule steps: the run would spin without ever asking the agent.

    Returns the keys of one such loop, or an empty list.
    """
    rule_keys = {k for k, s in by_key.items() if s.get("kind") == StepKind.RULE}
    state = {}

    def visit(key, trail):
        state[key] = "open"
        trail.append(key)
        for nxt in successors(by_key[key]):
            if nxt not in rule_keys:
                continue
            if state.get(nxt) == "open":
                return trail[trail.index(nxt) :]
            if nxt not in state:
                found = visit(nxt, trail)
                if found:
                    return found
        trail.pop()
        state[key] = "done"
        return []

    for key in rule_keys:
        if key not in state:
            found = visit(key, [])
            if found:
                return found
    return []


def validate(steps, variables=None):
    """Check a procedure's graph; ``variables`` ({name: type}) also checks variable references.

    Without ``variables`` (e.g. inside the steps field alone) references are not checked.
    """
    errors = []
    if not steps:
        return [GraphError(None, "", None, _("流程至少需要一个步骤，且第一个步骤就是起点。"))]

    by_key = {}
    for index, step in enumerate(steps):
        key = step.get("key") or ""
        if step.get("kind") not in StepKind.values:
            errors.append(
                GraphError(index, key, None, _("未知的步骤类型 %(kind)r。") % {"kind": step.get("kind")})
            )
        if not KEY_RE.match(key):
            errors.append(
                GraphError(index, key, "key", _("步骤标识只能用英文字母、数字和连字符，例如 ask-package。"))
            )
        elif key in by_key:
            errors.append(
                GraphError(
                    index, key, "key", _("步骤标识“%(key)s”重复了，每个步骤的标识必须唯一。") % {"key": key}
                )
            )
        else:
            by_key[key] = step

    for index, step in enumerate(steps):
        key = step.get("key") or ""
        kind = step.get("kind")
        if kind == StepKind.QUESTION and not step.get("answers"):
            errors.append(GraphError(index, key, "answers", _("判断步骤至少需要一个回答选项。")))
        for field, target in targets(step):
            if not target:
                errors.append(GraphError(index, key, field, _("请选择下一步（本流程中的一个步骤）。")))
            elif target not in by_key:
                errors.append(
                    GraphError(index, key, field, _("下一步“%(target)s”不存在。") % {"target": target})
                )
        if kind == StepKind.OUTCOME and not (step.get("outcome") or "").strip():
            errors.append(GraphError(index, key, "outcome", _("结果步骤需要选择一个结果。")))
        if variables is not None:
            errors.extend(_check_variables(index, key, step, variables))

    if errors:
        return errors  # reachability on a broken graph would only repeat the same problems

    index_of = {step["key"]: i for i, step in enumerate(steps)}
    start = steps[0]["key"]
    reachable = reachable_from(start, by_key)
    for key in by_key:
        if key not in reachable:
            errors.append(
                GraphError(
                    index_of[key], key, None, _("从起点“%(start)s”无法到达这个步骤。") % {"start": start}
                )
            )
    finishing = can_reach_outcome(by_key)
    if not any(s.get("kind") == StepKind.OUTCOME for s in steps):
        errors.append(GraphError(None, "", None, _("流程至少需要一个结果步骤。")))
    for key in by_key:
        if key in reachable and key not in finishing:
            errors.append(
                GraphError(
                    index_of[key], key, None, _("从这个步骤出发无法走到任何结果步骤（死循环或没有出口）。")
                )
            )
    loop = automatic_cycle(by_key)
    if loop:
        errors.append(
            GraphError(
                index_of[loop[0]],
                loop[0],
                None,
                _("规则步骤之间形成了循环（%(loop)s），流程会原地打转。")
                % {"loop": " → ".join(loop + [loop[0]])},
            )
        )
    return errors


def _check_variables(index, key, step, variables):
    errors = []
    kind = step.get("kind")
    if kind == StepKind.INPUT:
        names = step.get("variables") or []
        if not names:
            errors.append(GraphError(index, key, "variables", _("采集步骤至少要采集一个变量。")))
        for name in names:
            if name not in variables:
                errors.append(
                    GraphError(
                        index, key, "variables", _("变量“%(name)s”没有在流程的变量中定义。") % {"name": name}
                    )
                )
    if kind == StepKind.RULE:
        for branch in step.get("branches") or []:
            name = branch.get("variable")
            op = branch.get("op")
            if name not in variables:
                errors.append(
                    GraphError(
                        index, key, "branches", _("变量“%(name)s”没有在流程的变量中定义。") % {"name": name}
                    )
                )
                continue
            allowed = OPS_BY_TYPE.get(variables[name], ())
            if op not in allowed:
                errors.append(
                    GraphError(
                        index,
                        key,
                        "branches",
                        _("变量“%(name)s”（%(type)s）不能用比较方式 %(op)s。")
                        % {"name": name, "type": variables[name], "op": op},
                    )
                )
            elif variables[name] in (VariableType.NUMBER, VariableType.DATE) or op in DATE_OPS:
                try:
                    float(branch.get("value"))
                except (TypeError, ValueError):
                    errors.append(
                        GraphError(
                            index,
                            key,
                            "branches",
                            _("变量“%(name)s”的比较值必须是数字：%(value)r。")
                            % {"name": name, "value": branch.get("value")},
                        )
                    )
    return errors


def path_depths(steps):
    """Breadth-first depth of each step from the start, for the overview map's rows."""
    if not steps:
        return {}
    by_key = {s["key"]: s for s in steps if s.get("key")}
    start = steps[0].get("key")
    depths = {start: 0}
    queue = [start]
    while queue:
        key = queue.pop(0)
        for nxt in successors(by_key.get(key, {})):
            if nxt in by_key and nxt not in depths:
                depths[nxt] = depths[key] + 1
                queue.append(nxt)
    return depths
