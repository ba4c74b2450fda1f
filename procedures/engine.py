"""The run engine: what happens when an agent acts on a step. Plain Python (Django only for its
enum type, in ``procedures.choices``, and for translating the messages it shows agents).

The Django layer (``procedures.runs``) loads a ``Procedure`` from the pinned page revision,
asks the engine for the ``Move``s an action produces, and writes one ``RunEvent`` per move.
Rule steps never wait for the agent: entering one evaluates it at once, so a single action
can produce several moves (answer → rule → outcome).
"""

import datetime
import decimal
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from zhtext import clean_text

from .choices import (
    DATE_OPS,
    DEFAULT_OUTCOMES,
    ENDING_OUTCOMES,
    FORWARD_ACTIONS,
    EventAction,
    Operator,
    StepKind,
    VariableType,
)


class MoveRejected(Exception):
    """A move that cannot be applied: nothing is written and ``message`` is shown to the agent.

    ``code`` is stable for callers and tests: ``finished``, ``stale``, ``not_live``, ``no_back``,
    ``unknown_step``, ``unknown_action``, ``not_a_question``, ``invalid_answer``, ``not_next``, ``loop``.
    """

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class InputError(Exception):
    """Collected values that do not validate: ``errors`` maps variable name → message."""

    def __init__(self, errors, values=None):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.values = values or {}


@dataclass
class Variable:
    name: str
    label: str = ""
    type: str = VariableType.TEXT
    choices: list = field(default_factory=list)
    required: bool = False

    @property
    def display_label(self):
        return self.label or self.name


@dataclass
class Move:
    """One step left by one action: becomes exactly one ``RunEvent``."""

    key: str
    kind: str
    title: str
    action: str
    answer: str = ""
    inputs: dict = field(default_factory=dict)
    next_key: str | None = None
    outcome: str | None = None


class Procedure:
    """A procedure's steps and variables, as plain data (from one page revision)."""

    def __init__(self, steps, variables=(), outcomes=None, title=""):
        self.steps = list(steps)
        self.by_key = {s["key"]: s for s in self.steps}
        self.variables = {v.name: v for v in variables}
        self.outcomes = list(outcomes or DEFAULT_OUTCOMES)
        self.title = title

    @property
    def start_key(self):
        return self.steps[0]["key"] if self.steps else None

    def step(self, key):
        try:
            return self.by_key[key]
        except KeyError:
            raise MoveRejected(
                "unknown_step", _("步骤“%(key)s”不在这个版本的流程中。") % {"key": key}
            ) from None

    def variable_types(self):
        return {name: v.type for name, v in self.variables.items()}

    def labels(self):
        """``{name: label}``: how each variable is shown wherever its value is (``display_label``)."""
        return {name: v.display_label for name, v in self.variables.items()}

    def collected_names(self):
        """The variables some input step collects (and requires there, when marked required)."""
        return {
            name
            for step in self.steps
            if step.get("kind") == StepKind.INPUT
            for name in step.get("variables") or []
        }

    def required_at_start(self):
        """Required variables that no input step collects: the agent gives them when starting the run,
        or every phrasing using them would show a gap all along it (客户称呼)."""
        collected = self.collected_names()
        return [name for name, v in self.variables.items() if v.required and name not in collected]

    def to_dict(self):
        """Plain JSON-able data: what a run keeps as its snapshot of the procedure."""
        return {
            "title": self.title,
            "steps": self.steps,
            "variables": [
                {
                    "name": v.name,
                    "label": v.label,
                    "type": v.type,
                    "choices": v.choices,
                    "required": v.required,
                }
                for v in self.variables.values()
            ],
            "outcomes": self.outcomes,
        }

    @classmethod
    def from_dict(cls, data):
        return cls(
            data.get("steps", []),
            [Variable(**v) for v in data.get("variables", [])],
            outcomes=data.get("outcomes"),
            title=data.get("title", ""),
        )


def required_message(variable):
    return _("必填：请填写“%(label)s”。") % {"label": variable.display_label}


def clean_value(variable, raw):
    """Validate one collected value by its type; returns the value to store (str) or raises ValueError."""
    raw = clean_text(raw)
    if not raw:
        if variable.required:
            raise ValueError(required_message(variable))
        return ""
    if variable.type == VariableType.NUMBER:
        return _clean_number(raw)
    if variable.type == VariableType.DATE:
        try:
            return datetime.date.fromisoformat(raw).isoformat()
        except ValueError:
            raise ValueError(_("请按 年-月-日 填写日期，例如 2026-03-01")) from None
    if variable.type == VariableType.CHOICE:
        if raw not in variable.choices:
            raise ValueError(_("请从选项中选择：%(choices)s") % {"choices": "、".join(variable.choices)})
        return raw
    return raw[:500]


# Amounts, counts and days on a service line: 15 digits before the point and 6 after are plenty, and
# bound what is stored (``1e999999`` would otherwise be kept as a million-digit string).
MAX_NUMBER_DIGITS = 15
MAX_NUMBER_DECIMALS = 6


def _clean_number(raw):
    if len(raw) > 40:
        raise ValueError(_("数字太大或位数太多：整数部分最多 15 位，小数最多 6 位"))
    try:
        number = decimal.Decimal(raw.replace(",", "").replace("，", ""))
    except decimal.InvalidOperation:
        raise ValueError(_("请填写数字")) from None
    if not number.is_finite():
        raise ValueError(_("请填写数字"))
    _sign, digits, exponent = number.as_tuple()
    integer_digits = len(digits) + exponent if number else 0
    if integer_digits > MAX_NUMBER_DIGITS or -exponent > MAX_NUMBER_DECIMALS:
        raise ValueError(_("数字太大或位数太多：整数部分最多 15 位，小数最多 6 位"))
    return format(number.normalize(), "f") if number == number.to_integral() else str(number)


def clean_inputs(procedure, names, raw_values):
    """Validate the values an input step collects; raises InputError listing every problem."""
    cleaned, errors = {}, {}
    for name in names:
        variable = procedure.variables.get(name) or Variable(name=name)
        try:
            cleaned[name] = clean_value(variable, raw_values.get(name, ""))
        except ValueError as error:
            errors[name] = str(error)
    if errors:
        raise InputError(errors, {n: raw_values.get(n, "") for n in names})
    return cleaned


def branch_matches(branch, var_type, value, today):
    """Does one rule branch match? Missing or unreadable values never match."""
    if value in (None, ""):
        return False
    op, target = branch.get("op"), branch.get("value")
    try:
        if op in DATE_OPS:
            days = (today - datetime.date.fromisoformat(str(value))).days
            limit = decimal.Decimal(str(target))
            return days > limit if op == Operator.DAYS_SINCE_GT else days <= limit
        if var_type == VariableType.NUMBER:
            left, right = decimal.Decimal(str(value)), decimal.Decimal(str(target))
        else:
            left, right = str(value), str(target)
    except (ValueError, decimal.InvalidOperation, TypeError):
        return False
    return {
        Operator.EQ: left == right,
        Operator.NE: left != right,
        Operator.LT: left < right,
        Operator.LTE: left <= right,
        Operator.GT: left > right,
        Operator.GTE: left >= right,
    }.get(op, False)


def evaluate_rule(procedure, step, values, today):
    """``(target_key, description)``: the first matching branch wins, else the default."""
    types = procedure.variable_types()
    for branch in step.get("branches") or []:
        name = branch.get("variable")
        if branch_matches(branch, types.get(name, VariableType.TEXT), values.get(name), today):
            description = f"{name} {op_label(branch.get('op'))} {branch.get('value')}"
            return branch["next"], description
    return step.get("default"), "其他情况"


def op_label(op):
    """How a rule's comparison reads in the log and on the overview map: ``≤``, ``距今超过（天）``."""
    return Operator(op).label if op in Operator.values else op


def checklist_missing(step, checked):
    """The message for an instruction's unticked checklist items, or "" when all are ticked."""
    checked = set(checked)
    missing = [item for i, item in enumerate(step.get("checklist") or []) if i not in checked]
    return _("请先勾选：%(items)s") % {"items": "、".join(missing)} if missing else ""


def must_say_lines(step):
    """The titles of ``step``'s 必说 phrasings, in order, each once: what the agent ticks as 已说 and what
    ``RunEvent.said`` keeps. A must-say phrasing without a title is named by the start of its text."""
    lines = []
    for phrasing in step.get("phrasings") or []:
        if phrasing.get("must_say"):
            title = (phrasing.get("title") or "").strip() or (phrasing.get("text") or "").strip()[:40]
            if title and title not in lines:
                lines.append(title)
    return lines


def clean_said(step, said):
    """The ticked lines to keep for leaving ``step``: those of ``said`` that are its must-say lines, in
    the step's order; None for a step without must-say lines (nothing to tick, nothing kept)."""
    lines = must_say_lines(step)
    if not lines:
        return None
    ticked = set(said or ())
    return [line for line in lines if line in ticked]


def inputs_text(inputs, labels=None):
    """The values an input step collected, as one line: ``订单号：A100，少货金额（元）：30``.

    ``labels`` (``Procedure.labels()``) names each value as the rest of the run does; a name without
    one is shown as is.
    """
    labels = labels or {}
    return "，".join(
        f"{labels.get(name) or name}：{value}" for name, value in (inputs or {}).items() if value != ""
    )


def follow(procedure, key, values, today, limit=200):
    """Moves made automatically on entering ``key``; returns ``(moves, landing_key)``.

    ``landing_key`` is the interactive step the agent now faces, or None when an outcome
    step ended the run (its move carries the outcome).
    """
    moves = []
    for _hop in range(limit):
        step = procedure.step(key)
        kind = step.get("kind")
        if kind == StepKind.RULE:
            target, description = evaluate_rule(procedure, step, values, today)
            moves.append(
                Move(key, kind, step.get("title", ""), EventAction.RULE, answer=description, next_key=target)
            )
            key = target
        elif kind == StepKind.OUTCOME:
            moves.append(
                Move(key, kind, step.get("title", ""), EventAction.OUTCOME, outcome=step.get("outcome", ""))
            )
            return moves, None
        else:
            return moves, key
    raise MoveRejected("loop", _("规则步骤形成了循环，流程无法继续。"))


def act(procedure, key, action, *, values, today, answer=None, inputs=None, checked=()):
    """Apply the agent's ``action`` on step ``key``.

    Returns ``(moves, landing_key, new_values)``. ``answer`` is the answer's index for
    questions; ``inputs`` the values for input steps; ``checked`` the ticked checklist
    item indexes for instructions. The run's forms (``procedures.forms``) validate all of this
    first with the same functions; the engine checks again so that it never logs a move that
    does not fit. Raises MoveRejected / InputError without side effects.
    """
    step = procedure.step(key)
    kind = step.get("kind")
    title = step.get("title", "")
    values = dict(values)

    if action in ENDING_OUTCOMES:
        outcome = ENDING_OUTCOMES[action]
        return [Move(key, kind, title, EventAction(action), answer=outcome, outcome=outcome)], None, values

    if action == EventAction.ANSWER:
        if kind != StepKind.QUESTION:
            raise MoveRejected("not_a_question", _("当前步骤不是判断题，不能选择回答。"))
        answers = step.get("answers") or []
        try:
            index = int(answer)
        except (TypeError, ValueError):
            index = -1
        if not 0 <= index < len(answers):
            raise MoveRejected("invalid_answer", _("这个回答不属于当前步骤。"))
        chosen = answers[index]
        first = Move(
            key, kind, title, EventAction.ANSWER, answer=chosen.get("label", ""), next_key=chosen["next"]
        )
    elif action == EventAction.NEXT:
        if kind == StepKind.INSTRUCTION:
            missing = checklist_missing(step, checked)
            if missing:
                raise InputError({"checklist": missing})
            first = Move(key, kind, title, EventAction.NEXT, answer="继续", next_key=step["next"])
        elif kind == StepKind.INPUT:
            cleaned = clean_inputs(procedure, step.get("variables") or [], inputs or {})
            values.update(cleaned)
            first = Move(key, kind, title, EventAction.INPUT, inputs=cleaned, next_key=step["next"])
        else:
            raise MoveRejected("not_next", _("当前步骤需要选择一个回答。"))
    else:
        raise MoveRejected("unknown_action", _("无法识别的操作。"))

    moves, landing = follow(procedure, first.next_key, values, today)
    return [first, *moves], landing, values


def active_path(events):
    """The events still on the run's path after every Back, oldest first.

    ``events`` are objects or dicts with ``action``, ``step_key`` and (for back) ``next_key``:
    a Back event on step C going to step T removes T and everything after it from the path.
    """
    path = []
    for event in events:
        action = _get(event, "action")
        if action in FORWARD_ACTIONS:
            path.append(event)
        elif action == EventAction.BACK:
            target = _get(event, "next_key")
            while path:
                if _get(path.pop(), "step_key") == target:
                    break
    return path


def back_target(procedure, path_keys):
    """Where Back leads: the last interactive step on the path (rule steps re-run by themselves)."""
    for key in reversed(path_keys):
        if procedure.by_key.get(key, {}).get("kind") != StepKind.RULE:
            return key
    return None


def _get(obj, name):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name)


def format_duration(seconds):
    seconds = int(max(seconds or 0, 0))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}小时{minutes}分{seconds}秒"
    if minutes:
        return f"{minutes}分{seconds}秒"
    return f"{seconds}秒"


def call_summary(*, title, ref, variables, path, outcome, seconds, notes=()):
    """The 小结 an agent pastes into the ticket: plain text, one fact per line.

    ``path`` is ``[(step_title, answer_text), ...]``; ``variables`` ``[(label, value), ...]``.
    """
    lines = [f"【流程】{title}"]
    if ref:
        lines.append(f"【单号】{ref}")
    for label, value in variables:
        if value not in (None, ""):
            lines.append(f"【{label}】{value}")
    if path:
        lines.append("【经过】")
        for number, (step_title, answer) in enumerate(path, 1):
            lines.append(f"{number}. {step_title}" + (f" → {answer}" if answer else ""))
    lines.append(f"【结果】{outcome or '未完成'}（用时 {format_duration(seconds)}）")
    notes = [n for n in notes if n]
    if notes:
        lines.append("【备注】" + "；".join(notes))
    return "\n".join(lines)
