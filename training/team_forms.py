"""The forms of the team pages (``training.team_views``): every manual change says why.

Each form only checks its input; the view finds the row the user may change and calls
``training.progress``, whose ``NotAllowed`` is shown the same way as a form error.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from kb_site.reports import MAX_ID

from .choices import SETTABLE

__all__ = ["LicenceForm", "SignOffForm", "StatusChangeForm"]


def reason_field(placeholder):
    return forms.CharField(
        label=_("原因"),
        max_length=2000,
        strip=True,
        error_messages={"required": _("请填写原因。"), "max_length": _("原因最多 2000 个字。")},
        widget=forms.TextInput(attrs={"placeholder": placeholder, "maxlength": 2000}),
    )


class SignOffForm(forms.Form):
    """带教确认 of one row of the sign-off queue."""

    progress = forms.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        widget=forms.HiddenInput,
        error_messages={"required": _("没有指明要确认的项目。"), "invalid": _("没有指明要确认的项目。")},
    )
    reason = reason_field(_("例如：跟岗表现合格"))


class StatusChangeForm(forms.Form):
    """A manual status change of one item: any status but 逾期 (which is only ever shown)."""

    status = forms.ChoiceField(
        label=_("新状态"),
        choices=[(status.value, status.label) for status in SETTABLE],
        error_messages={
            "required": _("请选择新状态。"),
            "invalid_choice": _("不能设为这个状态。"),
        },
    )
    reason = reason_field(_("例如：复训后需重新阅读"))


class LicenceForm(forms.Form):
    """上岗资格 granted by hand for one of the procedures the trainee's path practises."""

    procedure = forms.TypedChoiceField(
        label=_("流程"),
        coerce=int,
        error_messages={
            "required": _("请选择流程。"),
            "invalid_choice": _("这个流程不在学员的练习项目中，或已有上岗资格。"),
        },
    )
    reason = reason_field(_("例如：老员工转岗，已熟悉该流程"))

    def __init__(self, *args, procedures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.procedures = {page.pk: page for page in procedures}
        self.fields["procedure"].choices = [(page.pk, page.title) for page in self.procedures.values()]

    def clean_procedure(self):
        return self.procedures[self.cleaned_data["procedure"]]
