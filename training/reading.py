"""Read and confirm: a trainee confirms an article's live revision after scrolling to its end and staying
a minimum time on it, answering its check questions if the path gives any.

The time is measured by the server: the confirm box carries a signed token with the moment the page
was served (and the revision shown); a confirmation sent sooner than the minimum, for another page or
user, or for a revision that is no longer live, is refused. Scrolling to the end is reported by the
page (``<read-confirm>`` enables the button only then); a form sent without it is refused too.
Confirmations are kept per revision: confirming the same revision twice records it once. A
publish classed 勘误 (erratum) resets nothing: a confirmation stands until a publish of another class
(``substantive_revisions``).
"""

import time

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from wagtail.models import PageLogEntry

from kb_site.content.models import ArticlePage, ChangeClass

from . import progress, quizzes
from .choices import FINISHED, ItemKind
from .models import ItemProgress, Question, ReadConfirmation

__all__ = ["ConfirmRefused", "confirm", "confirm_state", "to_confirm"]

TOKEN_SALT = "training.read-confirm"
CHECK_PREFIX = "c"  # the check questions' field names (c<question id>), apart from a quiz's
TOKEN_MAX_AGE = 12 * 3600


class ConfirmRefused(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _read_rows(user, page_id=None):
    rows = ItemProgress.objects.filter(assignment__user=user, kind=ItemKind.READ)
    if page_id is not None:
        rows = rows.filter(target_id=page_id)
    return rows


def requirements(user, page, rows=None):
    """The minimum seconds and the check question ids this trainee's paths ask for this article
    (``rows``: the user's reading items of it, when already read)."""
    minimums = []
    question_ids = []
    if rows is None:
        rows = _path_rows(user, page)
    for row in rows:
        for item in row.assignment.path.items():
            if item.id != row.item_id:
                continue
            value = item.value or {}
            if isinstance(value.get("min_seconds"), int):
                minimums.append(value["min_seconds"])
            for qid in value.get("check_questions") or []:
                qid = qid.get("value") if isinstance(qid, dict) else qid
                if isinstance(qid, int) and qid not in question_ids:
                    question_ids.append(qid)
    minimum = max(minimums) if minimums else progress.training_settings().min_read_seconds
    return minimum, question_ids[:3], bool(rows)


def _path_rows(user, page):
    return list(_read_rows(user, page.pk).select_related("assignment__path"))


def check_questions(question_ids):
    questions = Question.objects.filter(pk__in=question_ids).prefetch_related("options")
    by_id = {q.pk: q for q in questions}
    return [by_id[qid].snapshot() for qid in question_ids if qid in by_id]


def make_token(user, page, revision_id, now=None):
    return signing.dumps(
        {"u": user.pk, "p": page.pk, "r": revision_id, "t": int(now if now is not None else time.time())},
        salt=TOKEN_SALT,
    )


def substantive_revisions(page_ids):
    """``{page_id: revision_id}``: the newest published revision of each page that was not an erratum
    (a confirmation of that revision or a later one is current)."""
    return dict(
        PageLogEntry.objects.filter(page_id__in=page_ids, action="wagtail.publish", revision__isnull=False)
        .exclude(revision__content__change_class=ChangeClass.ERRATUM)
        .values("page_id")
        .annotate(latest=Max("revision_id"))
        .values_list("page_id", "latest")
    )


def is_current(confirmed_revision_id, live_revision_id, substantive_revision_id):
    """Whether a confirmation of ``confirmed_revision_id`` still stands for the live page."""
    if not confirmed_revision_id or not live_revision_id:
        return False
    return confirmed_revision_id >= (substantive_revision_id or live_revision_id)


def confirm_state(user, page):
    """What the confirm box shows for ``user`` on ``page``, or None when it has nothing to show."""
    rows = _path_rows(user, page)
    confirmations = list(ReadConfirmation.objects.filter(user=user, page=page).order_by("-confirmed_at"))
    if not rows and not confirmations:
        return None  # before reading the training settings: most readers have nothing to confirm
    minimum, question_ids, _in_path = requirements(user, page, rows)
    live = page.live_revision_id
    substantive = substantive_revisions([page.pk]).get(page.pk)
    current = next((c for c in confirmations if is_current(c.revision_id, live, substantive)), None)
    return {
        "confirmed": current,
        "earlier": confirmations[0] if confirmations and current is None else None,
        "min_seconds": minimum,
        "question_rows": quizzes.AnswerForm(check_questions(question_ids), name_prefix=CHECK_PREFIX).rows(),
        "token": make_token(user, page, live) if live else "",
    }


def confirm(user, page, data, now=None):
    """Record the confirmation the form ``data`` asks for, or raise ``ConfirmRefused`` (nothing written)."""
    now = now if now is not None else time.time()
    try:
        token = signing.loads(data.get("token", ""), salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise ConfirmRefused(_("确认表单已失效，请刷新页面后重新阅读。")) from None
    if not isinstance(token, dict) or token.get("u") != user.pk or token.get("p") != page.pk:
        raise ConfirmRefused(_("确认表单与这篇文章不符，请刷新页面后重新阅读。"))
    revision_id = page.live_revision_id
    if token.get("r") != revision_id:
        raise ConfirmRefused(_("这篇文章在你阅读时更新了，请阅读新版本后再确认。"))
    minimum, question_ids, _in_path = requirements(user, page)
    dwell = int(now - int(token.get("t", now)))
    if dwell < minimum:
        raise ConfirmRefused(
            _("阅读时间不足：至少需要 %(min)s 秒，你只停留了 %(dwell)s 秒。")
            % {"min": minimum, "dwell": max(dwell, 0)}
        )
    if data.get("scrolled") != "1":
        raise ConfirmRefused(_("请先把文章读到最后，再确认。"))
    answers = {}
    questions = check_questions(question_ids)
    if questions:
        checked = quizzes.check_answers(questions, data, prefix=CHECK_PREFIX)
        if not checked.is_valid:
            raise ConfirmRefused(_("请回答所有检查题。") + " ".join(checked.errors))
        answers = {str(result.question["id"]): result.answer for result in checked.results}
        wrong = [result.question["stem"] for result in checked.results if not result.correct]
    else:
        wrong = []
    if wrong:
        raise ConfirmRefused(
            _("检查题没有答对：%(stems)s。请再读一遍相关内容。") % {"stems": "；".join(wrong)}
        )
    try:
        with transaction.atomic():
            confirmation, created = ReadConfirmation.objects.get_or_create(
                user=user,
                revision_id=revision_id,
                defaults={"page": page, "dwell_seconds": dwell, "answers": answers},
            )
    except IntegrityError:  # two submits raced past get_or_create: the other one recorded it
        confirmation, created = ReadConfirmation.objects.get(user=user, revision_id=revision_id), False
    if created:
        progress.refresh(user, ItemKind.READ, page.pk)
    return confirmation, created


def to_confirm(user):
    """The trainee's 待确认 list: ``(row, page, confirmed_revision_id)`` for read items not finished, and
    for finished ones whose article has been published again since the revision they confirmed."""
    rows = list(_read_rows(user).order_by("due_date", "stage_index", "position"))
    pages = ArticlePage.objects.in_bulk({row.target_id for row in rows if row.target_id})
    latest = {}
    for page_id, revision_id in (
        ReadConfirmation.objects.filter(user=user)
        .order_by("confirmed_at")
        .values_list("page_id", "revision_id")
    ):
        latest[page_id] = revision_id
    substantive = substantive_revisions(list(pages))
    result = []
    seen = set()
    for row in rows:
        page = pages.get(row.target_id)
        if page is None or page.pk in seen:
            continue
        confirmed = latest.get(page.pk)
        if row.status not in FINISHED or (
            confirmed
            and page.live_revision_id
            and not is_current(confirmed, page.live_revision_id, substantive.get(page.pk))
        ):
            seen.add(page.pk)
            result.append(
                {"row": row, "page": page, "confirmed_revision": confirmed, "updated": bool(confirmed)}
            )
    return result
