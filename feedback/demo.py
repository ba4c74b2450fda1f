"""The feedback demo: a few remarks agents sent on the demo content, at every status.

Called by ``load_demo`` after procedures, training and follow-ups (``register_demo_loader``, order 70),
only with the demo accounts (reporters and owners are the demo 坐席 and 培训师). Each item is sent and
handled through the real services (``targets.resolve``, ``handling``), so owners, logs and notices are
as in use: two open (an article paragraph owned by 李培训, a procedure step going to the 培训师 group),
one from inside a follow-up demo run (pinned to its step and revision), one fixed (李培训's corrected
draft of the article is the fixed revision), one rejected with its reason, one waiting for the
reporter's answer.

Idempotent: an item is matched by its reporter and text; one already there is left as it is.
"""

from django.contrib.auth import get_user_model
from django.db import transaction

from kb_site.content.models import ArticlePage
from kb_site.demo import DemoReport
from procedures.models import ProcedurePage, ProcedureRun

from . import handling
from .models import Feedback
from .targets import TargetError, resolve

__all__ = ["ITEMS", "load"]

# (reporter, where, kind, text, what the owner did: None | ("fix",) | ("reject", reason) | ("ask", question))
ITEMS = [
    (
        "agent",
        ("article", "missing-item", 1),
        "outdated",
        "文中说补发三天内到账，现在仓库已改成两天内发出。",
        None,
    ),
    (
        "agent2",
        ("procedure", "missing-item-flow", "verify"),
        "unclear",
        "“三步核实”没写先查哪个系统，新人容易漏。",
        None,
    ),
    ("agent", ("run", "DEMO-FU-"), "unclear", "这一步问完后客户常问补偿标准，流程里没有。", None),
    (
        "agent3",
        ("article", "missing-item", 0),
        "error",
        "标题里的“少货”和系统里的工单类型名称不一致。",
        ("fix",),
    ),
    (
        "agent2",
        ("article", "missing-item", 2),
        "suggestion",
        "建议把致歉话术放在核实之前。",
        ("reject", "先核实再致歉是质检要求，顺序不改。"),
    ),
    (
        "agent4",
        ("procedure", "hotline-intake-flow", None),
        "missing",
        "缺少客户要求转人工主管时的处理。",
        ("ask", "是哪一步客户提出的？请说明大致情形。"),
    ),
]


def _target_data(where):
    kind = where[0]
    if kind == "article":
        page = ArticlePage.objects.live().filter(slug=where[1]).first()
        if page is None:
            return None
        blocks = list(page.body)
        if not blocks:
            return None
        return {"page": page.pk, "block": blocks[min(where[2], len(blocks) - 1)].id}
    if kind == "procedure":
        page = ProcedurePage.objects.live().filter(slug=where[1]).first()
        if page is None:
            return None
        step = where[2] or page.to_procedure().start_key
        return {"page": page.pk, "step": step}
    # From inside a demo run: the demo agent's first follow-up demo run, at the step its first event was on.
    run = (
        ProcedureRun.objects.filter(ref__startswith=where[1], user__username="agent", procedure__isnull=False)
        .order_by("started_at")
        .first()
    )
    event = run.events.order_by("seq").first() if run else None
    if event is None:
        return None
    return {"page": run.procedure_id, "step": event.step_key, "run": str(run.pk)}


def _fix_revision(feedback, trainer):
    """The revision that fixes ``feedback``: the page's own newer one if there is, else 李培训's corrected
    draft (trainers save, supervisors publish)."""
    page = feedback.page.specific
    newer = page.revisions.filter(pk__gt=feedback.revision_id or 0).order_by("-pk").first()
    return newer or page.save_revision(user=trainer)


def load(update=False, report=None, with_users=True, **options):
    report = report if report is not None else DemoReport()
    if not with_users:
        return report
    users = {user.username: user for user in get_user_model().objects.filter(username__in=_usernames())}
    trainer = users.get("trainer")
    with transaction.atomic():
        for reporter_name, where, kind, text, handled in ITEMS:
            reporter = users.get(reporter_name)
            if reporter is None or trainer is None:
                continue
            if Feedback.objects.filter(reporter=reporter, text=text).exists():
                report.add("feedback", False)
                continue
            data = _target_data(where)
            if data is None:
                continue
            try:
                target = resolve(reporter, data)
            except TargetError:
                continue
            feedback = handling.submit(target, reporter, kind, text)
            handler = feedback.owner or trainer
            if handled and handled[0] == "fix":
                handling.mark_fixed(
                    feedback, handler, _fix_revision(feedback, handler), "已按系统名称改标题。"
                )
            elif handled and handled[0] == "reject":
                handling.reject(feedback, handler, handled[1])
            elif handled and handled[0] == "ask":
                handling.ask(feedback, handler, handled[1])
            report.add("feedback", True)
    return report


def _usernames():
    return {"trainer", *(item[0] for item in ITEMS)}
