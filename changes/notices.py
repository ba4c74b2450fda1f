"""Change notices: who is asked to acknowledge a published 重大变更, what they still owe, and
acknowledging it.

The audience of a major change (``notify_major_change``, from the ``page_published`` receiver): the
agents who ran the procedure live (practice runs do not count) or opened the page within
``CALLBOOK_CHANGE_AUDIENCE_DAYS`` days (``PageView``), and those whose learning path includes it (a
reading item for an article, a practice item for a procedure). The publisher is not asked. Each gets a
``NoticeRecipient`` row; their acknowledgement is a ``training.ReadConfirmation`` of the notice's
revision (kind 变更确认), recorded once however often the form is sent.
"""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import PageLogEntry

from kb_site.content.models import ChangeClass
from procedures.models import ProcedurePage, ProcedureRun
from training.choices import ConfirmationKind, ItemKind
from training.models import ItemProgress, ReadConfirmation

from .models import ChangeNotice, NoticeRecipient, PageView

__all__ = [
    "AckRefused",
    "acknowledge",
    "audience",
    "audience_days",
    "due_days",
    "notify_major_change",
    "may_have_pending",
    "pending_notices",
    "record_view",
]


def audience_days():
    return getattr(settings, "CALLBOOK_CHANGE_AUDIENCE_DAYS", 30)


def due_days():
    return getattr(settings, "CALLBOOK_CHANGE_ACK_DUE_DAYS", 7)


def record_view(user, page, today=None):
    """Count one opening of ``page`` by ``user`` today: one row per user, page and local day."""
    today = today or timezone.localdate()
    # The usual case, a second opening the same day, is one UPDATE written out (building it through the
    # ORM cost more than running it on every article and procedure GET).
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {PageView._meta.db_table} SET "count" = "count" + 1'
            " WHERE user_id = %s AND page_id = %s AND day = %s",
            [user.pk, page.pk, connection.ops.adapt_datefield_value(today)],
        )
        if cursor.rowcount:
            return
    rows = PageView.objects.filter(user=user, page_id=page.pk, day=today)
    try:
        with transaction.atomic():
            PageView.objects.create(user=user, page_id=page.pk, day=today, count=1)
    except IntegrityError:  # another request created today's row first
        rows.update(count=F("count") + 1)


def audience(page, now=None):
    """``{user_id: [reason, …]}`` of who must acknowledge a major change of ``page``."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=audience_days())
    reasons = {}

    def add(user_ids, reason):
        for user_id in user_ids:
            reasons.setdefault(user_id, [])
            if reason not in reasons[user_id]:
                reasons[user_id].append(reason)

    if isinstance(page, ProcedurePage):
        add(
            ProcedureRun.objects.filter(procedure_id=page.pk, practice=False, started_at__gte=since)
            .values_list("user_id", flat=True)
            .distinct(),
            _("运行过流程"),
        )
    add(
        PageView.objects.filter(page_id=page.pk, day__gte=timezone.localdate(since))
        .values_list("user_id", flat=True)
        .distinct(),
        _("打开过页面"),
    )
    add(
        ItemProgress.objects.filter(target_id=page.pk, kind__in=[ItemKind.READ, ItemKind.PRACTICE])
        .values_list("assignment__user_id", flat=True)
        .distinct(),
        _("学习路径包含"),
    )
    active = set(get_user_model().objects.filter(pk__in=reasons, is_active=True).values_list("pk", flat=True))
    return {user_id: found for user_id, found in reasons.items() if user_id in active}


def previous_live_revision(page, revision):
    """The revision that was live before ``revision`` was published (None for a first publish)."""
    entry = (
        PageLogEntry.objects.filter(page_id=page.pk, action="wagtail.publish", revision__isnull=False)
        .exclude(revision_id=revision.pk)
        .filter(revision_id__lt=revision.pk)
        .order_by("-timestamp", "-pk")
        .first()
    )
    return entry.revision if entry else None


def notify_major_change(page, revision, user=None, now=None):
    """Record the notice of ``revision`` (a published major change of ``page``) and its audience; the
    notice, or None when the revision is not a major change, the page was never live before, or it was
    already recorded."""
    if (revision.content or {}).get("change_class") != ChangeClass.MAJOR:
        return None
    previous = previous_live_revision(page, revision)
    if previous is None or ChangeNotice.objects.filter(revision=revision).exists():
        return None
    now = now or timezone.now()
    notice = ChangeNotice.objects.create(
        page_id=page.pk,
        revision=revision,
        previous_revision=previous,
        change_class=ChangeClass.MAJOR,
        summary=(revision.content or {}).get("change_summary") or "",
        published_at=now,
        published_by=user,
        due_at=now + datetime.timedelta(days=due_days()),
    )
    reasons = audience(page, now)
    reasons.pop(getattr(user, "pk", None), None)
    NoticeRecipient.objects.bulk_create(
        [
            NoticeRecipient(notice=notice, user_id=uid, reasons="、".join(found))
            for uid, found in reasons.items()
        ]
    )
    return notice


def acknowledged():
    """An ``Exists`` over ``NoticeRecipient`` rows: the recipient confirmed the notice's revision."""
    return Exists(
        ReadConfirmation.objects.filter(
            user_id=OuterRef("user_id"), revision_id=OuterRef("notice__revision_id")
        )
    )


def has_acknowledged(user, notice):
    """Whether ``user`` confirmed ``notice``'s revision."""
    return ReadConfirmation.objects.filter(user=user, revision_id=notice.revision_id).exists()


def may_have_pending(user, page):
    """Whether ``user`` was ever asked to acknowledge a change of ``page``: one small query written out,
    so that a page GET by a reader with no notice of that page (nearly every one) skips
    ``pending_notices``."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {NoticeRecipient._meta.db_table} r"
            f" INNER JOIN {ChangeNotice._meta.db_table} n ON n.id = r.notice_id"
            " WHERE r.user_id = %s AND n.page_id = %s LIMIT 1",
            [user.pk, page.pk],
        )
        return cursor.fetchone() is not None


def pending_notices(user, page=None):
    """The change notices ``user`` still has to acknowledge, oldest first (of ``page`` only if given)."""
    if not getattr(user, "is_authenticated", False):
        return ChangeNotice.objects.none()
    rows = NoticeRecipient.objects.filter(user=user).annotate(done=acknowledged()).filter(done=False)
    if page is not None:
        rows = rows.filter(notice__page_id=page.pk)
    return (
        ChangeNotice.objects.filter(pk__in=rows.values("notice_id"))
        .select_related("revision", "page")
        .order_by("published_at")
    )


class AckRefused(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def acknowledge(user, notice, revision_id):
    """Record ``user``'s acknowledgement of ``notice`` (the form names the revision it showed); raise
    ``AckRefused`` (nothing written) when the user was not asked or the revision is not the notice's."""
    if not NoticeRecipient.objects.filter(notice=notice, user=user).exists():
        raise AckRefused(_("你没有被要求确认这次变更，无需确认。"))
    if str(revision_id) != str(notice.revision_id):
        raise AckRefused(_("确认的版本与这条变更通知不符，请刷新页面后重新确认。"))
    # A double submit that races past the lookup hits the unique (user, revision) constraint, and
    # get_or_create then reads the row the other request wrote.
    return ReadConfirmation.objects.get_or_create(
        user=user,
        revision_id=notice.revision_id,
        defaults={"page_id": notice.page_id, "kind": ConfirmationKind.CHANGE},
    )
