"""未处理反馈: the open feedback (待处理, 需补充信息) per owner and type, by age, for trainers and supervisors.

A ``kb_site.reports.ColumnsReportView`` (export = the listed columns), registered by ``wagtail_hooks``.
One row per owner (a trainer, or the group when the content has none) and type: how many, how many in
each age band (days since sent, local dates) and the oldest. Whoever holds ``feedback.handle_feedback``
sees it.
"""

from collections import defaultdict
from types import SimpleNamespace

import django_filters
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column
from wagtail.permission_policies import ModelPermissionPolicy

from kb_site.reports import ColumnsReportView, ReportViewSet, UserChoiceFilter, display_name

from .choices import FeedbackKind
from .models import Feedback

__all__ = ["OpenFeedbackReportView", "feedback_permission_policy", "open_feedback_rows", "report_viewsets"]

HANDLE = "handle"
# Age bands in days since the feedback was sent: (label, lowest day, highest day or None).
AGE_BANDS = [
    ("age_0_2", _("0–2 天"), 0, 2),
    ("age_3_7", _("3–7 天"), 3, 7),
    ("age_8_30", _("8–30 天"), 8, 30),
    ("age_over_30", _("30 天以上"), 31, None),
]
MIN_AGE_CHOICES = [("3", _("3 天以上")), ("8", _("8 天以上")), ("31", _("30 天以上"))]


class FeedbackPermissionPolicy(ModelPermissionPolicy):
    codenames = {HANDLE: "handle_feedback"}

    def _get_permission_codename(self, action):
        return self.codenames.get(action) or super()._get_permission_codename(action)


feedback_permission_policy = FeedbackPermissionPolicy(Feedback)


def age_days(created_at, today=None):
    today = today or timezone.localdate()
    return (today - timezone.localtime(created_at).date()).days


def open_feedback_rows(feedback, today=None):
    """One row per owner and type over the open ``feedback``, most open first."""
    today = today or timezone.localdate()
    groups = defaultdict(list)
    rows = feedback.open().order_by().values_list("owner_id", "owner_group__name", "kind", "created_at")
    for owner_id, group_name, kind, created_at in rows:
        groups[(owner_id, group_name if owner_id is None else None, kind)].append(age_days(created_at, today))
    users = get_user_model().objects.in_bulk([key[0] for key in groups if key[0] is not None])
    result = []
    for (owner_id, group_name, kind), ages in groups.items():
        owner = display_name(users.get(owner_id)) if owner_id else (group_name or "—")
        bands = {
            name: sum(1 for age in ages if age >= low and (high is None or age <= high))
            for name, _label, low, high in AGE_BANDS
        }
        result.append(
            SimpleNamespace(
                owner=owner,
                kind=FeedbackKind(kind).label if kind in FeedbackKind.values else kind,
                total=len(ages),
                oldest=max(ages),
                **bands,
            )
        )
    return sorted(result, key=lambda row: (-row.total, str(row.owner), str(row.kind)))


class OpenFeedbackFilterSet(WagtailFilterSet):
    owner = UserChoiceFilter(
        label=_("负责人"),
        queryset=get_user_model()
        .objects.filter(feedback_owned__isnull=False)
        .distinct()
        .order_by("username"),
    )
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=FeedbackKind.choices)
    min_age = django_filters.ChoiceFilter(
        label=_("已等待"), choices=MIN_AGE_CHOICES, method="filter_min_age", empty_label=_("不限")
    )

    class Meta:
        model = Feedback
        fields = ["owner", "kind", "min_age"]

    def filter_min_age(self, queryset, name, value):
        # Sent on or before this local date, midnight local time: at least ``value`` days ago.
        cutoff = timezone.localdate() - timezone.timedelta(days=int(value) - 1)
        midnight = timezone.make_aware(timezone.datetime.combine(cutoff, timezone.datetime.min.time()))
        return queryset.filter(created_at__lt=midnight)


class OpenFeedbackReportView(ColumnsReportView):
    """未处理反馈: open feedback per owner and type, by age."""

    model = Feedback
    permission_policy = feedback_permission_policy
    permission_required = HANDLE
    page_title = _("未处理反馈")
    header_icon = "comment"
    index_url_name = "feedback_open:index"
    index_results_url_name = "feedback_open:index_results"
    filterset_class = OpenFeedbackFilterSet
    paginate_by = None
    columns = [
        Column("owner", label=_("负责人")),
        Column("kind", label=_("类型")),
        Column("total", label=_("未处理")),
        *[Column(name, label=label) for name, label, _low, _high in AGE_BANDS],
        Column("oldest", label=_("最久（天）")),
    ]

    def get_queryset(self):
        return Feedback.objects.all()

    def get_filtered_queryset(self):
        return open_feedback_rows(self.filter_queryset(self.get_queryset()))

    def get_filename(self):
        return f"open-feedback-{timezone.localdate():%Y-%m-%d}"


def report_viewsets():
    return ReportViewSet(
        "feedback_open", view_class=OpenFeedbackReportView, url_prefix="reports/feedback/open"
    )
