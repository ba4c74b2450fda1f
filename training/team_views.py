"""The team's pages: the dashboard, the sign-off queue and one trainee's progress, for mentors (their own
trainees) and for trainers and supervisors (``training.view_all_training``: everyone).

The dashboard reads the summary each assignment keeps (``progress.summarise``) and counts the rest in a
few aggregate queries, however many trainees there are; the trainee list is paged. Every change goes
through a form (``training.team_forms``) and ``training.progress``; a refused change is a message on the
page it came from and writes nothing. Someone else's trainee, or an id that does not exist, is the same
404, so ids cannot be probed.
"""

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from wagtail.models import Revision

from kb_site.content.models import ArticlePage
from procedures.models import ProcedurePage

from . import progress
from .choices import Gate, ItemKind, Status
from .models import (
    ItemProgress,
    PathAssignment,
    PracticeSession,
    ProcedureLicence,
    Quiz,
    QuizAttempt,
    ReadConfirmation,
    StatusChange,
)
from .models.paths import trainee_name
from .reports import UNFINISHED
from .team_forms import LicenceForm, SignOffForm, StatusChangeForm

__all__ = ["change_status", "dashboard", "grant_licence", "sign_off_queue", "team_scope", "trainee"]

TRAINEES_PER_PAGE = 50
OVERDUE_SHOWN = 50
QUEUE_SHOWN = 200


def sees_everyone(user):
    return user.is_superuser or user.has_perm("training.view_all_training")


def team_scope(user):
    """The assignments ``user`` follows on the team pages (every one for trainers and supervisors, their
    mentees for a mentor), or None for someone who follows nobody."""
    if sees_everyone(user):
        return PathAssignment.objects.all()
    mine = PathAssignment.objects.filter(mentor=user)
    return mine if mine.exists() else None


def refuse(request, message, status):
    return render(request, "refused.html", {"message": message}, status=status)


def not_found(request):
    return refuse(request, _("没有找到这个学员的培训，或你不是这个学员的带教老师。"), 404)


def not_on_the_team(request):
    return refuse(request, _("只有带教老师、培训师和主管可以查看团队培训进度。"), 403)


# --- the dashboard ---------------------------------------------------------------------------------


@require_GET
def dashboard(request):
    scope = team_scope(request.user)
    if scope is None:
        return not_on_the_team(request)
    today = timezone.localdate()
    trainees = Paginator(
        scope.select_related("user", "path", "cohort", "mentor").order_by(
            "-start_date", "user__username", "pk"
        ),
        TRAINEES_PER_PAGE,
    ).get_page(request.GET.get("page"))
    add_overdue_counts(trainees.object_list, today)
    add_last_activity(trainees.object_list)
    overdue = (
        ItemProgress.objects.filter(assignment__in=scope, due_date__lt=today, status__in=UNFINISHED)
        .select_related("assignment__user")
        .order_by("due_date", "assignment__user__username", "pk")
    )
    overdue_rows = list(overdue[:OVERDUE_SHOWN])
    for row in overdue_rows:
        row.days_late = (today - row.due_date).days
    context = {
        "sees_everyone": sees_everyone(request.user),
        "cohorts": stage_counts(scope),
        "overdue_rows": overdue_rows,
        "overdue_total": overdue.count() if len(overdue_rows) == OVERDUE_SHOWN else len(overdue_rows),
        "queue_count": progress.sign_off_queue(request.user).count(),
        "trainees": trainees,
        "today": today,
    }
    return render(request, "training/team/dashboard.html", context)


def add_overdue_counts(assignments, today):
    """Set ``overdue`` on each assignment of a page, in one grouped query over that page's items only
    (annotating the whole scope before paging counted every trainee's items: 0.26 s at 500 × 40)."""
    counts = dict(
        ItemProgress.objects.filter(
            assignment__in=[a.pk for a in assignments], due_date__lt=today, status__in=UNFINISHED
        )
        .values_list("assignment_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for assignment in assignments:
        assignment.overdue = counts.get(assignment.pk, 0)


def stage_counts(scope):
    """Per cohort (无批次 last), how many trainees are at each stage: one grouped query."""
    rows = (
        scope.values(
            "cohort_id", "cohort__name", "cohort__start_date", "current_stage", "current_stage_title"
        )
        .annotate(trainees=Count("pk"))
        .order_by()
    )
    cohorts = {}
    for row in rows:
        cohort = cohorts.setdefault(
            row["cohort_id"],
            {
                "name": row["cohort__name"] or _("无批次"),
                "start_date": row["cohort__start_date"],
                "stages": {},
                "total": 0,
            },
        )
        key = (row["current_stage"], row["current_stage_title"])
        cohort["stages"][key] = cohort["stages"].get(key, 0) + row["trainees"]
        cohort["total"] += row["trainees"]
    ordered = sorted(
        cohorts.items(),
        key=lambda item: (
            item[0] is None,
            -(item[1]["start_date"] or datetime.date.min).toordinal(),
            item[1]["name"],
        ),
    )
    return [
        {
            **cohort,
            "stages": [(title or "—", count) for (_index, title), count in sorted(cohort["stages"].items())],
        }
        for _pk, cohort in ordered
    ]


def add_last_activity(assignments):
    """Set ``last_activity`` on each assignment of a page: the trainee's latest read confirmation, quiz
    attempt, practice session or sign-off request (four grouped queries for the whole page)."""
    assignments = list(assignments)
    users = {a.user_id for a in assignments}
    latest = {}

    def keep(pairs):
        for user_id, when in pairs:
            if when is not None and (user_id not in latest or when > latest[user_id]):
                latest[user_id] = when

    keep(
        ReadConfirmation.objects.filter(user__in=users)
        .values("user")
        .annotate(at=Max("confirmed_at"))
        .values_list("user", "at")
    )
    keep(
        QuizAttempt.objects.filter(user__in=users)
        .values("user")
        .annotate(at=Max("started_at"))
        .values_list("user", "at")
    )
    keep(
        PracticeSession.objects.filter(user__in=users)
        .values("user")
        .annotate(at=Max("started_at"))
        .values_list("user", "at")
    )
    keep(
        ItemProgress.objects.filter(assignment__user__in=users, sign_off_requested_at__isnull=False)
        .values("assignment__user")
        .annotate(at=Max("sign_off_requested_at"))
        .values_list("assignment__user", "at")
    )
    for assignment in assignments:
        assignment.last_activity = latest.get(assignment.user_id)


# --- the sign-off queue ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_off_queue(request):
    if team_scope(request.user) is None:
        return not_on_the_team(request)
    queue = progress.sign_off_queue(request.user)
    if request.method == "POST":
        sign_off(request, queue, SignOffForm(request.POST))
        return redirect("training:sign_off_queue")
    rows = list(queue[:QUEUE_SHOWN])
    for row in rows:
        row.trainee = trainee_name(row.assignment.user)
    return render(
        request,
        "training/team/sign_off_queue.html",
        {"rows": rows, "total": queue.count(), "shown": QUEUE_SHOWN, "form": SignOffForm()},
    )


def sign_off(request, queue, form):
    """带教确认 of one row of ``queue`` (the user's own queue: another mentor's row is not in it)."""
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return None
    row = queue.filter(pk=form.cleaned_data["progress"]).first()
    if row is None:
        messages.error(request, _("这一项不在你的待确认列表中（可能已经确认过）。"))
        return None
    try:
        progress.set_status(row, Status.SIGNED_OFF, form.cleaned_data["reason"], by=request.user)
    except progress.NotAllowed as refused:
        messages.error(request, str(refused))
        return None
    messages.success(
        request,
        _("已确认 %(trainee)s 的“%(item)s”。")
        % {"trainee": trainee_name(row.assignment.user), "item": row.title},
    )
    return row


def form_errors(form):
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


# --- one trainee -----------------------------------------------------------------------------------


def followed_assignment(request, assignment_id):
    assignment = (
        PathAssignment.objects.select_related("user", "path", "cohort", "mentor")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None or not progress.can_follow(request.user, assignment):
        return None
    return assignment


@require_GET
def trainee(request, assignment_id):
    assignment = followed_assignment(request, assignment_id)
    if assignment is None:
        return not_found(request)
    today = timezone.localdate()
    rows = list(assignment.items.order_by("stage_index", "position"))
    for row in rows:
        row.shown = row.shown_status(today)
        row.due_text = (
            progress.due_label(row.due_date, today)
            if row.status not in (Status.DONE, Status.SIGNED_OFF)
            else ""
        )
    targets = {
        kind: {row.target_id for row in rows if row.kind in kinds and row.target_id}
        for kind, kinds in TARGET_KINDS.items()
    }
    user = assignment.user
    procedures = ProcedurePage.objects.filter(pk__in=targets["practice"]).order_by("title")
    licences = list(ProcedureLicence.objects.filter(user=user).select_related("procedure", "granted_by"))
    licensed = {licence.procedure_id for licence in licences}
    attempts = list(
        QuizAttempt.objects.filter(
            user=user, quiz_id__in=targets["quiz"], submitted_at__isnull=False
        ).order_by("-submitted_at")[:50]
    )
    quiz_versions = version_numbers(Quiz, {attempt.quiz_id for attempt in attempts})
    for attempt in attempts:
        attempt.version = quiz_versions.get(attempt.revision_id)
    context = {
        "assignment": assignment,
        "trainee": trainee_name(user),
        "stages": stages_of(assignment, rows),
        "status_form": StatusChangeForm(),
        "changes": StatusChange.objects.filter(progress__assignment=assignment)
        .select_related("progress", "changed_by")
        .order_by("-changed_at")[:100],
        "reading": reading_timeline(
            user,
            targets["read"],
            {row.target_id: n for n, row in enumerate(rows) if row.kind == ItemKind.READ},
        ),
        "attempts": attempts,
        "sessions": PracticeSession.objects.filter(user=user, procedure_id__in=targets["practice"])
        .select_related("card", "procedure", "run")
        .order_by("-started_at")[:50],
        "licences": licences,
        "licence_form": LicenceForm(procedures=[p for p in procedures if p.pk not in licensed]),
        "today": today,
    }
    return render(request, "training/team/trainee.html", context)


TARGET_KINDS = {
    "read": (ItemKind.READ,),
    "quiz": (ItemKind.QUIZ, ItemKind.PHRASINGS),
    "practice": (ItemKind.PRACTICE,),
}


def stages_of(assignment, rows):
    """The path's stages with the trainee's rows, whether each is passed and which is current."""
    by_stage = {}
    for row in rows:
        by_stage.setdefault(row.stage_index, []).append(row)
    plan = {stage.index: stage for stage in assignment.path.plan()}
    stages = []
    for index in sorted(set(plan) | set(by_stage)):
        stage_rows = by_stage.get(index, [])
        plan_stage = plan.get(index)
        stages.append(
            {
                "index": index,
                "title": plan_stage.title if plan_stage else "",
                "gate_label": Gate(plan_stage.gate if plan_stage else Gate.ALL_DONE).label,
                "rows": stage_rows,
                "passed": progress.stage_passed(stage_rows),
                "current": index == assignment.current_stage and not assignment.is_finished,
            }
        )
    return stages


def version_numbers(model, object_ids):
    """``{revision id: n}``: each revision's number among its object's revisions (1 = the first), so a
    timeline says 第 3 版 rather than a database id."""
    numbers, seen = {}, {}
    revisions = (
        Revision.objects.filter(
            base_content_type=model().get_base_content_type(), object_id__in=[str(pk) for pk in object_ids]
        )
        .order_by("pk")
        .values_list("pk", "object_id")
    )
    for revision_id, object_id in revisions:
        seen[object_id] = seen.get(object_id, 0) + 1
        numbers[revision_id] = seen[object_id]
    return numbers


def reading_timeline(user, page_ids, order):
    """For each article the path asks to read, in the path's order: the version the trainee last
    confirmed and the live one (a later live version means the article changed since: 需重学)."""
    if not page_ids:
        return []
    latest = {}
    for confirmation in ReadConfirmation.objects.filter(user=user, page_id__in=page_ids).order_by(
        "confirmed_at"
    ):
        latest[confirmation.page_id] = confirmation
    pages = ArticlePage.objects.in_bulk(page_ids)
    numbers = version_numbers(ArticlePage, page_ids)
    entries = []
    for page_id in sorted(pages, key=lambda pk: order.get(pk, 0)):
        page = pages[page_id]
        confirmation = latest.get(page.pk)
        learned = confirmation.revision_id if confirmation else None
        entries.append(
            {
                "page": page,
                "learned": numbers.get(learned),
                "confirmed_at": confirmation.confirmed_at if confirmation else None,
                "live": numbers.get(page.live_revision_id),
                "stale": learned is not None
                and page.live_revision_id is not None
                and learned < page.live_revision_id,
            }
        )
    return entries


@require_POST
def change_status(request, progress_id):
    row = ItemProgress.objects.select_related("assignment__user").filter(pk=progress_id).first()
    if row is None or not progress.can_follow(request.user, row.assignment):
        return not_found(request)
    form = StatusChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
    else:
        status = form.cleaned_data["status"]
        try:
            progress.set_status(row, status, form.cleaned_data["reason"], by=request.user)
        except progress.NotAllowed as refused:
            messages.error(request, str(refused))
        else:
            messages.success(
                request,
                _("已把“%(item)s”改为“%(status)s”。") % {"item": row.title, "status": Status(status).label},
            )
    return redirect("training:trainee", row.assignment_id)


@require_POST
def grant_licence(request, assignment_id):
    assignment = followed_assignment(request, assignment_id)
    if assignment is None:
        return not_found(request)
    practised = ItemProgress.objects.filter(assignment=assignment, kind=ItemKind.PRACTICE).values("target_id")
    licensed = ProcedureLicence.objects.filter(user=assignment.user).values("procedure_id")
    form = LicenceForm(
        request.POST, procedures=ProcedurePage.objects.filter(pk__in=practised).exclude(pk__in=licensed)
    )
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect("training:trainee", assignment.pk)
    procedure = form.cleaned_data["procedure"]
    try:
        _licence, created = progress.grant_licence(
            assignment.user, procedure, by=request.user, reason=form.cleaned_data["reason"]
        )
    except progress.NotAllowed as refused:
        messages.error(request, str(refused))
    else:
        if created:
            messages.success(request, _("已授予“%(procedure)s”的上岗资格。") % {"procedure": procedure.title})
        else:
            messages.info(request, _("学员已有“%(procedure)s”的上岗资格。") % {"procedure": procedure.title})
    return redirect("training:trainee", assignment.pk)
