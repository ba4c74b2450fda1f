"""The trainee's own pages: their paths and items, the 待确认 list, confirming an article, asking the
mentor to sign off an offline task, scenario cards and the feedback on a scored practice run.

Views only route; the rules live in ``reading``, ``progress`` and ``practice``."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kb_site.content.models import ArticlePage
from procedures.forms import StartForm
from procedures.models import current_procedure
from procedures.runs import MoveRejected

from . import panels, practice, progress, reading
from .choices import Status
from .models import ItemProgress, PathAssignment, PracticeSession, ProcedureLicence, ScenarioCard


@require_GET
def my_training(request):
    """Every path assigned to the user, stage by stage, with each item's status, due date and score."""
    today = timezone.localdate()
    assignments = list(
        PathAssignment.objects.filter(user=request.user).select_related("path", "mentor", "cohort")
    )
    rows = list(ItemProgress.objects.filter(assignment__in=assignments).order_by("stage_index", "position"))
    links = panels.item_links(rows)
    by_assignment = {}
    for row in rows:
        row.link = links.get(row.pk, "")
        row.shown = row.shown_status(today)
        row.due_text = progress.due_label(row.due_date, today) if not row.is_finished else ""
        by_assignment.setdefault(row.assignment_id, []).append(row)
    paths = []
    for assignment in assignments:
        items = by_assignment.get(assignment.pk, [])
        stages = []
        for stage in assignment.path.plan():
            stage_rows = [r for r in items if r.stage_id == stage.id]
            stages.append(
                {
                    "stage": stage,
                    "rows": stage_rows,
                    "passed": progress.stage_passed(stage_rows),
                    "current": stage.index == assignment.current_stage,
                }
            )
        paths.append(
            {
                "assignment": assignment,
                "stages": stages,
                "status": progress.path_status(assignment, items, today),
            }
        )
    licences = list(ProcedureLicence.objects.filter(user=request.user).select_related("procedure"))
    context = {
        "paths": paths,
        "licences": licences,
        "licensed": {licence.procedure_id for licence in licences},
        "sessions": PracticeSession.objects.filter(user=request.user, scored_at__isnull=False)
        .select_related("run", "card")
        .order_by("-scored_at")[:10],
        "statuses": Status,
    }
    return render(request, "training/my_training.html", context)


@require_GET
def to_confirm(request):
    return render(request, "training/to_confirm.html", {"items": reading.to_confirm(request.user)})


@require_POST
def confirm_read(request, page_id):
    page = get_object_or_404(ArticlePage.objects.live(), pk=page_id)
    try:
        _confirmation, created = reading.confirm(request.user, page, request.POST)
    except reading.ConfirmRefused as refused:
        messages.error(request, refused.message)
    else:
        if created:
            messages.success(request, _("已确认阅读《%(title)s》。") % {"title": page.title})
        else:
            messages.info(request, _("你已经确认过这个版本，没有重复记录。"))
    return redirect(page.url + "#read-confirm")


@require_POST
def request_sign_off(request, progress_id):
    row = ItemProgress.objects.filter(pk=progress_id, assignment__user=request.user).first()
    if row is None:
        raise Http404(_("没有找到这个培训项目。"))
    try:
        progress.request_sign_off(row, request.user)
    except progress.NotAllowed as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("已提交，等待带教老师确认。"))
    return redirect(reverse("training:home") + f"#item-{row.pk}")


def _card_procedure(card):
    page = card.procedure.specific
    return page, (current_procedure(page.live_revision) if page.live_revision_id else None)


def _card_page(request, card, start_form, status=200):
    sessions = PracticeSession.objects.filter(user=request.user, card=card).select_related("run")[:20]
    context = {"card": card, "sessions": sessions, "must_say": card.must_say.all(), "start_form": start_form}
    return render(request, "training/card_detail.html", context, status=status)


@require_GET
def card_detail(request, card_id):
    """A scenario card: the customer, the facts, the must-say lines and the start form of a practice run
    (the procedure's own start values, as on its page)."""
    card = get_object_or_404(ScenarioCard.objects.select_related("procedure"), pk=card_id)
    _page, procedure = _card_procedure(card)
    start_form = StartForm.prefilled(procedure, request.GET, practice=True) if procedure else None
    return _card_page(request, card, start_form)


@require_POST
def start_card_practice(request, card_id):
    card = get_object_or_404(ScenarioCard.objects.select_related("procedure"), pk=card_id)
    page, procedure = _card_procedure(card)
    if procedure is None or not page.live:
        messages.error(request, _("这个流程还没有发布，不能练习。"))
        return redirect("training:card", card.pk)
    form = StartForm(procedure, request.POST)
    if not form.is_valid():
        return _card_page(request, card, form, status=400)
    try:
        run = practice.start_practice(
            card, request.user, variables=form.start_values(), ref=form.cleaned_data["ref"]
        )
    except MoveRejected as rejected:
        messages.error(request, rejected.message)
        return redirect("training:card", card.pk)
    return redirect(run.get_absolute_url())


@require_GET
def practice_feedback(request, session_id):
    session = PracticeSession.objects.select_related("run", "card", "user").filter(pk=session_id).first()
    if session is None or not (
        session.user_id == request.user.pk or progress.follows_trainee(request.user, session.user)
    ):
        raise Http404(_("没有找到这次练习。"))
    return render(request, "training/practice_feedback.html", {"session": session, "f": session.feedback})
