"""The agent's side: my pending change notices, and one notice with its diff and the confirm button."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from . import notices
from .diff import page_diff
from .forms import AcknowledgeForm
from .models import ChangeNotice, NoticeRecipient


def my_notices(request):
    """待确认变更: what the user still has to acknowledge."""
    pending = list(notices.pending_notices(request.user))
    return TemplateResponse(request, "changes/my_notices.html", {"notices": pending})


def _next_url(request, notice):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        return next_url
    return notice.page.url or reverse("changes:mine")


def notice_detail(request, notice_id):
    """A change notice: the summary, the changed blocks before / after, and 我已了解 (POST)."""
    notice = (
        ChangeNotice.objects.select_related("page", "revision", "previous_revision")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None:
        raise Http404(_("没有找到这条变更通知。"))
    asked = NoticeRecipient.objects.filter(notice=notice, user=request.user).exists()
    status = 200
    if request.method == "POST":
        form = AcknowledgeForm(request.POST)
        if form.is_valid():
            try:
                _confirmation, created = notices.acknowledge(
                    request.user, notice, form.cleaned_data["revision"]
                )
            except notices.AckRefused as refused:
                messages.error(request, refused.message)
                status = 400 if asked else 403
            else:
                if created:
                    messages.success(
                        request, _("已确认“%(title)s”的变更。") % {"title": notice.revision.object_str}
                    )
                return redirect(_next_url(request, notice))
        else:
            messages.error(request, _("确认表单有误，请刷新页面后重新确认。"))
            status = 400
    if not asked and status == 200:
        messages.info(request, _("你没有被要求确认这次变更。"))
    page = notice.page.specific
    changes = page_diff(page, notice.previous_revision, notice.revision)
    done = asked and notices.has_acknowledged(request.user, notice)
    context = {
        "notice": notice,
        "page": page,
        "changed": [c for c in changes if c.status != "same"],
        "unchanged_count": sum(1 for c in changes if c.status == "same"),
        "form": AcknowledgeForm(initial={"revision": notice.revision_id}),
        "asked": asked,
        "done": done,
        "next": _next_url(request, notice),
    }
    return TemplateResponse(request, "changes/notice.html", context, status=status)
