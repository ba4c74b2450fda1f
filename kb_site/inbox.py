"""The site-wide inbox (the bell): every notice the apps leave me, newest first, in one list.

Follow-up notices (``followups.Notice``) and feedback notices (``feedback.FeedbackNotice``) are two
tables; the site is where they meet. A page of the inbox reads at most ``page × PAGE_SIZE`` rows of
each, merged by time. Opening a notice marks it read; 全部标为已读 marks both kinds.
"""

import heapq

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from feedback.models import FeedbackNotice
from followups.models import Notice

PAGE_SIZE = 50
FOLLOWUP, FEEDBACK = "followup", "feedback"


def unread_count(user):
    """Unread notices of both kinds (the bell's number)."""
    # One query for both tables (every page's header shows it).
    followup = Notice.objects.filter(user=user, read_at__isnull=True).order_by().values("pk")
    feedback = FeedbackNotice.objects.filter(user=user, read_at__isnull=True).order_by().values("pk")
    return followup.union(feedback, all=True).count()


def _followup_row(notice):
    follow_up = notice.follow_up
    return {
        "key": f"{FOLLOWUP}-{notice.pk}",
        "kind": notice.kind,
        "kind_label": notice.get_kind_display(),
        "text": f"{follow_up.get_kind_display()}：{follow_up.title}",
        "meta": _("到期 %(due)s") % {"due": timezone.localtime(follow_up.due_at).strftime("%m-%d %H:%M")},
        "url": follow_up.get_absolute_url(),
        "created_at": notice.created_at,
        "read_at": notice.read_at,
    }


def _feedback_row(notice):
    feedback = notice.feedback
    return {
        "key": f"{FEEDBACK}-{notice.pk}",
        "kind": f"feedback-{notice.kind}",
        "kind_label": _("反馈·%(kind)s") % {"kind": notice.get_kind_display()},
        "text": f"{feedback.get_kind_display()}：{feedback.page.title}",
        "meta": feedback.text[:60],
        "url": reverse("feedback:detail", args=[feedback.pk]),
        "created_at": notice.created_at,
        "read_at": notice.read_at,
    }


class MergedNotices:
    """Both kinds of notices of one user as one sequence, newest first, for the ``Paginator``."""

    def __init__(self, user):
        self.followups = (
            Notice.objects.filter(user=user).select_related("follow_up").order_by("-created_at", "-pk")
        )
        self.feedback = (
            FeedbackNotice.objects.filter(user=user)
            .select_related("feedback__page")
            .order_by("-created_at", "-pk")
        )

    def __len__(self):
        return self.followups.count() + self.feedback.count()

    def __getitem__(self, window):
        stop = window.stop
        rows = heapq.merge(
            map(_followup_row, self.followups[:stop]),
            map(_feedback_row, self.feedback[:stop]),
            key=lambda row: row["created_at"],
            reverse=True,
        )
        return list(rows)[window.start : stop]


@require_GET
def inbox(request):
    page = Paginator(MergedNotices(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "kb_site/inbox.html",
        {"page_obj": page, "notices": page.object_list, "unread": unread_count(request.user)},
    )


class MarkReadForm(forms.Form):
    notice = forms.RegexField(regex=rf"^({FOLLOWUP}|{FEEDBACK})-[0-9]{{1,18}}$", required=False)


@require_POST
def mark_read(request):
    """Mark one notice read (``notice`` = ``followup-<pk>`` / ``feedback-<pk>``, mine only), or all of mine;
    with ``open``, go to what the notice is about."""
    form = MarkReadForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("没有这条提醒。"))
        return redirect("inbox")
    now = timezone.now()
    key = form.cleaned_data["notice"]
    if not key:
        Notice.objects.filter(user=request.user, read_at__isnull=True).update(read_at=now)
        FeedbackNotice.objects.filter(user=request.user, read_at__isnull=True).update(read_at=now)
        return redirect("inbox")
    kind, pk = key.split("-")
    model = Notice if kind == FOLLOWUP else FeedbackNotice
    notice = model.objects.filter(user=request.user, pk=pk).first()
    if notice is None:
        raise Http404(_("没有这条提醒。"))
    model.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=now)
    if request.POST.get("open"):
        row = _followup_row(notice) if kind == FOLLOWUP else _feedback_row(notice)
        return redirect(row["url"])
    return redirect("inbox")
