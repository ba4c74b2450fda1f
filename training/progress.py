"""Keeping trainees' progress in step with what they did.

- ``assign(user, path, ...)`` gives a trainee a path: one ``ItemProgress`` row per item with its due
  date. ``sync_assignment`` adds rows for items a trainer added later (and drops rows of removed items).
- ``refresh(user, kind, target_id)`` re-reads the evidence for the items pointing at one thing (an
  article, a quiz, a procedure) after a confirmation, an attempt or a practice session, and sets their
  status and best score. Evidence older than a manual change is not read: a mentor's 需重学 stands until
  the trainee does the item again.
- ``set_status`` is a manual change, always with a reason (``StatusChange``).
- Every change ends in ``summarise``, which keeps the assignment's current stage and counts up to date,
  so the dashboards read one row per trainee.
"""

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Page

from kb_site.content import roles

from .choices import FINISHED, ConfirmationKind, Gate, ItemKind, Status
from .models import (
    ItemProgress,
    LearningPath,
    PathAssignment,
    PracticeSession,
    ProcedureLicence,
    Quiz,
    QuizAttempt,
    ReadConfirmation,
    StatusChange,
    TrainingSettings,
)

__all__ = [
    "NotAllowed",
    "assign",
    "assign_cohort",
    "assign_for_groups",
    "can_follow",
    "due_label",
    "follows_trainee",
    "grant_licence",
    "is_new_hire",
    "licence_status",
    "needed_passes",
    "refresh",
    "request_sign_off",
    "path_status",
    "set_status",
    "sign_off_queue",
    "stage_passed",
    "summarise",
    "sync_assignment",
    "path_layout",
    "sync_path",
]


def training_settings():
    return TrainingSettings.load()


def default_passes(path=None):
    if path is not None and path.practice_passes:
        return path.practice_passes
    return training_settings().practice_passes


def assign(user, path, *, start_date=None, mentor=None, cohort=None, layout=None):
    """Give ``user`` the path (or update the existing assignment's start, mentor and cohort); ``layout``
    is the path's ``path_layout`` when the caller assigns it to many."""
    with transaction.atomic():
        assignment, created = PathAssignment.objects.get_or_create(
            user=user,
            path=path,
            defaults={"start_date": start_date or timezone.localdate(), "mentor": mentor, "cohort": cohort},
        )
        if not created:
            changed = []
            for field, value in (("start_date", start_date), ("mentor", mentor), ("cohort", cohort)):
                if value is not None and getattr(assignment, field) != value:
                    setattr(assignment, field, value)
                    changed.append(field)
            if changed:
                assignment.save(update_fields=changed)
        sync_assignment(assignment, path, layout)
    return assignment


def assign_cohort(cohort):
    """Assign the cohort's path to each of its members (start date and mentor from the cohort)."""
    layout = path_layout(cohort.path)
    return [
        assign(
            member,
            cohort.path,
            start_date=cohort.start_date,
            mentor=cohort.mentor,
            cohort=cohort,
            layout=layout,
        )
        for member in cohort.members.all()
    ]


def assign_for_groups(user, groups):
    """Assign the paths set to follow any of ``groups`` (joining a group can assign its path)."""
    paths = LearningPath.objects.filter(auto_groups__in=groups).distinct()
    return [
        assign(user, path)
        for path in paths
        if not PathAssignment.objects.filter(user=user, path=path).exists()
    ]


def sync_path(path):
    """After a trainer edits a path: every assignment gets the path's items as they are now."""
    layout = path_layout(path)
    for assignment in path.assignments.all():
        sync_assignment(assignment, path, layout)


def path_layout(path):
    """``[(item, fields)]``: each item of the path with the row fields every trainee's copy shares (title,
    stage, position, target, gate, passes needed). Read once per path: the titles of what items point at
    take one query per kind, not one per item and trainee."""
    items = [(stage, position, item) for stage in path.plan() for position, item in enumerate(stage.items)]
    untitled = [item for _stage, _position, item in items if not item.title and item.target_id is not None]
    quiz_ids = {item.target_id for item in untitled if item.kind in (ItemKind.QUIZ, ItemKind.PHRASINGS)}
    page_ids = {item.target_id for item in untitled if item.kind not in (ItemKind.QUIZ, ItemKind.PHRASINGS)}
    quizzes = Quiz.objects.in_bulk(quiz_ids) if quiz_ids else {}
    pages = Page.objects.in_bulk(page_ids) if page_ids else {}
    passes = default_passes(path)
    layout = []
    for stage, position, item in items:
        target = (quizzes if item.kind in (ItemKind.QUIZ, ItemKind.PHRASINGS) else pages).get(item.target_id)
        title = item.title or (target.title if target is not None else item.kind_label)
        needed = item.value.get("passes") if isinstance(item.value, dict) else None
        layout.append(
            (
                item,
                {
                    "stage_id": stage.id,
                    "stage_index": stage.index,
                    "position": position,
                    "kind": item.kind,
                    "title": title[:255],
                    "target_id": item.target_id,
                    "gate": stage.gate,
                    "needed_passes": (needed if isinstance(needed, int) and needed > 0 else passes)
                    if item.kind == ItemKind.PRACTICE
                    else 0,
                },
            )
        )
    return layout


def sync_assignment(assignment, path=None, layout=None):
    """Create, update or drop ``ItemProgress`` rows so they match the path's items, then re-read the
    evidence for new rows and summarise."""
    path = path or assignment.path
    existing = {row.item_id: row for row in assignment.items.all()}
    seen = set()
    new_rows = []
    for item, shared in layout or path_layout(path):
        seen.add(item.id)
        fields = {**shared, "due_date": assignment.due_date(item.due_day)}
        row = existing.get(item.id)
        if row is None:
            new_rows.append(ItemProgress(assignment=assignment, item_id=item.id, **fields))
        elif any(getattr(row, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(row, name, value)
            row.save()
    ItemProgress.objects.bulk_create(new_rows)
    gone = [row.pk for item_id, row in existing.items() if item_id not in seen]
    if gone:
        ItemProgress.objects.filter(pk__in=gone).delete()
    for row in assignment.items.filter(item_id__in=[r.item_id for r in new_rows]):
        _evaluate(row, assignment.user_id)
    summarise(assignment)


def refresh(user, kind, target_id):
    """Re-read the evidence for ``user``'s items of ``kind`` (a kind or a tuple) pointing at ``target_id``."""
    kinds = kind if isinstance(kind, (tuple, list)) else (kind,)
    rows = list(
        ItemProgress.objects.filter(
            assignment__user=user, kind__in=kinds, target_id=target_id
        ).select_related("assignment")
    )
    for row in rows:
        _evaluate(row, user.pk)
    for assignment in {row.assignment_id: row.assignment for row in rows}.values():
        summarise(assignment)
    return rows


def _since(row, queryset, field):
    return queryset.filter(**{f"{field}__gt": row.manual_at}) if row.manual_at else queryset


def _evaluate(row, user_id):
    """Set one row's status, score and pass count from the evidence newer than its last manual change."""
    status, score, passes, finished_at = row.status, row.score, row.passes, row.finished_at
    if row.kind == ItemKind.READ:
        confirmations = _since(
            row,
            ReadConfirmation.objects.filter(
                user_id=user_id, page_id=row.target_id, kind=ConfirmationKind.READ
            ),
            "confirmed_at",
        )
        latest = confirmations.order_by("-confirmed_at").first()
        if latest is not None:
            status, finished_at = Status.DONE, latest.confirmed_at
    elif row.kind in (ItemKind.QUIZ, ItemKind.PHRASINGS):
        attempts = _since(
            row,
            QuizAttempt.objects.filter(user_id=user_id, quiz_id=row.target_id, submitted_at__isnull=False),
            "submitted_at",
        )
        summary = attempts.aggregate(
            best=Max("score"), count=Count("pk"), passed=Count("pk", filter=Q(passed=True))
        )
        if summary["count"]:
            score = summary["best"]
            if summary["passed"]:
                first_pass = attempts.filter(passed=True).order_by("submitted_at").first()
                status, finished_at = Status.DONE, first_pass.submitted_at
            else:
                status = Status.FAILED
    elif row.kind == ItemKind.PRACTICE:
        sessions = _since(
            row,
            PracticeSession.objects.filter(
                user_id=user_id, procedure_id=row.target_id, scored_at__isnull=False
            ),
            "scored_at",
        )
        summary = sessions.aggregate(
            best=Max("score"), count=Count("pk"), passed=Count("pk", filter=Q(passed=True))
        )
        passes = summary["passed"]
        if summary["count"]:
            score = summary["best"]
            status = Status.IN_PROGRESS
        licensed = ProcedureLicence.objects.filter(
            user_id=user_id, procedure_id=row.target_id, source=ProcedureLicence.Source.MANUAL
        ).exists()
        if passes >= max(row.needed_passes, 1) or licensed:
            status = Status.DONE
            finished_at = finished_at or timezone.now()
    elif row.kind == ItemKind.OFFLINE and row.sign_off_requested_at and row.status not in FINISHED:
        status = Status.IN_PROGRESS
    # A finished item of a stage gated by the mentor stays 已完成 until signed off; signed off stays.
    if row.status == Status.SIGNED_OFF and status == Status.DONE:
        status = Status.SIGNED_OFF
    if status not in FINISHED:
        finished_at = None
    if (status, score, passes, finished_at) != (row.status, row.score, row.passes, row.finished_at):
        row.status, row.score, row.passes, row.finished_at = status, score, passes, finished_at
        row.save(update_fields=["status", "score", "passes", "finished_at", "updated_at"])


def stage_passed(rows):
    if not rows:
        return True
    if rows[0].gate == Gate.MENTOR:
        return all(row.status == Status.SIGNED_OFF for row in rows)
    return all(row.status in FINISHED for row in rows)


def path_status(assignment, rows, today=None):
    """A path's status from its items: 已完成 when every stage passed; else 逾期, 未通过 or 需重学 when an
    item is; 进行中 once anything was done; 未开始 before."""
    if assignment.completed_at is not None:
        return Status.DONE
    shown = {row.shown_status(today) for row in rows}
    for status in (Status.OVERDUE, Status.FAILED, Status.RELEARN):
        if status in shown:
            return status
    if shown - {Status.NOT_STARTED}:
        return Status.IN_PROGRESS
    return Status.NOT_STARTED


def summarise(assignment):
    """Store the assignment's current stage, counts and completion (read by every dashboard)."""
    rows = list(assignment.items.all().order_by("stage_index", "position"))
    stages = {}
    for row in rows:
        stages.setdefault(row.stage_index, []).append(row)
    plan = {stage.index: stage.title for stage in assignment.path.plan()}
    current = None
    for index in sorted(stages):
        if not stage_passed(stages[index]):
            current = index
            break
    finished = sum(1 for row in rows if row.status in FINISHED)
    assignment.finished_items = finished
    assignment.total_items = len(rows)
    if current is None:
        assignment.current_stage = len(plan)
        assignment.current_stage_title = _("已完成")
        assignment.completed_at = assignment.completed_at or timezone.now()
    else:
        assignment.current_stage = current
        assignment.current_stage_title = plan.get(current, "")[:60]
        assignment.completed_at = None
    assignment.save(
        update_fields=[
            "finished_items",
            "total_items",
            "current_stage",
            "current_stage_title",
            "completed_at",
        ]
    )


class NotAllowed(Exception):
    """A manual change refused: the message says why."""


def follows_trainee(viewer, trainee):
    """Whether ``viewer`` may read ``trainee``'s records (attempts, practice): trainers and supervisors,
    and the mentor of any of the trainee's paths."""
    if viewer.is_superuser or viewer.has_perm("training.view_all_training"):
        return True
    return PathAssignment.objects.filter(user=trainee, mentor=viewer).exists()


def can_follow(user, assignment):
    """Whether ``user`` may see and change this trainee's progress: their mentor, trainers, supervisors."""
    return user.is_superuser or assignment.mentor_id == user.pk or user.has_perm("training.view_all_training")


def set_status(progress, status, reason, by, now=None):
    """A manual status change with its reason (需重学, 带教确认, 已完成 by hand ...)."""
    reason = (reason or "").strip()
    if not reason:
        raise NotAllowed(_("修改状态必须填写原因。"))
    if status not in [s.value for s in Status] or status == Status.OVERDUE:
        raise NotAllowed(_("不能设为这个状态。"))
    now = now or timezone.now()
    with transaction.atomic():
        progress = ItemProgress.objects.select_for_update().select_related("assignment").get(pk=progress.pk)
        if progress.status == status:
            raise NotAllowed(_("状态已经是“%(status)s”。") % {"status": Status(status).label})
        StatusChange.objects.create(
            progress=progress,
            old_status=progress.status,
            new_status=status,
            reason=reason[:2000],
            changed_by=by,
            changed_at=now,
        )
        progress.status = status
        progress.manual_at = now
        progress.finished_at = now if status in FINISHED else None
        if status not in FINISHED:
            progress.sign_off_requested_at = None
        progress.save(
            update_fields=["status", "manual_at", "finished_at", "sign_off_requested_at", "updated_at"]
        )
        summarise(progress.assignment)
    return progress


def request_sign_off(progress, user, now=None):
    """The trainee says an offline task is done: it waits in the mentor's sign-off queue."""
    with transaction.atomic():
        progress = ItemProgress.objects.select_for_update().select_related("assignment").get(pk=progress.pk)
        if progress.assignment.user_id != user.pk:
            raise NotAllowed(_("这不是你的培训项目。"))
        if progress.kind != ItemKind.OFFLINE:
            raise NotAllowed(_("只有线下任务需要申请带教确认。"))
        if progress.status in FINISHED:
            raise NotAllowed(_("这一项已经完成。"))
        if progress.sign_off_requested_at:
            raise NotAllowed(_("已经申请过了，等待带教老师确认。"))
        progress.sign_off_requested_at = now or timezone.now()
        progress.status = Status.IN_PROGRESS
        progress.save(update_fields=["sign_off_requested_at", "status", "updated_at"])
        summarise(progress.assignment)
    return progress


def sign_off_queue(user):
    """Items waiting for a mentor: offline tasks reported done, and finished items of mentor-gated
    stages; for a mentor their trainees', for trainers and supervisors everyone's."""
    rows = ItemProgress.objects.filter(
        Q(kind=ItemKind.OFFLINE, sign_off_requested_at__isnull=False, status=Status.IN_PROGRESS)
        | Q(gate=Gate.MENTOR, status=Status.DONE)
    ).select_related("assignment__user", "assignment__path")
    if not (user.is_superuser or user.has_perm("training.view_all_training")):
        rows = rows.filter(assignment__mentor=user)
    return rows.order_by("sign_off_requested_at", "finished_at")


# --- licences ---------------------------------------------------------------------------------


def is_new_hire(user):
    return user.is_authenticated and user.groups.filter(name=roles.NEW_HIRE).exists()


def needed_passes(user, procedure_id):
    """How many passing practice runs ``user`` needs for a licence: the most any of their paths asks."""
    needed = list(
        ItemProgress.objects.filter(
            assignment__user=user, kind=ItemKind.PRACTICE, target_id=procedure_id
        ).values_list("needed_passes", flat=True)
    )
    return max(needed) if needed else training_settings().practice_passes


def licence_status(user, procedure_id):
    """``(licensed, passes, needed)`` for a new hire and one procedure."""
    if ProcedureLicence.objects.filter(user=user, procedure_id=procedure_id).exists():
        return True, None, None
    passes = PracticeSession.objects.filter(user=user, procedure_id=procedure_id, passed=True).count()
    needed = needed_passes(user, procedure_id)
    return passes >= needed, passes, needed


def grant_licence(user, procedure, *, by=None, reason="", source=ProcedureLicence.Source.MANUAL):
    if source == ProcedureLicence.Source.MANUAL and not (reason or "").strip():
        raise NotAllowed(_("授予上岗资格必须填写原因。"))
    licence, created = ProcedureLicence.objects.get_or_create(
        user=user,
        procedure=procedure,
        defaults={"source": source, "granted_by": by, "reason": (reason or "").strip()[:2000]},
    )
    if created and source == ProcedureLicence.Source.MANUAL:
        refresh(user, ItemKind.PRACTICE, procedure.pk)
    return licence, created


def due_label(due_date, today=None):
    """``D+3`` style label relative to today: 今天到期 / 还剩 N 天 / 逾期 N 天."""
    if due_date is None:
        return ""
    today = today or timezone.localdate()
    days = (due_date - today).days
    if days == 0:
        return _("今天到期")
    if days > 0:
        return _("还剩 %(days)s 天") % {"days": days}
    return _("逾期 %(days)s 天") % {"days": -days}
