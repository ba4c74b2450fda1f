"""The follow-up pages: the queues, one follow-up with its attempts and chain (the inbox is site-wide:
``kb_site.inbox``).

Every view that takes input validates a form (``followups.forms``) and records through
``followups.handling``, which checks again under lock; a refusal from either is one message to the
user and nothing written. A follow-up the user may not see is a 404, as a run is.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import handling
from .choices import CLOSED_STATUSES
from .forms import AttemptForm, CloseForm, QueueFilterForm, ReassignForm, display_name
from .models import FollowUp
from .templatetags.followup_tags import customer_line, masked

PAGE_SIZE = 50


def _may_use_followups(user):
    return (
        user.is_superuser
        or user.has_perm("followups.work_followup")
        or user.has_perm("followups.view_all_followups")
    )


def _require_followups(request):
    if not _may_use_followups(request.user):
        raise PermissionDenied(_("你没有处理跟进的权限。"))


def _may_reassign(user):
    return user.is_superuser or user.has_perm("followups.reassign_followup")


def _visible(request, pk):
    _require_followups(request)
    follow_up = (
        FollowUp.objects.visible_to(request.user)
        .select_related("assignee", "group", "source_run", "work_run", "parent__source_run", "closed_by")
        .filter(pk=pk)
        .first()
    )
    if follow_up is None:
        raise Http404(_("没有找到这个跟进，或它不属于你和你所在的组。"))
    return follow_up


def _back(request, fallback):
    """The ``next`` the form carried, when it is a page of this site; else ``fallback``."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@require_GET
def queue(request):
    """我的 / 本组 / 今日到期 / 即将超时 / 已超时 (/ 全部 for supervisors), filtered, by due time, 50 a page."""
    _require_followups(request)
    form = QueueFilterForm(request.user, request.GET)
    if request.GET.get("queue") == "all" and not form.sees_all:
        raise PermissionDenied(_("只有主管可以查看全部跟进。"))
    rows = form.filtered()
    paginator = Paginator(rows, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = with_rows(with_labels(page.object_list), may_reassign=_may_reassign(request.user))
    current = form.cleaned_data.get("queue") or "mine"
    params = request.GET.copy()
    params.pop("page", None)
    may_reassign = _may_reassign(request.user)
    return render(
        request,
        "followups/queue.html",
        {
            "form": form,
            "filter_selects": form.filter_selects(),
            "page_obj": page,
            "follow_ups": page.object_list,
            "queue": current,
            "queues": [(value, label) for value, label in form.fields["queue"].choices],
            "query": params.urlencode(),
            "filter_query": _without(params, "queue"),
            "now": timezone.now(),
            "may_reassign": may_reassign,
            "reassign_form": ReassignForm(request.user) if may_reassign else None,
            "invalid_filters": [form[name].label for name in form.errors],
        },
    )


def with_labels(follow_ups):
    """The rows with their link and their kind, status and priority labels made once per page, not once
    per row (a lazy label is looked up in the catalogues each time it is shown; reverse() walks the
    URL patterns)."""
    labels = {
        field: {value: str(label) for value, label in FollowUp._meta.get_field(field).choices}
        for field in ("kind", "status", "priority")
    }
    rows = list(follow_ups)
    # One reverse() for the page: the detail URL is the same pattern with another id.
    placeholder = "00000000-0000-0000-0000-000000000000"
    detail = reverse("followups:detail", args=[placeholder])
    now = timezone.now()
    for row in rows:
        row.url = detail.replace(placeholder, str(row.pk))
        row.overdue = row.is_open and row.due_at < now
        row.due_text = f"{timezone.localtime(row.due_at):%m-%d %H:%M}"
        row.original_due_text = (
            f"{timezone.localtime(row.original_due_at):%m-%d %H:%M}" if row.rescheduled else ""
        )
        row.customer_text = customer_line(row.customer)
        row.ref_text = masked(row.ref)
        row.kind_label = labels["kind"].get(row.kind, row.kind)
        row.status_label = labels["status"].get(row.status, row.status)
        row.priority_label = labels["priority"].get(row.priority, row.priority)
    return rows


# A queue row, made in Python: the 50 rows of a page were most of its rendering time as template markup.
ROW = (
    '<tr class="followup-row{row_class}" data-href="{url}">{select}'
    '<td class="nowrap">{due}{overdue}{rescheduled}</td><td>{kind}</td>'
    '<td><a class="followup-link" href="{url}">{title}</a>{ref}</td>'
    '<td class="followup-customer">{customer}</td><td>{owner}</td><td>{priority}</td>'
    '<td><span class="followup-status status-{status}">{status_label}</span></td><td>{source}</td></tr>'
)


def with_rows(rows, *, may_reassign):
    """Give each row its ``row_html`` (escaped by ``format_html``) for the queue's table."""
    overdue_badge = format_html('<span class="badge badge-overdue">{}</span>', _("已超时"))
    rescheduled, original, select = _("已改约"), _("原定"), _("选择")
    for f in rows:
        f.row_html = format_html(
            ROW,
            row_class=(
                "" + (" is-overdue" if f.overdue else "") + (" is-urgent" if f.priority == "urgent" else "")
            ),
            url=f.url,
            select=format_html(
                '<td><input type="checkbox" name="follow_ups" value="{}" aria-label="{} {}"{}></td>',
                f.pk,
                select,
                f.title,
                "" if f.is_open else mark_safe(" disabled"),
            )
            if may_reassign
            else "",
            due=f.due_text,
            overdue=format_html(" {}", overdue_badge) if f.overdue else "",
            rescheduled=format_html(
                ' <span class="badge" title="{} {}">{}</span>', original, f.original_due_text, rescheduled
            )
            if f.original_due_text
            else "",
            kind=f.kind_label,
            title=f.title,
            ref=format_html(' <span class="meta">{}</span>', f.ref_text) if f.ref_text else "",
            customer=f.customer_text,
            owner=f.assignee_label,
            priority=format_html('<span class="badge badge-urgent">{}</span>', f.priority_label)
            if f.priority == "urgent"
            else f.priority_label,
            status=f.status,
            status_label=f.status_label,
            source=getattr(f, "procedure_title", ""),
        )
    return rows


def _without(params, name):
    params = params.copy()
    params.pop(name, None)
    return params.urlencode()


def _detail_context(request, follow_up, **forms):
    may_work = handling.may_work(request.user, follow_up)
    context = {
        "follow_up": follow_up,
        "now": timezone.now(),
        "overdue": follow_up.is_overdue(),
        "attempts": follow_up.attempts.select_related("user"),
        "children": follow_up.children.select_related("assignee", "group"),
        "may_work": may_work,
        "may_reassign": _may_reassign(request.user) and follow_up.is_open,
        "attempt_form": forms.get("attempt_form") or AttemptForm(follow_up),
        "close_form": forms.get("close_form") or CloseForm(),
        "reassign_form": forms.get("reassign_form")
        or ReassignForm(request.user, initial={"user": follow_up.assignee_id, "group": follow_up.group_id}),
        "closed_by": display_name(follow_up.closed_by) if follow_up.closed_by_id else "",
    }
    return context


@require_GET
def detail(request, pk):
    follow_up = _visible(request, pk)
    return render(request, "followups/detail.html", _detail_context(request, follow_up))


def _refused(request, follow_up, form_name, form):
    """The detail page again with the form's errors (400); nothing was recorded."""
    if form_name == "attempt_form":
        # Shown again with the attempts as they now are, so the next post is not refused as a double.
        form.data = form.data.copy()
        form.data["seen"] = str(follow_up.attempts.count())
    return render(
        request, "followups/detail.html", _detail_context(request, follow_up, **{form_name: form}), status=400
    )


@require_POST
def attempt(request, pk):
    follow_up = _visible(request, pk)
    with transaction.atomic():
        # Locked first, so two posts of the same form are counted one after the other.
        locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        form = AttemptForm(locked, request.POST)
        if not form.is_valid():
            return _refused(request, follow_up, "attempt_form", form)
        try:
            handling.log_attempt(
                locked,
                request.user,
                form.cleaned_data["result"],
                note=form.cleaned_data["note"],
                next_at=form.cleaned_data["next_at"],
            )
        except handling.NotAllowed as refused:
            form.add_error(None, str(refused))
            return _refused(request, follow_up, "attempt_form", form)
    messages.success(request, _("已记录联系结果。"))
    return redirect(follow_up.get_absolute_url())


@require_POST
def work(request, pk):
    follow_up = _visible(request, pk)
    try:
        run = handling.start_work(follow_up, request.user)
    except handling.NotAllowed as refused:
        messages.error(request, str(refused))
        return redirect(follow_up.get_absolute_url())
    if run.user_id != request.user.pk:
        # The follow-up is being worked by someone else's run: theirs to finish.
        messages.warning(request, _("%(name)s 正在处理这个跟进。") % {"name": display_name(run.user)})
        return redirect(follow_up.get_absolute_url())
    return redirect(run.get_absolute_url())


@require_POST
def close(request, pk):
    follow_up = _visible(request, pk)
    form = CloseForm(request.POST)
    if follow_up.status in CLOSED_STATUSES:
        messages.warning(request, _already_closed(follow_up))
        return redirect(follow_up.get_absolute_url())
    if not form.is_valid():
        return _refused(request, follow_up, "close_form", form)
    try:
        handling.close(
            follow_up,
            request.user,
            form.cleaned_data["status"],
            result=form.cleaned_data["result"],
            notes=form.cleaned_data["notes"],
        )
    except handling.NotAllowed as refused:
        messages.warning(request, str(refused))
        return redirect(follow_up.get_absolute_url())
    messages.success(request, _("跟进已关闭。"))
    return redirect(follow_up.get_absolute_url())


def _already_closed(follow_up):
    return _("这个跟进已经由%(who)s标记为%(status)s。") % {
        "who": display_name(follow_up.closed_by) if follow_up.closed_by_id else _("他人"),
        "status": follow_up.get_status_display(),
    }


@require_POST
def reassign(request):
    """Bulk: the ticked follow-ups to a person and/or a group (supervisors only)."""
    _require_followups(request)
    if not _may_reassign(request.user):
        raise PermissionDenied(_("你没有重新分配跟进的权限。"))
    form = ReassignForm(request.user, request.POST)
    fallback = reverse("followups:queue")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(request, fallback)
    chosen = list(form.cleaned_data["follow_ups"])
    try:
        changed = handling.reassign(
            chosen, request.user, user=form.cleaned_data["user"], group=form.cleaned_data["group"]
        )
    except handling.NotAllowed as refused:
        messages.error(request, str(refused))
        return _back(request, fallback)
    skipped = len(chosen) - changed
    if changed:
        messages.success(request, _("已重新分配 %(n)d 个跟进。") % {"n": changed})
    if skipped:
        messages.warning(request, _("%(n)d 个已关闭的跟进没有改动。") % {"n": skipped})
    return _back(request, fallback)


__all__ = ["attempt", "close", "detail", "queue", "reassign", "work"]
