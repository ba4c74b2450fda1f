"""The admin editors' forms for training snippets (each the ``base_form_class`` of its viewset's panels).

- ``QuestionAdminForm``: the options written in the inline panel must fit the question's type
  (``Question.check_options``), so a 单选 with two right answers never reaches a quiz.
- ``ScenarioCardAdminForm``: the golden path is chosen from the procedure's live steps (checkboxes in
  procedure order) instead of typed as JSON; a new card, whose procedure is not known when the form is
  drawn, takes step keys one per line, checked by ``ScenarioCard.clean``.
- ``PathAssignmentAdminForm``, ``CohortAdminForm``: people offered by name, as the rest of training shows
  them; a cohort's members are ticked among new hires and agents.
- ``LearningPathAdminForm``: automatic assignment offers Callbook's roles only.
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from kb_site.content import roles

from .choices import QuestionType
from .models import Question
from .models.paths import trainee_name

__all__ = [
    "CohortAdminForm",
    "LearningPathAdminForm",
    "PathAssignmentAdminForm",
    "QuestionAdminForm",
    "ScenarioCardAdminForm",
]


class QuestionAdminForm(WagtailAdminModelForm):
    """A question whose options (the ``options`` inline formset) fit its type."""

    def clean(self):
        cleaned_data = super().clean()
        formset = self.formsets.get("options")
        if formset is None or not formset.is_valid():
            return cleaned_data  # the formset shows its own errors
        problem = Question(type=cleaned_data.get("type") or QuestionType.SINGLE).check_options(
            self.kept_options(formset)
        )
        if problem:
            self.add_error(None, problem)
        return cleaned_data

    @staticmethod
    def kept_options(formset):
        """The options the editor keeps: filled-in forms not marked for deletion, as plain dicts."""
        return [
            {"text": form.cleaned_data.get("text", ""), "correct": bool(form.cleaned_data.get("correct"))}
            for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


def step_label(step):
    title = step.get("title") or ""
    return f"{title}（{step['key']}）" if title and title != step["key"] else step["key"]


class ScenarioCardAdminForm(WagtailAdminModelForm):
    """The golden path as checkboxes of the live procedure's steps, or, before there is a procedure to
    read them from, as step keys one per line."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.steps = self.instance.live_steps() if self.instance.procedure_id else []
        current = self.instance.golden_path if isinstance(self.instance.golden_path, list) else []
        if self.steps:
            self.fields["golden_path"] = forms.MultipleChoiceField(
                label=_("标准路径"),
                required=False,
                choices=[(step["key"], step_label(step)) for step in self.steps],
                widget=forms.CheckboxSelectMultiple,
                help_text=_(
                    "勾选好的坐席经过的步骤（按流程顺序列出，取自流程的已发布版本）；更换流程后请先保存，再勾选新流程的步骤"
                ),
            )
            self.initial["golden_path"] = [str(key) for key in current]
        else:
            self.fields["golden_path"] = forms.CharField(
                label=_("标准路径"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 6}),
                help_text=_(
                    "每行一个步骤标识，按经过的顺序；保存时会核对流程的已发布版本。保存后再编辑，可以直接勾选流程的步骤"
                ),
            )
            self.initial["golden_path"] = "\n".join(str(key) for key in current)

    def clean_golden_path(self):
        value = self.cleaned_data.get("golden_path")
        if isinstance(value, str):
            return [line.strip() for line in value.splitlines() if line.strip()]
        order = {step["key"]: index for index, step in enumerate(self.steps)}
        return sorted(dict.fromkeys(value or []), key=lambda key: order.get(key, len(order)))


def person_label(user):
    return f"{trainee_name(user)}（{user.get_username()}）"


class PeopleByNameForm(WagtailAdminModelForm):
    """People offered by name (``trainee_name``), not by username alone, and only active accounts."""

    people_fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.people_fields:
            field = self.fields.get(name)
            if field is not None and hasattr(field, "label_from_instance"):
                field.label_from_instance = person_label
                field.queryset = field.queryset.filter(is_active=True).order_by(
                    "last_name", "first_name", "username"
                )


class PathAssignmentAdminForm(PeopleByNameForm):
    people_fields = ("user", "mentor")


class CohortAdminForm(PeopleByNameForm):
    """Members are ticked among the people who take calls, new hires and agents learning a new line (and
    whoever is already a member), by name: not every account the site has."""

    people_fields = ("mentor", "members")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        members = self.fields.get("members")
        if members is not None:
            current = self.instance.members.all() if self.instance.pk else members.queryset.none()
            trainees = members.queryset.filter(groups__name__in=[roles.NEW_HIRE, roles.AGENT])
            members.widget = forms.CheckboxSelectMultiple()
            # Setting the queryset also gives the new widget its choices.
            members.queryset = (trainees | members.queryset.filter(pk__in=current)).distinct()


class LearningPathAdminForm(WagtailAdminModelForm):
    """Only Callbook's roles are offered for automatic assignment (not Wagtail's Editors / Moderators)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        groups = self.fields.get("auto_groups")
        if groups is not None:
            groups.queryset = groups.queryset.filter(name__in=roles.ALL_ROLES)
