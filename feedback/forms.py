"""The forms of feedback: sending one, the owner's actions, the reporter's answer, the list filter."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Revision

from kb_site.content.profiles import person_name

from .choices import FeedbackKind, FeedbackStatus
from .models import TEXT_MAX_LENGTH


class FeedbackForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=FeedbackKind.choices,
        # autofocus: opened in place by htmx, the form takes the keyboard at its first choice.
        widget=forms.RadioSelect(attrs={"autofocus": True}),
        error_messages={"required": _("请选择反馈类型。"), "invalid_choice": _("请选择列出的反馈类型。")},
    )
    text = forms.CharField(
        label=_("说明"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("请写下哪里有问题、应该怎样。"),
            "max_length": _("说明最多 %(limit_value)d 个字（现在 %(show_value)d 个）。"),
        },
    )

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("请写下哪里有问题、应该怎样。"))
        return text


class Action:
    FIX = "fix"
    REJECT = "reject"
    ASK = "ask"
    ALL = (FIX, REJECT, ASK)


def newer_revisions(feedback):
    """Revisions of the content the feedback is about, newer than the one reported (newest first)."""
    reported = feedback.revision
    if reported is None:
        revisions = feedback.page.specific_deferred.revisions
    else:
        revisions = Revision.objects.filter(
            base_content_type_id=reported.base_content_type_id,
            object_id=reported.object_id,
            pk__gt=reported.pk,
        )
    return revisions.order_by("-created_at", "-pk")


class RevisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, revision):
        when = timezone.localtime(revision.created_at).strftime("%Y-%m-%d %H:%M")
        who = person_name(revision.user)
        return f"#{revision.pk} · {when}" + (f" · {who}" if who else "")


class HandleForm(forms.Form):
    """One of the owner's actions: 已修正 (with the new revision), 不采纳 (with a reason), 需补充信息 (a question)."""

    action = forms.ChoiceField(
        choices=[(Action.FIX, _("已修正")), (Action.REJECT, _("不采纳")), (Action.ASK, _("需补充信息"))],
        error_messages={"invalid_choice": _("没有这个操作。"), "required": _("没有这个操作。")},
    )
    revision = RevisionChoiceField(
        label=_("修正版本"),
        queryset=Revision.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("请选择比反馈时更新的版本。")},
    )
    note = forms.CharField(label=_("说明"), required=False, max_length=TEXT_MAX_LENGTH)

    def __init__(self, feedback, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.feedback = feedback
        self.fields["revision"].queryset = newer_revisions(feedback).select_related("user")

    def clean(self):
        data = super().clean()
        action = data.get("action")
        note = (data.get("note") or "").strip()
        data["note"] = note
        if action == Action.FIX and not data.get("revision") and "revision" not in self.errors:
            self.add_error("revision", _("请选择修正后的版本（比反馈时的版本新）。"))
        if action == Action.REJECT and not note:
            self.add_error("note", _("不采纳时请写明原因。"))
        if action == Action.ASK and not note:
            self.add_error("note", _("请写下需要反馈人补充什么。"))
        return data


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("补充信息"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请写下补充的信息。")},
    )

    def clean_answer(self):
        answer = self.cleaned_data["answer"].strip()
        if not answer:
            raise forms.ValidationError(_("请写下补充的信息。"))
        return answer


class ListFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("未处理（待处理、需补充信息）")), ("all", _("全部"))] + FeedbackStatus.choices,
    )
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部类型"))] + FeedbackKind.choices
    )
