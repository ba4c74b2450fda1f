"""The forms an agent posts: starting a run (``StartForm``) and acting on one step (``MoveForm``).

Both are built from the procedure, as ``wagtail.contrib.forms`` builds a form from its fields:
one ``VariableField`` per variable (checked by ``engine.clean_value``, so a value is judged the
same wherever it is entered), and for a step its answers, its checklist and the values it collects.
A view only routes: ``form.is_valid()``, then a small method that records the result.

A value the agent typed that does not fit is shown again next to its field. A move that does not
fit the run any more (a double submit, a stale window, a finished run, an unknown button) is
*refused*: ``MoveForm.rejection()`` gives the ``MoveRejected`` to show instead of the form.
"""

import copy
import dataclasses

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kb_site.content.profiles import agent_name
from zhtext import clean_text

from . import engine
from .choices import (
    AGENT_ACTIONS,
    ENDING_ACTIONS,
    ENDING_FOLLOW_UP_KINDS,
    EventAction,
    StepKind,
    VariableType,
)

VARIABLE_PREFIX = "v-"
NOTE_MAX_LENGTH = 2000

# Fields whose errors mean "this move does not fit the run": refused, not shown on the form.
MOVE_FIELDS = ("step", "seq", "action", "answer")


class CleanTextField(forms.CharField):
    """Text as it may be stored (``zhtext.clean_text``), cleaned before Django's own checks: a stray NUL
    or control character pasted from a ticket system becomes a space, not an error or a broken export."""

    def __init__(self, *, multiline=False, **kwargs):
        self.multiline = multiline
        super().__init__(**kwargs)

    def to_python(self, value):
        return clean_text(super().to_python(value), multiline=self.multiline)


class VariableField(forms.CharField):
    """One procedure variable, cleaned by its type (number, date, choice or text)."""

    def __init__(self, variable, *, required_message=None, **kwargs):
        self.variable = variable
        self.required_message = required_message or engine.required_message(variable)
        widgets = {
            VariableType.CHOICE: forms.Select(choices=[("", "—"), *((c, c) for c in variable.choices)]),
            VariableType.DATE: forms.DateInput(attrs={"type": "date"}),
            VariableType.NUMBER: forms.TextInput(attrs={"inputmode": "decimal"}),
        }
        super().__init__(
            label=variable.display_label,
            required=variable.required,
            widget=widgets.get(variable.type, forms.TextInput()),
            **kwargs,
        )

    def clean(self, value):
        if self.required and not clean_text(value or ""):
            raise ValidationError(self.required_message, code="required")
        try:
            return engine.clean_value(self.variable, value)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid") from None


class VariableFieldsMixin:
    """Adds a ``v-<name>`` field per variable and reads them back as ``{name: value}``."""

    def add_variable_fields(self, variables, required_message=None):
        for variable in variables:
            self.fields[VARIABLE_PREFIX + variable.name] = VariableField(
                variable,
                required_message=required_message and required_message % {"label": variable.display_label},
            )

    def variable_fields(self):
        """The bound variable fields, in order, for the template."""
        return [self[name] for name in self.fields if name.startswith(VARIABLE_PREFIX)]

    def variable_values(self):
        return {
            name[len(VARIABLE_PREFIX) :]: value
            for name, value in self.cleaned_data.items()
            if name.startswith(VARIABLE_PREFIX)
        }


class StartForm(VariableFieldsMixin, forms.Form):
    """Starting a run: the procedure's variables, a ticket reference, practice.

    A variable is required here when it is marked required and no input step collects it
    (``Procedure.required_at_start``): nothing later would ask for it. The others are optional.
    """

    ref = CleanTextField(label=_("工单/来电编号"), required=False)
    practice = forms.BooleanField(label=_("练习模式（不计入统计）"), required=False)

    def __init__(self, procedure, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        # A start link fills in what it knows; what the call has not told yet is collected later, by the
        # input step that asks for it.
        required = set(procedure.required_at_start())
        self.add_variable_fields(
            (dataclasses.replace(v, required=v.name in required) for v in procedure.variables.values()),
            required_message=_("开始前请填写“%(label)s”：流程中的话术要用到它。"),
        )

    @classmethod
    def prefilled(cls, procedure, query, practice=False):
        """The unbound form of a procedure page: variables and ``ref`` from its query string."""
        initial = {VARIABLE_PREFIX + name: query.get(name, "")[:500] for name in procedure.variables}
        return cls(procedure, initial={**initial, "ref": query.get("ref", "")[:100], "practice": practice})

    def clean_ref(self):
        return self.cleaned_data["ref"][:100]

    def start_values(self):
        """The variables to start with: the ones given, empty ones left out."""
        return {name: value for name, value in self.variable_values().items() if value != ""}


# To whom an ending (升级, 转接) hands the run over: only on the forms that post an ending (the confirming
# screen and its post), not on every step page and move, which would copy both choice fields for nothing.
HANDOFF_FIELDS = {
    "handoff_group": forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        label=_("转交给组"),
        error_messages={"invalid_choice": _("没有这个组。")},
    ),
    "handoff_user": forms.ModelChoiceField(
        queryset=get_user_model()
        .objects.filter(is_active=True)
        .order_by("last_name", "first_name", "username"),
        required=False,
        label=_("转交给人"),
        error_messages={"invalid_choice": _("没有这个用户（或已停用）。")},
    ),
}


class MoveForm(VariableFieldsMixin, forms.Form):
    """One action on the step a run is at: built from the step's kind, answers, checklist and inputs.

    ``step`` and ``seq`` are the step and event number the form was shown for: a form posted twice,
    or from a window left behind, no longer matches the run and is refused. Only 继续 (``next``)
    submits the step's values; Back and the endings ignore them (their buttons skip the browser's
    checks too).
    """

    step = forms.CharField(widget=forms.HiddenInput, required=False)
    seq = forms.IntegerField(widget=forms.HiddenInput, required=False)
    action = forms.ChoiceField(
        choices=[(action.value, action.label) for action in AGENT_ACTIONS],
        required=False,
        error_messages={"invalid_choice": _("无法识别的操作。")},
    )
    note = CleanTextField(
        multiline=True,
        label=_("备注（随这一步保存）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Ending with 升级 / 转接 / 客户放弃 is confirmed on a second screen, with a reason and (升级, 转接) to whom.
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    reason = CleanTextField(
        multiline=True, label=_("原因"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, run, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.run = run
        self.confirming_ending = None  # the ending asked for and to be confirmed, once cleaned
        if self.is_bound and self.posted_action() in ENDING_ACTIONS:
            self.fields.update(copy.deepcopy(HANDOFF_FIELDS))
            self.fields["handoff_user"].label_from_instance = lambda u: (
                f"{agent_name(u)}（{u.get_username()}）" if agent_name(u) else u.get_username()
            )
        self.procedure = run.get_procedure()
        self.step_def = self.procedure.by_key.get(run.current_step, {})
        kind = self.step_def.get("kind")
        answers = self.step_def.get("answers") or []
        if kind == StepKind.QUESTION:
            self.fields["answer"] = forms.TypedChoiceField(
                choices=[(str(index), answer.get("label")) for index, answer in enumerate(answers)],
                coerce=int,
                required=False,
                error_messages={"invalid_choice": _("这个回答不属于当前步骤。")},
            )
        self.add_said_field()
        if self.is_bound and self.posted_action() != EventAction.NEXT:
            return
        if kind == StepKind.INSTRUCTION and self.step_def.get("checklist"):
            self.fields["check"] = forms.TypedMultipleChoiceField(
                choices=[(str(index), item) for index, item in enumerate(self.step_def["checklist"])],
                coerce=int,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
        if kind == StepKind.INPUT:
            self.add_variable_fields(
                self.procedure.variables.get(name) or engine.Variable(name=name)
                for name in self.step_def.get("variables") or []
            )
            self.initial.update({VARIABLE_PREFIX + name: value for name, value in run.variables.items()})

    def add_said_field(self):
        """已说 tick boxes for the step's 必说 lines (not on Back, which keeps nothing of the step).

        Unticked lines never stop a move (the call may go another way); the page reminds the agent of
        them instead. A posted title that is not one of this step's must-say lines is refused.
        """
        self.must_say_lines = engine.must_say_lines(self.step_def)
        if not self.must_say_lines or (self.is_bound and self.posted_action() == EventAction.BACK):
            return
        self.fields["said"] = forms.MultipleChoiceField(
            choices=[(line, line) for line in self.must_say_lines],
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label=_("已说"),
            error_messages={
                "invalid_choice": _("“%(value)s”不是这一步的必说话术，没有保存；请刷新页面后重新勾选。")
            },
        )
        self.initial["said"] = self.said_before_back()

    def said_before_back(self):
        """Back to this step: what was ticked when it was left (the move Back undid), ticked again."""
        events = self.run.logged_events
        if (
            not events
            or events[-1].action != EventAction.BACK
            or events[-1].next_key != self.run.current_step
        ):
            return []
        for event in reversed(events[:-1]):
            if event.step_key == self.run.current_step and event.action != EventAction.BACK:
                return list(event.said or [])
        return []

    def said_ticked(self):
        """The must-say lines ticked on the form as shown (posted, else ticked before a Back)."""
        if "said" not in self.fields:
            return []
        value = self["said"].value() or []
        return [line for line in self.must_say_lines if line in value]

    def said_unticked(self):
        """How many must-say lines are not ticked yet: the reminder by the buttons."""
        return len(self.must_say_lines) - len(self.said_ticked())

    def posted_action(self):
        """The button pressed: an answer button posts ``answer``, the others ``action``."""
        return EventAction.ANSWER if "answer" in self.data else self.data.get("action", "")

    def clean_note(self):
        return self.cleaned_data["note"].strip()[:NOTE_MAX_LENGTH]

    def clean_check(self):
        checked = self.cleaned_data["check"]
        missing = engine.checklist_missing(self.step_def, checked)
        if missing:
            raise ValidationError(missing, code="unticked")
        return checked

    def clean(self):
        cleaned = super().clean()
        # The run's own checks, made again by apply_move under lock: a refusal outranks value errors.
        rejected = self.run.refusal(cleaned.get("step"), cleaned.get("seq"))
        if rejected:
            raise ValidationError(rejected.message, code=rejected.code)
        action = self.posted_action()
        if action == EventAction.ANSWER and "answer" not in self.fields:
            raise ValidationError(_("当前步骤不是判断题，不能选择回答。"), code="not_a_question")
        if not action:
            raise ValidationError(_("无法识别的操作。"), code="unknown_action")
        cleaned["action"] = action
        if action in ENDING_ACTIONS:
            self.clean_ending(action, cleaned)
        return cleaned

    def clean_ending(self, action, cleaned):
        """An ending needs a second, confirming post with a reason and, to hand over, a group or person."""
        self.confirming_ending = EventAction(action)
        if not cleaned.get("confirm"):
            return
        if not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("请填写原因。"))
        if action in ENDING_FOLLOW_UP_KINDS and not (
            cleaned.get("handoff_group") or cleaned.get("handoff_user")
        ):
            self.add_error("handoff_group", _("请选择转交给哪个组或哪个人。"))

    @property
    def needs_confirmation(self):
        """An ending asked for without its confirmation: show the confirming screen, record nothing."""
        return self.confirming_ending is not None and not self.cleaned_data.get("confirm")

    def rejection(self):
        """The ``MoveRejected`` to show when the move itself does not fit, else None."""
        errors = self.errors.as_data()
        for name in (forms.forms.NON_FIELD_ERRORS, *MOVE_FIELDS):
            for error in errors.get(name, []):
                return engine.MoveRejected(error.code or "invalid", " ".join(error.messages))
        return None

    def move(self):
        """The cleaned move, as ``runs.apply_move`` takes it."""
        data = self.cleaned_data
        return {
            "step": data["step"],
            "seq": data["seq"],
            "action": data["action"],
            "answer": data.get("answer"),
            "inputs": self.variable_values(),
            "checked": tuple(data.get("check") or ()),
            "note": data["note"],
            "said": data.get("said") or [],
            **self.ending(),
        }

    def ending(self):
        """For an ending: its reason (also logged as the event's note) and to whom it is handed over."""
        if self.confirming_ending is None:
            return {}
        data = self.cleaned_data
        reason = (data.get("reason") or "").strip()[:NOTE_MAX_LENGTH]
        return {
            "note": "\n".join(part for part in (reason, data["note"]) if part)[:NOTE_MAX_LENGTH],
            "handoff": {
                "reason": reason,
                "group": data.get("handoff_group")
                if self.confirming_ending in ENDING_FOLLOW_UP_KINDS
                else None,
                "user": data.get("handoff_user")
                if self.confirming_ending in ENDING_FOLLOW_UP_KINDS
                else None,
            },
        }

    def answer_buttons(self):
        """``[(index, key, label)]``: each answer a button, keys 1–9 for the first nine."""
        return [
            (index, index + 1 if index < 9 else None, answer.get("label"))
            for index, answer in enumerate(self.step_def.get("answers") or [])
        ]

    def checklist_items(self):
        """``[(index, label, checked)]`` for the template (ticked ones stay ticked after an error)."""
        ticked = set(self["check"].value() or ()) if self.is_bound and "check" in self.fields else set()
        return [
            (index, item, str(index) in ticked)
            for index, item in enumerate(self.step_def.get("checklist") or [])
        ]
