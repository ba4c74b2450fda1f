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
    ``unknown_step``, ``unknown_action``, ``not_a_question``, ``invalid_answer``, ``not_next``, ``loop``,
    ``sub_unavailable`` (a called procedure not live or deleted), ``sub_loop`` (a procedure calling
    itself, or nested too deep).
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


# Sub-procedures (子流程). A run that reaches a 子流程 step pins the called procedure's live revision
# under the calling step's key, its *scope*: the called steps are walked in the same run under keys
# ``<scope>/<inner key>`` (nested calls: ``verify/address/ask``), and one of its outcomes leads back to
# the calling step's ``next``, logged as that step's move (answer ``身份核验：已核实``).
SCOPE_SEP = "/"
# The step a called procedure starts with when values it requires at start are still missing: an
# input step of its own ("_" is not allowed in editors' keys, so it never clashes with one).
SUB_START_INPUTS = "_start"
MAX_SUB_DEPTH = 5
MAX_KEY_LENGTH = 64  # RunEvent.step_key, ProcedureRun.current_step


def scope_of(key):
    """The scope a step key belongs to: ``""`` for the run's own procedure, else the calling steps."""
    return (key or "").rpartition(SCOPE_SEP)[0]


def scopes_around(key):
    """Every scope ``key`` is inside, outermost first: ``a/b/c`` → ``["a", "a/b"]``."""
    parts = (key or "").split(SCOPE_SEP)[:-1]
    return [SCOPE_SEP.join(parts[: i + 1]) for i in range(len(parts))]


def _in_scope(key, scope):
    return f"{scope}{SCOPE_SEP}{key}" if key else ""


def scoped_step(step, scope):
    """A called procedure's step as the run sees it: its key and every arrow inside ``scope``."""
    scoped = {**step, "key": _in_scope(step["key"], scope)}
    if "next" in step:
        scoped["next"] = _in_scope(step.get("next"), scope)
    if "default" in step:
        scoped["default"] = _in_scope(step.get("default"), scope)
    for name in ("answers", "branches"):
        if name in step:
            scoped[name] = [{**item, "next": _in_scope(item.get("next"), scope)} for item in step[name]]
    return scoped


@dataclass
class Subprocedure:
    """A called procedure pinned in a run: the page, its revision live when the run entered it, and its
    steps and variables as they were then."""

    scope: str
    page: int | None
    revision: int | None
    title: str
    procedure: "Procedure"

    def to_dict(self):
        return {
            "page": self.page,
            "revision": self.revision,
            "title": self.title,
            "definition": self.procedure.to_dict(),
        }


class Procedure:
    """A procedure's steps and variables, as plain data (from one page revision).

    In a run it also holds the sub-procedures the run has entered (``subprocedures``, by scope): their
    steps are in ``by_key`` under scoped keys and their variables join ``variables`` by name (the
    run's own definition of a name wins), while ``steps`` stays the procedure's own.
    """

    def __init__(self, steps, variables=(), outcomes=None, title="", page=None):
        self.steps = list(steps)
        self.by_key = {s["key"]: s for s in self.steps}
        self.variables = {v.name: v for v in variables}
        self.own_variables = list(self.variables)
        self.outcomes = list(outcomes or DEFAULT_OUTCOMES)
        self.title = title
        self.page = page
        self.subprocedures = {}

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
        return [
            name for name in self.own_variables if self.variables[name].required and name not in collected
        ]

    def to_dict(self):
        """Plain JSON-able data: what a run keeps as its snapshot of the procedure (and of the
        sub-procedures it has entered)."""
        data = {
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
                for v in (self.variables[name] for name in self.own_variables)
            ],
            "outcomes": self.outcomes,
        }
        if self.page is not None:
            data["page"] = self.page
        if self.subprocedures:
            data["subprocedures"] = {scope: sub.to_dict() for scope, sub in self.subprocedures.items()}
        return data

    @classmethod
    def from_dict(cls, data):
        procedure = cls(
            data.get("steps", []),
            [Variable(**v) for v in data.get("variables", [])],
            outcomes=data.get("outcomes"),
            title=data.get("title", ""),
            page=data.get("page"),
        )
        subs = data.get("subprocedures") or {}
        for scope in sorted(subs, key=lambda s: (s.count(SCOPE_SEP), s)):
            sub = subs[scope]
            procedure.pin(
                scope,
                sub.get("page"),
                sub.get("revision"),
                sub.get("title", ""),
                cls.from_dict(sub["definition"]),
            )
        return procedure

    def copy(self):
        """A procedure of its own for one run (pinning changes it; cached procedures must not change)."""
        return Procedure.from_dict(self.to_dict())

    def fork(self):
        """``copy()`` without rebuilding: a procedure of its own whose mappings pinning changes
        (``by_key``, ``variables``, ``subprocedures``) are its own, sharing the steps, which nothing
        changes (a pinned step is a new dict, ``scoped_step``)."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.by_key = dict(self.by_key)
        twin.variables = dict(self.variables)
        twin.subprocedures = dict(self.subprocedures)
        return twin

    # --- sub-procedures -------------------------------------------------------------------------

    def pin(self, scope, page, revision, title, called):
        """Walk ``called`` (one revision of the procedure ``page``) inside this run under ``scope``."""
        self.subprocedures[scope] = Subprocedure(scope, page, revision, title, called)
        for step in called.steps:
            scoped = scoped_step(step, scope)
            self.by_key[scoped["key"]] = scoped
        for name, variable in called.variables.items():
            self.variables.setdefault(name, variable)
        needed = called.required_at_start()
        if needed and called.start_key:
            key = _in_scope(SUB_START_INPUTS, scope)
            self.by_key[key] = {
                "key": key,
                "kind": StepKind.INPUT,
                "title": _("%(title)s：需要的信息") % {"title": title},
                "variables": needed,
                "next": _in_scope(called.start_key, scope),
                "text_html": "",
                "phrasings": [],
            }

    def subprocedure_of(self, key):
        """The pinned sub-procedure whose step ``key`` is, or None for the run's own steps."""
        return self.subprocedures.get(scope_of(key))

    def revision_of(self, key, own_revision):
        """The revision step ``key`` came from: its sub-procedure's pinned one, or ``own_revision``."""
        sub = self.subprocedure_of(key)
        return sub.revision if sub else own_revision

    def scope_titles(self, key):
        """The titles of the sub-procedures ``key`` is inside, outermost first."""
        return [self.subprocedures[s].title for s in scopes_around(key) if s in self.subprocedures]

    def display_title(self, key, title):
        """A step's title with the sub-procedures it is in: ``身份核验 › 核对姓名``."""
        return " › ".join([*self.scope_titles(key), title])

    def enter(self, key, values, load):
        """The step to go to on reaching the 子流程 step ``key``: pins the called procedure first (the
        first time only: leaving and entering again keeps the revision pinned).

        ``load(page_id)`` returns ``(revision_id, title, Procedure)`` for the page's live revision,
        or None when the page is not live or gone.
        """
        step = self.step(key)
        if key not in self.subprocedures:
            page = step.get("procedure")
            chain = [
                self.page,
                *(self.subprocedures[s].page for s in scopes_around(key) if s in self.subprocedures),
            ]
            if page is not None and page in chain:
                raise MoveRejected(
                    "sub_loop",
                    _(
                        "子流程“%(title)s”调用了正在运行的流程，会无限循环，无法进入；请升级或转接，并告知流程负责人。"
                    )
                    % {"title": step.get("title", "")},
                )
            if key.count(SCOPE_SEP) + 1 > MAX_SUB_DEPTH:
                raise MoveRejected(
                    "sub_loop",
                    _("子流程嵌套超过 %(depth)d 层，无法进入；请升级或转接，并告知流程负责人。")
                    % {"depth": MAX_SUB_DEPTH},
                )
            loaded = load(page) if (load is not None and page) else None
            if loaded is None:
                raise MoveRejected(
                    "sub_unavailable",
                    _(
                        "子流程“%(title)s”要运行的流程没有发布或已被删除，无法进入；请升级或转接，并告知流程负责人。"
                    )
                    % {"title": step.get("title", "")},
                )
            revision, title, called = loaded
            longest = max((len(k) for k in called.by_key), default=0)
            if len(key) + len(SCOPE_SEP) + max(longest, len(SUB_START_INPUTS)) > MAX_KEY_LENGTH:
                raise MoveRejected(
                    "sub_loop",
                    _(
                        "子流程嵌套太深（步骤标识超过 %(n)d 个字符），无法进入；请升级或转接，并告知流程负责人。"
                    )
                    % {"n": MAX_KEY_LENGTH},
                )
            self.pin(key, page, revision, title, called)
        sub = self.subprocedures[key]
        inputs = self.by_key.get(_in_scope(SUB_START_INPUTS, key))
        if inputs and any(values.get(name) in (None, "") for name in inputs["variables"]):
            return inputs["key"]
        if not sub.procedure.start_key:
            raise MoveRejected(
                "sub_unavailable", _("子流程“%(title)s”没有步骤，无法进入。") % {"title": sub.title}
            )
        return _in_scope(sub.procedure.start_key, key)


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


def follow(procedure, key, values, today, limit=200, load=None):
    """Moves made automatically on entering ``key``; returns ``(moves, landing_key)``.

    ``landing_key`` is the interactive step the agent now faces, or None when an outcome
    step ended the run (its move carries the outcome). A 子流程 step enters the called procedure
    (``Procedure.enter``, with ``load``); an outcome inside one returns to the calling step's
    ``next``, logged as a move of the calling step whose answer names the outcome.
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
        elif kind == StepKind.SUBPROCEDURE:
            key = procedure.enter(key, values, load)
        elif kind == StepKind.OUTCOME and scope_of(key) in procedure.subprocedures:
            scope = scope_of(key)
            calling = procedure.step(scope)
            answer = f"{procedure.subprocedures[scope].title}：{step.get('outcome', '')}"
            moves.append(
                Move(
                    scope,
                    StepKind.SUBPROCEDURE,
                    calling.get("title", ""),
                    EventAction.NEXT,
                    answer=answer,
                    next_key=calling.get("next"),
                )
            )
            key = calling.get("next")
        elif kind == StepKind.OUTCOME:
            moves.append(
                Move(key, kind, step.get("title", ""), EventAction.OUTCOME, outcome=step.get("outcome", ""))
            )
            return moves, None
        else:
            return moves, key
    raise MoveRejected("loop", _("规则步骤形成了循环，流程无法继续。"))


def act(procedure, key, action, *, values, today, answer=None, inputs=None, checked=(), load=None):
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

    moves, landing = follow(procedure, first.next_key, values, today, load=load)
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


AUTOMATIC_KINDS = (StepKind.RULE, StepKind.SUBPROCEDURE)


def back_target(procedure, path_keys):
    """Where Back leads: the last interactive step on the path (rule steps re-run by themselves, and a
    子流程 step's move is the called procedure's return: Back goes into it, to its last step)."""
    for key in reversed(path_keys):
        if procedure.by_key.get(key, {}).get("kind") not in AUTOMATIC_KINDS:
            return key
    return None


def scope_step_number(procedure, path_keys, key):
    """Which step of its sub-procedure ``key`` is (1 for the first), counting the interactive steps of
    that sub-procedure on the path since the run last entered it."""
    scope = scope_of(key)
    number = 1
    for done in reversed(path_keys):
        if not done.startswith(scope + SCOPE_SEP):
            break
        if scope_of(done) == scope and procedure.by_key.get(done, {}).get("kind") not in AUTOMATIC_KINDS:
            number += 1
    return number


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


def call_summary(*, title, ref, variables, path, outcome, seconds, notes=(), came_from=""):
    """The 小结 an agent pastes into the ticket: plain text, one fact per line.

    ``path`` is ``[(step_title, answer_text), ...]``; ``variables`` ``[(label, value), ...]``;
    ``came_from`` the title of the procedure whose outcome led into this run.
    """
    lines = [f"【流程】{title}"]
    if came_from:
        lines.append(f"【来源】由“{came_from}”转入")
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
