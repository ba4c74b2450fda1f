"""The feedback pages: sending feedback (a page or an htmx fragment), the owner's list and actions,
the reporter's own list and answers, and one feedback with its history.

A page the user cannot see, a run that is not theirs and another user's feedback are a 404; a part
that is not on the page, an empty text, a tampered action are a 400 with a message; nothing is saved.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kb_site.content import roles

from . import handling
from .forms import Action, AnswerForm, FeedbackForm, HandleForm, ListFilterForm
from .models import Feedback
from .targets import TargetError, resolve

PAGE_SIZE = 30
PERMISSION = "feedback.handle_feedback"


def may_handle(user):
    return user.has_perm(PERMISSION)


def sees_all(user):
    """主管 see every feedback, not only what they or their groups own."""
    return user.is_superuser or user.groups.filter(name=roles.SUPERVISOR).exists()


def handled_by(user):
    """The feedback ``user`` may handle: owned by them or their groups; 主管 all of it."""
    feedback = Feedback.objects.all()
    return feedback if sees_all(user) else feedback.assigned_to(user)


def _with_relations(queryset):
    return queryset.select_related(
        "page", "reporter", "owner", "owner_group", "phrasing", "run", "revision", "fixed_revision"
    )


@require_http_methods(["GET", "POST"])
def new(request):
    """The form for one feedback on the part of a page the link names (``page``, ``block``, ``phrasing``,
    ``step``, ``run``); after sending, who it went to."""
    data = request.POST if request.method == "POST" else request.GET
    fragment = bool(getattr(request, "htmx", False))
    template = "feedback/includes/form.html" if fragment else "feedback/new.html"
    # htmx swaps no 4xx answer by default: a fragment saying what is wrong comes as a 200.
    refused = 200 if fragment else 400
    try:
        target = resolve(request.user, data)
    except TargetError as error:
        return render(request, template, {"error": error.message}, status=refused)
    if request.method == "GET":
        return render(request, template, {"target": target, "form": FeedbackForm()})
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return render(request, template, {"target": target, "form": form}, status=refused)
    feedback = handling.submit(target, request.user, form.cleaned_data["kind"], form.cleaned_data["text"])
    return render(request, template, {"target": target, "sent": feedback})


def handle_list(request):
    """Feedback assigned to me or my group (主管: all), open first by default, filtered by status and type."""
    if not may_handle(request.user):
        raise PermissionDenied
    return _handle_list(request)


def _handle_list(request, status=200, bound=None):
    filters = ListFilterForm(request.GET)
    wanted = filters.cleaned_data if filters.is_valid() else {}
    feedback = handled_by(request.user)
    chosen_status = wanted.get("status") or ""
    if chosen_status == "":
        feedback = feedback.open()
    elif chosen_status != "all":
        feedback = feedback.filter(status=chosen_status)
    if wanted.get("kind"):
        feedback = feedback.filter(kind=wanted["kind"])
    page = Paginator(_with_relations(feedback).order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    items = [
        {"feedback": f, "form": bound if bound and bound.feedback.pk == f.pk else HandleForm(f)} for f in page
    ]
    return render(
        request,
        "feedback/handle_list.html",
        {
            "filters": filters,
            "items": items,
            "page_obj": page,
        },
        status=status,
    )


@require_POST
def handle(request, pk):
    if not may_handle(request.user):
        raise PermissionDenied
    feedback = _with_relations(handled_by(request.user)).filter(pk=pk).first()
    if feedback is None:
        raise Http404(_("没有找到这条反馈。"))
    form = HandleForm(feedback, request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _handle_list(request, status=400, bound=form)
    action, note = form.cleaned_data["action"], form.cleaned_data["note"]
    try:
        if action == Action.FIX:
            handling.mark_fixed(feedback, request.user, form.cleaned_data["revision"], note)
            messages.success(request, _("已标为已修正，已通知反馈人。"))
        elif action == Action.REJECT:
            handling.reject(feedback, request.user, note)
            messages.success(request, _("已标为不采纳，已通知反馈人。"))
        else:
            handling.ask(feedback, request.user, note)
            messages.success(request, _("已请反馈人补充信息。"))
    except handling.AlreadyHandled as refused:
        messages.warning(request, refused.message)
    return redirect(_back(request, reverse("feedback:list")))


def _back(request, default):
    """Back to the list the form was on (its filters kept), never to another site."""
    target = request.POST.get("next") or ""
    return target if target.startswith("/feedback/") and not target.startswith("//") else default


def mine(request):
    """The feedback I sent, newest first, with its status, the owner's answer and any question for me."""
    feedback = _with_relations(Feedback.objects.filter(reporter=request.user)).order_by("-created_at", "-pk")
    page = Paginator(feedback, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "feedback/mine.html",
        {"page_obj": page, "items": page.object_list, "answer_form": AnswerForm()},
    )


@require_POST
def answer(request, pk):
    feedback = Feedback.objects.filter(pk=pk, reporter=request.user).first()
    if feedback is None:
        raise Http404(_("没有找到这条反馈。"))
    form = AnswerForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(reverse("feedback:detail", args=[feedback.pk]))
    try:
        handling.answer(feedback, request.user, form.cleaned_data["answer"])
        messages.success(request, _("已补充信息，反馈回到待处理。"))
    except handling.AlreadyHandled as refused:
        messages.warning(request, refused.message)
    return redirect(reverse("feedback:mine"))


def detail(request, pk):
    """One feedback with its history: for its reporter and for whoever may handle it."""
    handler = may_handle(request.user) and handled_by(request.user).filter(pk=pk).exists()
    visible = (
        Feedback.objects.filter(pk=pk) if handler else Feedback.objects.filter(pk=pk, reporter=request.user)
    )
    feedback = _with_relations(visible).first()
    if feedback is None:
        raise Http404(_("没有找到这条反馈。"))
    return render(
        request,
        "feedback/detail.html",
        {
            "feedback": feedback,
            "log": feedback.log.select_related("user"),
            "handler": handler,
            "form": HandleForm(feedback) if handler else None,
            "answer_form": AnswerForm() if feedback.reporter_id == request.user.pk else None,
        },
    )
