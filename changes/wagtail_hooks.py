"""What the changes app registers: page views, the notice before a procedure or article, the refusal
of a live run while a major change is unacknowledged, the home panel, the acknowledgement report, the
phrasing impact panel and its part of the demo."""

from django.contrib import messages
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from wagtail import hooks

from kb_site.content.models import ReviewMixin
from procedures.models import ProcedurePage

from . import notices, reports


@hooks.register("before_serve_page")
def record_view_and_show_notices(page, request, serve_args, serve_kwargs):
    """A GET of an article or procedure by a signed-in user counts one view (the deliberate write a page
    GET makes, one row per user, page and day); a pending change notice comes first: a procedure opens
    the notice, an article shows it at the top."""
    user = request.user
    if (
        request.method != "GET"
        or not isinstance(page, ReviewMixin)
        or not user.is_authenticated
        or getattr(request, "is_preview", False)
    ):
        return None
    notices.record_view(user, page)
    if not notices.may_have_pending(user, page):
        return None
    notice = notices.pending_notices(user, page).first()
    if notice is None:
        return None
    url = reverse("changes:notice", args=[notice.pk])
    if isinstance(page, ProcedurePage):
        return redirect(f"{url}?{urlencode({'next': page.url})}")
    messages.warning(
        request,
        format_html(
            '{} <a href="{}">{}</a>',
            _("这篇文章有重大变更：%(summary)s") % {"summary": notice.summary or notice.revision.object_str},
            url,
            _("查看变更并确认"),
        ),
    )
    return None


@hooks.register("before_start_run")
def acknowledge_before_live_run(request, procedure, practice):
    if practice:
        return None
    notice = notices.pending_notices(request.user, procedure).first()
    if notice is None:
        return None
    return format_html(
        '{} <a href="{}">{}</a>',
        _("这个流程有重大变更，请先确认变更再开始。"),
        reverse("changes:notice", args=[notice.pk]),
        _("查看变更"),
    )


@hooks.register("register_home_panel")
def pending_notices_panel(request):
    pending = list(notices.pending_notices(request.user)[:10])
    if not pending:
        return ""
    return render_to_string("changes/includes/home_panel.html", {"notices": pending}, request=request)


@hooks.register("register_admin_viewset")
def register_acknowledgement_report():
    return reports.report_viewset()


@hooks.register("register_demo_loader", order=60)
def load_changes_demo(update, report, **options):
    from . import demo  # only load_demo needs it

    demo.load(update=update, report=report, **options)
