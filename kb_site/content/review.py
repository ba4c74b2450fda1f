"""复核完成 in one click: the review date set to today without a content edit or a workflow.

``mark_reviewed`` writes ``last_reviewed`` / ``review_due`` on the page row (a queryset ``update``: no
new revision, so nothing waits for approval) and records the review in Wagtail's audit log
(``REVIEWED``, shown in the page's history as “复核完成：<备注>”). The live revision and the drafts
saved after it get the same two values in their stored content: a draft published later (or the editor,
which opens the latest revision) then carries the reviewed date instead of bringing the old one back.
Only a deliberate revert to a revision older than the live one restores its own date, as a revert
restores everything else. Editors can still set the date by hand (a wrong date can be corrected).

Editors reach it from the page's header in the admin (``ReviewPageButton`` → ``review_page``), and in
bulk from the 待复核内容 report or the page explorer (``MarkReviewedBulkAction``, a Wagtail bulk action).
Only users who may edit a page may mark it reviewed.
"""

import datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from wagtail.admin import messages
from wagtail.admin.ui.menus.pages import PageMenuItem
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views.pages.bulk_actions.page_bulk_action import PageBulkAction
from wagtail.log_actions import LogFormatter, log
from wagtail.models import Page, Revision

from .models import ReviewMixin

__all__ = ["REVIEWED", "MarkReviewedBulkAction", "ReviewForm", "mark_reviewed", "review_page"]

REVIEWED = "callbook.reviewed"


def mark_reviewed(page, user, note="", today=None):
    """Set ``page``'s review date to ``today`` (local) and log it; ``page`` is a ``ReviewMixin`` page."""
    today = today or timezone.localdate()
    due = today + datetime.timedelta(days=page.review_interval_days or 0)
    type(page).objects.filter(pk=page.pk).update(last_reviewed=today, review_due=due)
    page.last_reviewed, page.review_due = today, due
    revisions = page.revisions.all()
    if page.live_revision_id:
        revisions = revisions.filter(pk__gte=page.live_revision_id)
    for revision in revisions.only("pk", "content"):
        content = {**revision.content, "last_reviewed": today.isoformat(), "review_due": due.isoformat()}
        Revision.objects.filter(pk=revision.pk).update(content=content)
    log(instance=page, action=REVIEWED, user=user, data={"note": note, "date": today.isoformat()})


def may_review(page, user):
    return isinstance(page, ReviewMixin) and page.permissions_for_user(user).can_edit()


class ReviewedLogFormatter(LogFormatter):
    """How the page history shows a review: “复核完成：<note>”."""

    label = gettext_lazy("复核完成")

    def format_message(self, log_entry):
        note = (log_entry.data or {}).get("note")
        return _("复核完成：%(note)s") % {"note": note} if note else _("复核完成")


def register_log_actions(actions):
    """``register_log_actions``: the review's audit log action."""
    actions.register_action(REVIEWED)(ReviewedLogFormatter)


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("复核备注"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("可选，例如“与 2026 版服务协议核对无误”；记录在页面历史中"),
    )


def review_page(request, page_id):
    """Confirm and record 复核完成 for one page (GET: the form with an optional note; POST: do it)."""
    page = get_object_or_404(Page, pk=page_id).specific
    if not isinstance(page, ReviewMixin):
        raise Http404
    if not may_review(page, request.user):
        raise PermissionDenied
    next_url = get_valid_next_url_from_request(request) or reverse("wagtailadmin_pages:edit", args=[page.pk])
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        mark_reviewed(page, request.user, form.cleaned_data["note"])
        messages.success(
            request,
            _("已将“%(title)s”标记为复核完成，下次复核到期：%(due)s。")
            % {"title": page.get_admin_display_title(), "due": f"{page.review_due:%Y-%m-%d}"},
        )
        return redirect(next_url)
    return TemplateResponse(
        request, "content/admin/review_page.html", {"page": page, "form": form, "next": next_url}
    )


def admin_urls():
    """``register_admin_urls``."""
    return [path("content/review/<int:page_id>/", review_page, name="content_review_page")]


class ReviewPageButton(PageMenuItem):
    """复核完成 in the page's admin header, for editors of reviewable pages."""

    label = gettext_lazy("复核完成")
    icon_name = "tick"
    url_name = "content_review_page"
    priority = 66

    def is_shown(self, user):
        return may_review(self.page.specific_deferred, user)


def page_header_buttons(page, user, view_name, next_url=None):
    """``register_page_header_buttons``."""
    if issubclass(page.specific_class or Page, ReviewMixin):
        yield ReviewPageButton(page=page)


class MarkReviewedBulkAction(PageBulkAction):
    """复核完成 for the selected pages (the 待复核内容 report's checkboxes, or the page explorer)."""

    display_name = gettext_lazy("复核完成")
    action_type = "mark_reviewed"
    aria_label = gettext_lazy("将选中的页面标记为复核完成")
    template_name = "content/admin/confirm_bulk_review.html"
    action_priority = 60
    form_class = ReviewForm

    def check_perm(self, page):
        return may_review(page.specific, self.request.user)

    def get_execution_context(self):
        return {**super().get_execution_context(), "note": self.cleaned_form.cleaned_data["note"]}

    @classmethod
    def execute_action(cls, objects, user=None, note="", **kwargs):
        for page in objects:
            mark_reviewed(page.specific, user, note)
        return len(objects), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "已将 %(count)d 个页面标记为复核完成。",
            "已将 %(count)d 个页面标记为复核完成。",
            num_parent_objects,
        ) % {"count": num_parent_objects}
