"""The 内容健康 page (``/health/``): the items of ``kb_site.health`` ranked, 50 a page, with a filter form
and a CSV / XLSX export of every row (the filter applied). Trainers and supervisors only."""

import csv
import io

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from kb_site import health
from kb_site.reports import safe_cell

PER_PAGE = 50

KIND_CHOICES = [
    ("", _("全部")),
    ("article", _("规范文章")),
    ("procedure", _("引导流程")),
    ("phrasing", _("话术")),
]


class HealthFilterForm(forms.Form):
    """The window, the kind of content and the order; a wrong value is said in Chinese and the default used."""

    days = forms.IntegerField(
        label=_("最近天数"),
        min_value=1,
        max_value=health.MAX_DAYS,
        required=False,
        error_messages={
            "invalid": _("天数须为整数。"),
            "min_value": _("天数至少为 %(limit_value)s。"),
            "max_value": _("天数最多为 %(limit_value)s。"),
        },
    )
    kind = forms.ChoiceField(
        label=_("内容"),
        choices=KIND_CHOICES,
        required=False,
        error_messages={"invalid_choice": _("没有这种内容类型。")},
    )
    sort = forms.ChoiceField(
        label=_("排序"),
        choices=[(value, label) for value, (label, _key) in health.SORTS.items()],
        required=False,
        error_messages={"invalid_choice": _("没有这种排序方式。")},
    )

    def values(self):
        """``(days, kind, sort)``: the valid ones given, the defaults for the rest."""
        self.is_valid()  # a wrong field is left out of cleaned_data; the others are kept
        data = self.cleaned_data
        return (
            data.get("days") or health.DEFAULT_DAYS,
            data.get("kind") or None,
            data.get("sort") or "score",
        )


def refuse(request):
    return render(
        request,
        "refused.html",
        {"message": _("只有培训师和主管可以查看内容健康。")},
        status=403,
    )


@require_GET
def dashboard(request):
    if not health.can_view(request.user):
        return refuse(request)
    form = HealthFilterForm(request.GET)
    days, kind, sort = form.values()
    now = timezone.now()
    items = health.health_items(days=days, kind=kind, sort=sort, now=now)
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        return export_items(items, days, export)
    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    sees_runs = health.sees_runs(request.user)
    health.add_stop_steps(page.object_list, days=days, now=now, show_agents=sees_runs)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    return render(
        request,
        "health/dashboard.html",
        {
            "form": form,
            "days": days,
            "page": page,
            "offset": page.start_index() - 1 if page.object_list else 0,
            "query": query.urlencode(),
            "sees_runs": sees_runs,
            "weights": health.WEIGHTS,
            "soon_days": health.REVIEW_SOON_DAYS,
        },
    )


# --- export ---------------------------------------------------------------------------------------------


def export_rows(items):
    """The heading and one row per item: what the screen shows, rates as percentages, in rank order."""
    yield [
        gettext("排名"),
        gettext("标题"),
        gettext("类型"),
        gettext("复核"),
        gettext("复核到期"),
        gettext("浏览"),
        gettext("运行"),
        gettext("弃用率"),
        gettext("升级率"),
        gettext("未处理反馈"),
        gettext("反馈类型"),
        gettext("无结果搜索"),
        gettext("测验错误率"),
        gettext("得分"),
        gettext("原因"),
    ]
    for rank, item in enumerate(items, start=1):
        yield [
            rank,
            item.title,
            item.kind_label,
            item.review_display,
            item.review_due.isoformat() if item.review_due else "",
            "" if item.is_phrasing else item.views,
            item.runs if item.is_procedure else "",
            health.percent(item.abandonment_rate) if item.is_procedure else "",
            health.percent(item.escalation_rate) if item.is_procedure else "",
            item.feedback_total,
            item.feedback_display,
            item.zero_result_hits,
            health.percent(item.quiz_miss_rate),
            item.score,
            "；".join(reason.label for reason in item.reasons),
        ]


def export_items(items, days, export_format):
    filename = f"content-health-{days}d-{timezone.localdate():%Y-%m-%d}.{export_format}"
    if export_format == "csv":

        def lines():
            yield "\ufeff"  # Excel on Chinese Windows reads UTF-8 only with the BOM
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            for row in export_rows(items):
                writer.writerow([safe_cell(value, "csv") for value in row])
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(gettext("内容健康"))
        for row in export_rows(items):
            sheet.append([safe_cell(value, "xlsx") for value in row])
        output = io.BytesIO()
        book.save(output)
        response = HttpResponse(
            output.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
