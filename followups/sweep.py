"""The follow-up sweep: the scheduled work that chases open follow-ups (``sweep``).

Each run looks at the clock once and, in set-based queries (never one query per follow-up of the table):

- 即将到期: an open follow-up due within ``FollowUpSettings.due_soon_minutes`` tells whoever it is
  assigned to (the assignee; a group's follow-up without one, the group lead), once.
- 已超时: an open follow-up past its due time tells its assignee, once.
- 升级给我: at its due time an open follow-up goes up to the group lead (``escalation_level`` 1,
  ``last_escalated_at``), and again every ``escalate_again_hours`` while it stays open (2, 3, …). The lead
  is the ``GroupLead`` of the follow-up's group, else of the assignee's first group that has one; a
  follow-up with nobody to tell still moves up a level (the next lead named hears of the next level).

A notice is a ``Notice`` row, unique per (user, follow-up, kind, level): running the sweep twice sends
nothing new. Only the rows this run created (``created_at`` is this run's clock) go out:

- by email, one message per recipient per sweep (the single notice, or a digest of them), over one
  connection;
- to the group robot (``FollowUpSettings.webhook_url``), one POST per sweep: the first lines that fit
  the robots' 2,048-byte text limit (20 at most) and “等 N 条” for the rest. A sweep that finds
  thousands of overdue follow-ups after a weekend posts one message, not thousands.

A mail server or a robot that fails is logged; the notices stay in the app (the bell).

Production triggers it every minute through the task worker: ``manage.py followup_sweep --enqueue``
from cron or a systemd timer (README); ``make run`` runs ``followup_sweep --enqueue --every 60``.
"""

import logging
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from .choices import NoticeKind
from .models import FollowUp, FollowUpSettings, GroupLead, Notice
from .notices import message_for, post_webhook

logger = logging.getLogger(__name__)

__all__ = ["WEBHOOK_BYTES", "WEBHOOK_LINES", "sweep"]

CHUNK = 2000  # ids per ``IN (...)``: well under SQLite's limit on variables
WEBHOOK_LINES = 20
WEBHOOK_BYTES = 2000  # WeCom refuses text over 2,048 bytes (UTF-8); DingTalk takes more
EMAIL_LINES = 200


def sweep(now=None):
    """Send every notice due at ``now`` (default: the current time) that has not been sent.

    Returns the number of notices sent per kind: ``due_soon``, ``overdue``, ``escalated`` (level 1) and
    ``escalated_again`` (level 2 and above), plus ``escalations`` (follow-ups moved up a level, with or
    without a lead to tell).
    """
    now = now or timezone.now()
    settings = FollowUpSettings.load()
    open_ones = FollowUp.objects.open()
    counts = {}
    created = []

    # 即将到期: to the assignee, else the lead of the follow-up's group (who was told it was assigned).
    due_soon = (
        open_ones.filter(
            due_at__gt=now, due_at__lte=now + timezone.timedelta(minutes=settings.due_soon_minutes)
        )
        .annotate(recipient=Coalesce("assignee_id", "group__lead__user_id"))
        .filter(recipient__isnull=False)
    )
    found = _create(_not_sent(due_soon, NoticeKind.DUE_SOON), NoticeKind.DUE_SOON, now)
    counts["due_soon"] = len(found)
    created += found

    overdue = open_ones.filter(due_at__lte=now, assignee__isnull=False, assignee__is_active=True).annotate(
        recipient=F("assignee_id")
    )
    found = _create(_not_sent(overdue, NoticeKind.OVERDUE), NoticeKind.OVERDUE, now)
    counts["overdue"] = len(found)
    created += found

    found, escalations = _escalate(open_ones, now, settings)
    counts["escalated"] = sum(1 for notice in found if notice.level == 1)
    counts["escalated_again"] = len(found) - counts["escalated"]
    counts["escalations"] = escalations
    created += found

    _send(created, settings.webhook_url)
    return counts


def _not_sent(follow_ups, kind):
    """``(follow-up id, recipient id)`` of ``follow_ups`` whose recipient has no ``kind`` notice yet."""
    sent = Notice.objects.filter(follow_up=OuterRef("pk"), kind=kind, level=0, user=OuterRef("recipient"))
    return list(follow_ups.filter(~Exists(sent)).values_list("pk", "recipient"))


def _create(pairs, kind, now, levels=None):
    """Create the notices ``(follow-up id, user id)`` of ``kind``; returns those this run created.

    ``ignore_conflicts`` lets a sweep running at the same moment (a manual one beside the worker's) lose
    quietly; reading back by this run's ``created_at`` tells which rows are ours to send.
    """
    levels = levels or {}
    ours = []
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start : start + CHUNK]
        Notice.objects.bulk_create(
            [
                Notice(user_id=user_id, follow_up_id=pk, kind=kind, level=levels.get(pk, 0), created_at=now)
                for pk, user_id in chunk
            ],
            ignore_conflicts=True,
        )
        ours += (
            Notice.objects.filter(kind=kind, created_at=now, follow_up_id__in=[pk for pk, _ in chunk])
            .select_related("user", "follow_up")
            .only(
                "kind",
                "level",
                "user__email",
                "user__username",
                "user__first_name",
                "user__last_name",
                "follow_up__kind",
                "follow_up__title",
                "follow_up__due_at",
            )
        )
    return ours


def _leads():
    """``(lead of group, lead of user)``: each group's lead, and each member's first led group's lead
    (groups in id order), active leads only."""
    of_group = dict(GroupLead.objects.filter(user__is_active=True).values_list("group_id", "user_id"))
    of_user = {}
    membership = get_user_model().groups.through.objects.filter(group_id__in=of_group).order_by("group_id")
    for user_id, group_id in membership.values_list("user_id", "group_id"):
        of_user.setdefault(user_id, of_group[group_id])
    return of_group, of_user


def _escalate(open_ones, now, settings):
    """Move overdue follow-ups up a level and tell their lead; returns (notices, follow-ups moved)."""
    again = now - timezone.timedelta(hours=settings.escalate_again_hours)
    due = open_ones.filter(due_at__lte=now).filter(Q(escalation_level=0) | Q(last_escalated_at__lte=again))
    by_level = defaultdict(list)
    for row in due.values_list("pk", "escalation_level", "group_id", "assignee_id"):
        by_level[row[1]].append(row)
    if not by_level:
        return [], 0
    of_group, of_user = _leads()
    notices, moved = [], 0
    for level, rows in by_level.items():
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            ids = [row[0] for row in chunk]
            # Conditional on the level read: a sweep running beside this one moves each follow-up once.
            FollowUp.objects.filter(pk__in=ids, escalation_level=level).update(
                escalation_level=level + 1, last_escalated_at=now
            )
            ours = set(
                FollowUp.objects.filter(
                    pk__in=ids, escalation_level=level + 1, last_escalated_at=now
                ).values_list("pk", flat=True)
            )
            moved += len(ours)
            pairs = []
            for pk, _level, group_id, assignee_id in chunk:
                lead = of_group.get(group_id) or of_user.get(assignee_id)
                if pk in ours and lead is not None:
                    pairs.append((pk, lead))
            notices += _create(pairs, NoticeKind.ESCALATED, now, levels=dict.fromkeys(ours, level + 1))
    return notices, moved


def _text(notice):
    text = message_for(notice)
    if notice.kind == NoticeKind.ESCALATED and notice.level > 1:
        text += f"（第 {notice.level} 次升级）"
    return text


def _name(user):
    return user.get_full_name() or user.get_username()


def _send(notices, webhook_url):
    if not notices:
        return
    by_user = defaultdict(list)
    lines = []
    for notice in notices:
        if notice.user.email:
            by_user[notice.user].append(notice)
        if webhook_url and len(lines) < WEBHOOK_LINES:
            lines.append(f"{_text(notice)} → {_name(notice.user)}")
    _email(by_user)
    if webhook_url:
        post_webhook(webhook_url, webhook_summary(lines, len(notices)))


def _email(by_user):
    messages = []
    for user, notices in by_user.items():
        texts = [_text(notice) for notice in notices[:EMAIL_LINES]]
        if len(notices) == 1:
            subject = body = texts[0]
        else:
            subject = f"【跟进提醒】{len(notices)} 条"
            body = "\n".join(texts)
            if len(notices) > EMAIL_LINES:
                body += f"\n等 {len(notices)} 条"
        messages.append(EmailMessage(subject, body, None, [user.email]))
    if not messages:
        return
    try:
        get_connection(fail_silently=False).send_messages(messages)
    except Exception:  # a mail server down must not stop the sweep: the notices are in the app
        logger.exception("follow-up notice emails (%d) failed", len(messages))


def webhook_summary(lines, total):
    """One robot message: as many of ``lines`` as fit ``WEBHOOK_BYTES``, then “等 N 条” when some are left."""
    head = f"【跟进提醒】{total} 条" if total > 1 else ""
    kept = []
    size = len(head.encode())
    for line in lines:
        size += len(line.encode()) + 1
        if size > WEBHOOK_BYTES - 40:  # room for the “等 N 条” line
            break
        kept.append(line)
    body = "\n".join([head, *kept] if head else kept)
    if len(kept) < total:
        body += f"\n等 {total} 条"
    return body
