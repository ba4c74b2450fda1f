"""The forms of the follow-up pages: the queue's filters, an attempt, closing, reassigning, marking
notices read. Each checks what the page can check (a tampered time, an unknown result, a user who may
not work follow-ups); ``followups.handling`` checks again under lock, and its refusal is shown the same
way as a form error."""

import datetime
import heapq

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kb_site.content.models import SectionPage
from kb_site.content.profiles import person_name
from procedures.forms import CleanTextField
from procedures.models import ProcedurePage

from .choices import AttemptResult, FollowUpKind, Status
from .models import FollowUp, FollowUpSettings

__all__ = [
    "AttemptForm",
    "CloseForm",
    "QueueFilterForm",
    "ReassignForm",
    "display_name",
    "workers",
]

# How far ahead a 约定时间再联系 may be (handling refuses the same).
MAX_RESCHEDULE = datetime.timedelta(days=90)
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def display_name(user):
    if user is None:
        return "—"
    return person_name(user)


def workers():
    """Active users who may work follow-ups (``work_followup`` through a group, directly, or superuser)."""
    permission = Permission.objects.filter(content_type__app_label="followups", codename="work_followup")
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True) | Q(groups__permissions__in=permission) | Q(user_permissions__in=permission)
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        name = display_name(user)
        return name if name == user.get_username() else f"{name}（{user.get_username()}）"


FILTER_OPTIONS_SECONDS = 60


class QueueFilterForm(forms.Form):
    """The queue's tab and filters (GET). An unknown value in a filter is dropped with a message."""

    QUEUES = [
        ("mine", _("我的")),
        ("group", _("本组")),
        ("today", _("今日到期")),
        ("soon", _("即将超时")),
        ("overdue", _("已超时")),
        ("all", _("全部")),
    ]

    queue = forms.ChoiceField(choices=QUEUES, required=False)
    kind = forms.ChoiceField(label=_("类型"), choices=[("", "全部"), *FollowUpKind.choices], required=False)
    procedure = forms.ModelChoiceField(
        label=_("流程"), queryset=ProcedurePage.objects.order_by("title"), required=False, empty_label="全部"
    )
    section = forms.ModelChoiceField(
        label=_("业务栏目"), queryset=SectionPage.objects.order_by("path"), required=False, empty_label="全部"
    )
    assignee = UserChoiceField(label=_("处理人"), queryset=None, required=False, empty_label="全部")
    status = forms.ChoiceField(label=_("状态"), choices=[("", "未关闭"), *Status.choices], required=False)

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["assignee"].queryset = workers()
        if not self.sees_all:
            self.fields["queue"].choices = self.QUEUES[:-1]

    @property
    def sees_all(self):
        return self.user.is_superuser or self.user.has_perm("followups.view_all_followups")

    def clean_queue(self):
        return self.cleaned_data["queue"] or "mine"

    FILTERS = ("kind", "procedure", "section", "assignee", "status")

    def filter_selects(self):
        """``[(name, label, [(value, text, selected), ...]), ...]`` for the filter bar: rendered as plain
        ``<select>``s by the queue's template (Django's widget templates took 11 ms for these five). The
        options (procedures, sections, the people who work follow-ups) are read once a minute."""
        selects = []
        for name in self.FILTERS:
            field = self.fields[name]
            chosen = str(self.data.get(name, "") or "")
            options = cache.get_or_set(
                f"followups:filter-options:{name}:{get_language()}",
                lambda field=field: [(str(getattr(v, "value", v)), str(t)) for v, t in field.choices],
                FILTER_OPTIONS_SECONDS,
            )
            selects.append((name, str(field.label), [(v, t, v == chosen) for v, t in options]))
        return selects

    def filtered(self, now=None):
        """The queue's follow-ups, filtered and sorted by due time: a queryset, or for an agent's queues
        that cover both their own and their groups' follow-ups, the two merged (``MergedRows``)."""
        now = now or timezone.now()
        self.is_valid()  # an invalid filter is left out; the valid ones apply
        data = getattr(self, "cleaned_data", {})
        queue = data.get("queue") or "mine"
        group_ids = list(self.user.groups.values_list("id", flat=True))
        mine = FollowUp.objects.filter(assignee=self.user)
        if queue == "mine":
            arms = [mine]
        elif queue == "group":
            arms = [FollowUp.objects.filter(group_id__in=group_ids)]
        elif self.sees_all:
            arms = [FollowUp.objects.all()]
        else:
            # An agent's 今日到期 / 即将超时 / 已超时 are what is theirs to do: their own, and their groups'
            # that nobody has taken yet (a colleague's are in 本组). Two halves, each on its own index:
            # ``assignee = me OR group IN (...)`` walked every overdue follow-up of the floor (0.08 s at
            # 100,000).
            arms = [mine, FollowUp.objects.filter(group_id__in=group_ids, assignee__isnull=True)]
        if not self.user.is_superuser and not self.user.has_perm("followups.work_followup"):
            arms = [FollowUp.objects.none()]
        return MergedRows([self.narrow(rows, queue, data, now) for rows in arms])

    def narrow(self, rows, queue, data, now):
        if queue == "today":
            end = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
            end += datetime.timedelta(days=1)
            rows = rows.open().filter(due_at__gte=end - datetime.timedelta(days=1), due_at__lt=end)
        elif queue == "soon":
            rows = rows.due_within(FollowUpSettings.load().due_soon_minutes, now=now)
        elif queue == "overdue":
            rows = rows.overdue(now)
        if data.get("status"):
            rows = rows.filter(status=data["status"])
        elif queue in ("mine", "group", "all"):
            rows = rows.open()
        if data.get("kind"):
            rows = rows.filter(kind=data["kind"])
        if data.get("procedure"):
            rows = rows.filter(source_run__procedure=data["procedure"])
        if data.get("section"):
            rows = rows.filter(section=data["section"])
        if data.get("assignee"):
            rows = rows.filter(assignee=data["assignee"])
        return rows


class MergedRows:
    """Querysets of follow-ups read as one list sorted by due time, for ``Paginator``: a page ``[a:b]``
    merges the sort keys of the first ``b`` of each, then loads only that page's rows, joined to their
    people and with their source's title; ``count()`` adds the querysets' counts up (they must not
    overlap)."""

    ordered = True
    # What a queue row shows (loading whole rows and users cost more than the queries).
    LISTED = (
        "kind", "title", "status", "priority", "due_at", "original_due_at", "created_at", "ref", "customer",
        "assignee__username", "assignee__first_name", "assignee__last_name", "group__name",
    )  # fmt: skip

    def __init__(self, querysets):
        self.querysets = [queryset.order_by("due_at", "created_at", "pk") for queryset in querysets]

    def count(self):
        return sum(queryset.order_by().count() for queryset in self.querysets)

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        stop = index.stop if index.stop is not None else self.count()
        keys = heapq.merge(
            *(list(qs.values_list("due_at", "created_at", "pk")[:stop]) for qs in self.querysets)
        )
        chosen = [pk for _due, _created, pk in list(keys)[index.start or 0 : stop]]
        # The source's title as a column, not the run itself (its snapshot is large).
        rows = (
            FollowUp.objects.filter(pk__in=chosen)
            .select_related("assignee", "group")
            .only(*self.LISTED)
            .annotate(procedure_title=F("source_run__procedure_title"))
            .in_bulk()
        )
        return [rows[pk] for pk in chosen if pk in rows]


class AttemptForm(forms.Form):
    """One attempt: the result, a note, and for 约定时间再联系 the agreed time (local, to the minute).

    ``seen`` is how many attempts the page showed: a second post of the same form (a double click, a
    resubmitted page) finds more and is refused instead of recording the attempt twice."""

    result = forms.ChoiceField(
        label=_("联系结果"),
        choices=AttemptResult.choices,
        error_messages={"invalid_choice": _("无法识别的联系结果。"), "required": _("请选择联系结果。")},
    )
    note = CleanTextField(
        multiline=True,
        label=_("备注"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    next_at = forms.DateTimeField(
        label=_("约定时间"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={"invalid": _("约定时间格式不对，请用日期时间选择器重新选择。")},
    )
    seen = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)

    def __init__(self, follow_up, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.follow_up = follow_up
        self.now = now or timezone.now()
        self.fields["seen"].initial = follow_up.attempts.count()

    def clean(self):
        cleaned = super().clean()
        seen = cleaned.get("seen")
        if seen is not None and seen != self.follow_up.attempts.count():
            raise ValidationError(_("这条联系记录已经提交过了（或有人刚记录了新的联系），请看下面的记录。"))
        if cleaned.get("result") == AttemptResult.RESCHEDULE:
            next_at = cleaned.get("next_at")
            if next_at is None:
                if "next_at" not in self.errors:
                    self.add_error("next_at", _("约定时间再联系，请填写约定的时间。"))
            elif next_at <= self.now:
                self.add_error("next_at", _("约定时间要晚于现在。"))
            elif next_at > self.now + MAX_RESCHEDULE:
                self.add_error("next_at", _("约定时间不能超过 90 天以后。"))
        elif cleaned.get("result"):
            cleaned["next_at"] = None  # only a 约定时间再联系 moves the due time
        return cleaned


class CloseForm(forms.Form):
    """Close by hand: 已完成 with a result, or 已取消 with a reason."""

    status = forms.ChoiceField(
        label=_("关闭为"),
        choices=[(Status.DONE.value, Status.DONE.label), (Status.CANCELLED.value, Status.CANCELLED.label)],
        error_messages={"invalid_choice": _("只能标记为已完成或已取消。")},
    )
    result = CleanTextField(label=_("处理结果"), required=False, max_length=50)
    notes = CleanTextField(
        multiline=True,
        label=_("说明/取消原因"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        if status == Status.DONE and not (cleaned.get("result") or "").strip():
            self.add_error("result", _("标记为已完成，请填写处理结果。"))
        if status == Status.CANCELLED and not (cleaned.get("notes") or "").strip():
            self.add_error("notes", _("取消跟进，请填写原因。"))
        return cleaned


class ReassignForm(forms.Form):
    """Hand one or many follow-ups to a person and/or a group (supervisors)."""

    follow_ups = forms.ModelMultipleChoiceField(
        queryset=FollowUp.objects.none(),
        error_messages={
            "required": _("请先勾选要重新分配的跟进。"),
            "invalid_choice": _("所选跟进中有不存在或你看不到的。"),
            "invalid_pk_value": _("所选跟进中有不存在或你看不到的。"),
        },
    )
    user = UserChoiceField(
        label=_("交给人"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="—",
        error_messages={"invalid_choice": _("没有这个用户（或已停用）。")},
    )
    group = forms.ModelChoiceField(
        label=_("交给组"),
        queryset=Group.objects.order_by("name"),
        required=False,
        empty_label="—",
        error_messages={"invalid_choice": _("没有这个组。")},
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["follow_ups"].queryset = FollowUp.objects.visible_to(user)
        # Every active user is offered the check below: someone without the permission gets a message
        # naming them, not an "unknown user".
        self.fields["user"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("last_name", "first_name", "username")
        )
        self.fields["user"].widget.choices = [("", "—")] + [
            (u.pk, self.fields["user"].label_from_instance(u)) for u in workers()
        ]

    def clean(self):
        cleaned = super().clean()
        user, group = cleaned.get("user"), cleaned.get("group")
        if not self.errors and user is None and group is None:
            raise ValidationError(_("请选择交给谁（一个人或一个组）。"))
        if user is not None and not user.has_perm("followups.work_followup"):
            self.add_error("user", _("%(name)s 不能处理跟进（没有权限）。") % {"name": display_name(user)})
        return cleaned
