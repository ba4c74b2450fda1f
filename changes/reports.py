"""变更确认: per major-change notice, how many agents were asked, confirmed, still owe it and are late;
a drill-down lists who is pending. For trainers and supervisors (``training.view_all_training``)."""

from django.db.models import Count
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, TitleColumn

from kb_site.reports import ColumnsReportView, LocalTimeColumn, ReportViewSet, display_name
from procedures.urls import IdConverter  # noqa: F401  (registers the "id" converter)
from training.reports import TrainingReportMixin

from .models import ChangeNotice, NoticeRecipient
from .notices import acknowledged


class AcknowledgementReportView(TrainingReportMixin, ColumnsReportView):
    """变更确认: one row per published major change."""

    page_title = _("变更确认")
    header_icon = "tasks"
    index_url_name = "changes_acknowledgements:index"
    index_results_url_name = "changes_acknowledgements:index_results"
    export_name = "acknowledgements"
    model = ChangeNotice
    columns = [
        TitleColumn(
            "title",
            label=_("页面"),
            accessor="page_title",
            get_url=lambda notice: reverse("changes_acknowledgements:pending", args=[notice.pk]),
        ),
        Column("revision_id", label=_("版本")),
        LocalTimeColumn("published_at", label=_("发布时间")),
        Column("change_class", label=_("类别"), accessor="get_change_class_display"),
        Column("summary", label=_("变更说明")),
        Column("target", label=_("应确认")),
        Column("done", label=_("已确认")),
        Column("pending", label=_("未确认")),
        Column("overdue", label=_("逾期未确认")),
    ]

    def get_filename(self):
        return f"change-acknowledgements-{timezone.localdate():%Y-%m-%d}"

    def get_queryset(self):
        rows = list(
            ChangeNotice.objects.select_related("revision")
            .annotate(target=Count("recipients"))
            .order_by("-published_at")
        )
        done = dict(
            NoticeRecipient.objects.filter(notice__in=rows)
            .annotate(acked=acknowledged())
            .filter(acked=True)
            .values_list("notice_id")
            .annotate(n=Count("pk"))
            .values_list("notice_id", "n")
        )
        now = timezone.now()
        for notice in rows:
            notice.page_title = notice.revision.object_str
            notice.done = done.get(notice.pk, 0)
            notice.pending = notice.target - notice.done
            notice.overdue = notice.pending if now > notice.due_at else 0
        return rows


class PendingReportView(TrainingReportMixin, ColumnsReportView):
    """未确认名单: who still has to acknowledge one change notice."""

    header_icon = "user"
    index_url_name = "changes_acknowledgements:pending"
    index_results_url_name = "changes_acknowledgements:pending_results"
    model = NoticeRecipient
    columns = [
        Column("name", label=_("坐席"), accessor="name"),
        Column("reasons", label=_("原因")),
        LocalTimeColumn("due_at", label=_("确认期限"), accessor="notice.due_at"),
        Column("overdue_label", label=_("逾期")),
    ]

    @cached_property
    def notice(self):
        from django.shortcuts import get_object_or_404

        return get_object_or_404(ChangeNotice.objects.select_related("revision"), pk=self.kwargs["notice_id"])

    @property
    def page_title(self):
        return _("未确认名单：%(title)s") % {"title": self.notice.revision.object_str}

    def get_index_url(self):
        return reverse(self.index_url_name, args=[self.notice.pk])

    def get_index_results_url(self):
        return reverse(self.index_results_url_name, args=[self.notice.pk])

    def get_filename(self):
        return f"change-pending-{self.notice.pk}-{timezone.localdate():%Y-%m-%d}"

    def get_queryset(self):
        rows = list(
            NoticeRecipient.objects.filter(notice=self.notice)
            .annotate(acked=acknowledged())
            .filter(acked=False)
            .select_related("user", "notice")
            .order_by("user__username")
        )
        late = timezone.now() > self.notice.due_at
        for row in rows:
            row.name = display_name(row.user)
            row.overdue_label = _("是") if late else _("否")
        return rows


class AcknowledgementReportViewSet(ReportViewSet):
    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("<id:notice_id>/", PendingReportView.as_view(), name="pending"),
            path(
                "<id:notice_id>/results/",
                PendingReportView.as_view(results_only=True),
                name="pending_results",
            ),
        ]


def report_viewset():
    return AcknowledgementReportViewSet(
        "changes_acknowledgements",
        view_class=AcknowledgementReportView,
        url_prefix="reports/change-acknowledgements",
        menu_order=310,
    )
