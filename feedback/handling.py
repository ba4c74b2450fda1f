"""Recording feedback and every change to it, with its log row and the notices it sends.

Each change is a conditional UPDATE on the status it expects (``_move``): a second submit of the same
action, or one made after someone else handled the feedback, changes no row and raises
``AlreadyHandled``; nothing is logged twice.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .choices import OPEN_STATUSES, FeedbackStatus, NoticeKind
from .models import Feedback, FeedbackLog, FeedbackNotice


class AlreadyHandled(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def owners_to_tell(feedback):
    """Who is told of new feedback: its owner, else each active member of the owning group."""
    if feedback.owner_id:
        return [feedback.owner]
    if feedback.owner_group_id:
        return list(get_user_model().objects.filter(groups=feedback.owner_group_id, is_active=True))
    return []


@transaction.atomic
def submit(target, user, kind, text):
    feedback = Feedback.objects.create(
        reporter=user,
        page=target.page,
        block_id=target.block_id,
        phrasing=target.phrasing,
        step_key=target.step_key,
        run=target.run,
        revision=target.revision,
        kind=kind,
        text=text,
        owner=target.owner,
        owner_group=target.owner_group,
    )
    FeedbackLog.objects.create(
        feedback=feedback, user=user, to_status=FeedbackStatus.OPEN, at=feedback.created_at
    )
    _notify(feedback, [u for u in owners_to_tell(feedback) if u.pk != user.pk], NoticeKind.NEW)
    return feedback


def _notify(feedback, users, kind):
    FeedbackNotice.objects.bulk_create(FeedbackNotice(user=u, feedback=feedback, kind=kind) for u in users)


def _move(feedback, user, expected, to_status, note, **fields):
    now = timezone.now()
    changed = Feedback.objects.filter(pk=feedback.pk, status__in=expected).update(
        status=to_status, updated_at=now, **fields
    )
    if not changed:
        feedback.refresh_from_db()
        raise AlreadyHandled(
            _("这条反馈现在是“%(status)s”，这次操作没有记录。") % {"status": feedback.get_status_display()}
        )
    from_status = feedback.status
    feedback.refresh_from_db()
    FeedbackLog.objects.create(
        feedback=feedback, user=user, at=now, from_status=from_status, to_status=to_status, note=note
    )
    return feedback


@transaction.atomic
def mark_fixed(feedback, user, revision, note=""):
    feedback = _move(feedback, user, OPEN_STATUSES, FeedbackStatus.FIXED, note, fixed_revision=revision)
    _notify(feedback, [feedback.reporter], NoticeKind.FIXED)
    return feedback


@transaction.atomic
def reject(feedback, user, reason):
    feedback = _move(feedback, user, OPEN_STATUSES, FeedbackStatus.REJECTED, reason, reject_reason=reason)
    _notify(feedback, [feedback.reporter], NoticeKind.REJECTED)
    return feedback


@transaction.atomic
def ask(feedback, user, question):
    feedback = _move(
        feedback,
        user,
        [FeedbackStatus.OPEN],
        FeedbackStatus.NEEDS_INFO,
        question,
        question=question,
        answer="",
    )
    _notify(feedback, [feedback.reporter], NoticeKind.QUESTION)
    return feedback


@transaction.atomic
def answer(feedback, user, text):
    feedback = _move(feedback, user, [FeedbackStatus.NEEDS_INFO], FeedbackStatus.OPEN, text, answer=text)
    _notify(feedback, [u for u in owners_to_tell(feedback) if u.pk != user.pk], NoticeKind.ANSWERED)
    return feedback
