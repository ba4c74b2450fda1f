"""The log of every run: ``ProcedureRun`` (one agent walking through one procedure) and ``RunEvent``
(one step left, with what the agent saw and did), shaped like form submissions.

A run untouched for ``CALLBOOK_RUN_ABANDON_AFTER_MINUTES`` counts as abandoned wherever it is shown
or counted (``shown_status``, ``ProcedureRunQuerySet.with_status``), and moves on it are refused; only
the scheduled ``mark_abandoned_runs`` command writes that status, so showing a list never writes.

The run log is append-only, in the database and not only in the UI. Triggers (migration
``0005_run_log_append_only``) reject every UPDATE and DELETE of ``RunEvent`` rows, whoever sends them;
before that, ``RunEvent.save()`` on an existing row, ``RunEvent.delete()`` and the event querysets'
``update()`` / ``delete()`` raise ``RunLogIsAppendOnly``; and a run with events cannot be deleted
(``on_delete=PROTECT``). The only way to remove events is the explicit, logged retention purge
``manage.py purge_run_log --before YYYY-MM-DD``, which lifts the DELETE trigger for its own
transaction only (``run_log_unlocked``). Note that on SQLite a migration that rebuilds the
``RunEvent`` table drops its triggers: such a migration must create them again
(``tests/procedures/test_run_log_append_only.py`` fails if they are missing).

Each event names the page revision it was made on (``RunEvent.revision``): the revision whose steps
the move was computed from, which is the run's pinned revision (a newer revision published mid-run is
never shown to that run), or for a step of a sub-procedure (子流程) the called procedure's revision
pinned when the run entered it (kept in the run's ``definition``, see ``engine.Procedure.pin``). It is ``on_delete=PROTECT``, as the run's own revision is: Wagtail's
``purge_revisions`` skips a protected revision (it catches ``ProtectedError``), so a revision the
log names stays until ``purge_run_log`` has removed the runs and events that name it. ``SET_NULL``
would be no choice: deleting a revision would UPDATE logged events, which the triggers refuse (and
which would erase what the log records).
"""

import contextlib
import datetime
import json
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.models import Revision

from search.caches import LRUCache

from .. import engine, statements
from ..choices import EventAction, RunStatus, StepKind
from ..statements import Rows
from .pages import ProcedurePage, procedure_for_revision

__all__ = [
    "ProcedureRun",
    "ProcedureRunQuerySet",
    "RunEvent",
    "RunEventQuerySet",
    "RunLogIsAppendOnly",
    "abandon_after",
    "run_log_unlocked",
]

# The names the migration 0005_run_log_append_only gives the triggers (and, on PostgreSQL, the function
# and the transaction-local setting it checks); ``run_log_unlocked`` lifts the DELETE one.
SQLITE_DELETE_TRIGGER = "procedures_runevent_no_delete"
POSTGRESQL_PURGE_SETTING = "callbook.purge_run_log"


class RunLogIsAppendOnly(Exception):
    """Raised on an attempt to change or delete logged run events through the ORM."""


def abandon_after():
    return datetime.timedelta(minutes=getattr(settings, "CALLBOOK_RUN_ABANDON_AFTER_MINUTES", 120))


def _idle_cutoff(now=None):
    return (now or timezone.now()) - abandon_after()


class ProcedureRunQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)

    def idle(self, now=None):
        """Runs still marked in progress but untouched past the limit: abandoned in all but the row."""
        return self.filter(status=RunStatus.IN_PROGRESS, last_activity_at__lt=_idle_cutoff(now))

    def with_status(self, status, now=None):
        """Runs whose ``shown_status`` is ``status`` (idle runs count as abandoned)."""
        idle = Q(status=RunStatus.IN_PROGRESS, last_activity_at__lt=_idle_cutoff(now))
        if status == RunStatus.ABANDONED:
            return self.filter(Q(status=RunStatus.ABANDONED) | idle)
        if status == RunStatus.IN_PROGRESS:
            return self.filter(status=RunStatus.IN_PROGRESS).exclude(idle)
        return self.filter(status=status)

    def in_progress(self, now=None):
        return self.with_status(RunStatus.IN_PROGRESS, now)

    def abandoned(self, now=None):
        return self.with_status(RunStatus.ABANDONED, now)

    def counted(self):
        """Runs that count in statistics: practice runs never do."""
        return self.filter(practice=False)

    def purgeable(self, before):
        """Runs a retention purge may remove: finished (as stored) and started before ``before``.

        Runs still marked in progress are kept, even idle ones: ``mark_abandoned_runs`` marks those.
        """
        return self.exclude(status=RunStatus.IN_PROGRESS).filter(started_at__lt=before)


# The procedure built from a run's definition, kept with the decoded definition it was built from (the
# entry holds it, so its ``id`` is not reused while kept): runs read on the run screen share one decoded
# snapshot per text (``procedures.statements``, ``kept_json``), and so one built procedure; each run gets
# a ``fork`` of its own, which pinning a sub-procedure may change. Bounded like ``kept_json``: by number and
# by the length of the snapshots' text.
_snapshot_procedures = LRUCache(
    statements.KEPT_JSON_ENTRIES,
    max_weight=statements.KEPT_JSON_CHARS,
    weigh=lambda _key, kept: kept[2],
)


def procedure_of_snapshot(definition):
    kept = _snapshot_procedures.get(id(definition))
    if kept is None or kept[0] is not definition:
        length = len(json.dumps(definition, ensure_ascii=False, cls=DjangoJSONEncoder))
        kept = (definition, engine.Procedure.from_dict(definition), length)
        _snapshot_procedures.put(id(definition), kept)
    return kept[1].fork()


class ProcedureRun(models.Model):
    """One agent walking through one procedure, pinned to the page revision live at its start."""

    id = models.UUIDField(_("编号"), primary_key=True, default=uuid.uuid4, editable=False)
    procedure = models.ForeignKey(
        ProcedurePage, null=True, on_delete=models.SET_NULL, related_name="runs", verbose_name=_("流程")
    )
    procedure_title = models.CharField(_("流程名称"), max_length=255)
    revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, related_name="+", verbose_name=_("流程版本")
    )
    definition = models.JSONField(
        _("流程内容快照"),
        default=dict,
        editable=False,
        help_text=_("开始时的步骤、变量和话术原文：之后发布新版本或修改话术都不会改变进行中的运行"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="procedure_runs",
        verbose_name=_("坐席"),
    )
    ref = models.CharField(_("工单/来电编号"), max_length=100, blank=True)
    variables = models.JSONField(_("变量"), default=dict, blank=True)
    start_variables = models.JSONField(
        _("开始时的变量"), default=dict, blank=True, editable=False, help_text=_("开始时给出的值（回放用）")
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=RunStatus.choices, default=RunStatus.IN_PROGRESS
    )
    outcome = models.CharField(_("结果"), max_length=50, blank=True)
    practice = models.BooleanField(_("练习"), default=False, help_text=_("练习运行不计入任何统计"))
    ending_reason = models.TextField(
        _("结束原因"), blank=True, help_text=_("升级、转接或客户放弃时坐席填写的原因")
    )
    handoff_group = models.ForeignKey(
        "auth.Group",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("转交给（组）"),
    )
    handoff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("转交给（人）"),
    )
    awaiting_follow_up = models.BooleanField(
        _("等待回访"), default=False, help_text=_("运行已结束，留下的跟进还没有处理完")
    )
    current_step = models.CharField(_("当前步骤"), max_length=64, blank=True)
    current_step_title = models.CharField(_("当前步骤标题"), max_length=200, blank=True)
    next_seq = models.PositiveIntegerField(_("下一事件序号"), default=1)
    step_entered_at = models.DateTimeField(_("进入当前步骤"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("最近操作"), default=timezone.now)

    objects = ProcedureRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("流程运行")
        verbose_name_plural = _("流程运行")
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["user", "status"]),
            models.Index(fields=["status", "last_activity_at"]),
        ]
        permissions = [("view_procedure_stats", "可查看流程统计")]

    def __str__(self):
        return f"{self.procedure_title} · {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"

    def get_procedure(self):
        """The procedure exactly as it was when this run started (steps, variables, phrasing texts)."""
        if not hasattr(self, "_procedure"):
            if self.definition:
                self._procedure = procedure_of_snapshot(self.definition)
            else:
                self._procedure = procedure_for_revision(self.revision_id)
        return self._procedure

    @cached_property
    def logged_events(self):
        """Every event of the run, oldest first: read once per request by whatever shows them (in a
        statement written out once, ``procedures.statements``: every step page reads them)."""
        events = RUN_EVENTS.all(self.pk, using=self._state.db or DEFAULT_DB_ALIAS)
        run_field = RunEvent._meta.get_field("run")
        for event in events:
            run_field.set_cached_value(event, self)  # as ``self.events`` does: ``event.run`` is this run
        return events

    def visited_steps(self):
        """The keys of the steps the run went through, in order, Back undone, the step it is at (or
        ended on) included: what apps built on runs read (a practice score, the rules a run leaves).

        Steps of a sub-procedure the run entered are named ``<calling key>/<inner key>`` (nested:
        ``verify/address/ask``) and the calling 子流程 step follows them when the sub-procedure returned;
        ``get_procedure().by_key`` knows them all (``engine.Procedure.pin``)."""
        keys = [event.step_key for event in engine.active_path(self.logged_events)]
        if self.current_step and (not keys or keys[-1] != self.current_step):
            keys.append(self.current_step)
        return keys

    def is_idle(self, now=None):
        return self.status == RunStatus.IN_PROGRESS and self.last_activity_at < _idle_cutoff(now)

    def refusal(self, step, seq, now=None):
        """Why no move may be made on this run from the form shown for ``step`` / ``seq``, or None.

        Asked by ``forms.MoveForm`` (so a refusal outranks the form's value errors) and again by
        ``runs.apply_move`` with the run locked.
        """
        if self.is_idle(now) or self.status == RunStatus.ABANDONED:
            return engine.MoveRejected(
                "finished", _("本次流程长时间未操作，已经中断，不能再操作；请重新开始流程。")
            )
        if self.status != RunStatus.IN_PROGRESS:
            return engine.MoveRejected(
                "finished", _("本次流程已经结束（%(outcome)s），不能再操作。") % {"outcome": self.outcome}
            )
        if seq != self.next_seq or step != self.current_step:
            message = _(
                "这一步已经处理过了（可能是重复提交或在另一个窗口中操作），当前步骤是“%(step)s”。"
            ) % {"step": self.current_step_title}
            return engine.MoveRejected("stale", message)
        return None

    @property
    def shown_status(self):
        """The status to show and count: an idle run is abandoned even before the command marks it."""
        return RunStatus.ABANDONED if self.is_idle() else RunStatus(self.status)

    def get_shown_status_display(self):
        return self.shown_status.label

    @property
    def ending_display(self):
        """How the run stands or ended, as every list shows it: 进行中, 已中断, or its outcome (已解决, 已升级,
        已转接, 客户放弃…), with 等待回访 while a follow-up it left is open."""
        status = self.shown_status
        if status != RunStatus.COMPLETED:
            return status.label
        shown = self.outcome or status.label
        return _("%(outcome)s · 等待回访") % {"outcome": shown} if self.awaiting_follow_up else shown

    @property
    def is_finished(self):
        return self.shown_status != RunStatus.IN_PROGRESS

    @property
    def agent_name(self):
        return self.user.get_full_name() or self.user.get_username()

    @property
    def duration_seconds(self):
        end = self.finished_at or self.last_activity_at
        return max((end - self.started_at).total_seconds(), 0) if end else 0

    @property
    def duration_display(self):
        return engine.format_duration(self.duration_seconds)

    def get_absolute_url(self):
        return reverse("procedures:run", args=[self.pk])


_APPEND_ONLY = "运行事件只能追加，不能修改或删除（run events are append-only）"


class RunEventQuerySet(models.QuerySet):
    """Events are only ever added: ``update()``, ``bulk_update()`` and ``delete()`` refuse."""

    def update(self, **kwargs):
        raise RunLogIsAppendOnly(_APPEND_ONLY)

    def bulk_update(self, objs, fields, batch_size=None):
        raise RunLogIsAppendOnly(_APPEND_ONLY)

    def delete(self):
        raise RunLogIsAppendOnly(_APPEND_ONLY)


class RunEvent(models.Model):
    """One step left during a run: what the agent saw (a snapshot) and what they did.

    Append-only (see the module docstring): a new event can be saved once, never saved again or deleted.
    ``revision`` is the page revision the move was made on (the run's pinned one, set by ``runs``).
    """

    run = models.ForeignKey(
        ProcedureRun, on_delete=models.PROTECT, related_name="events", verbose_name=_("运行")
    )
    seq = models.PositiveIntegerField(_("序号"))
    revision = models.ForeignKey(
        Revision,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("流程版本"),
        help_text=_("写下这条记录时运行所用的流程版本（运行开始时固定的版本）"),
    )
    step_key = models.CharField(_("步骤标识"), max_length=64)
    step_title = models.CharField(_("步骤标题"), max_length=200, blank=True)
    kind = models.CharField(_("步骤类型"), max_length=20, choices=StepKind.choices)
    action = models.CharField(_("操作"), max_length=20, choices=EventAction.choices)
    answer = models.CharField(_("回答"), max_length=255, blank=True)
    next_key = models.CharField(_("去往步骤"), max_length=64, blank=True)
    inputs = models.JSONField(_("采集的值"), default=dict, blank=True)
    note = models.TextField(_("备注"), blank=True)
    # null, not default=list: adding a column with a default makes SQLite rebuild the table, which
    # would drop the append-only triggers.
    said = models.JSONField(
        _("已说的必说话术"),
        null=True,
        blank=True,
        help_text=_("坐席在这一步勾选“已说”的必说话术标题"),
    )
    entered_at = models.DateTimeField(_("进入时间"))
    left_at = models.DateTimeField(_("离开时间"))

    objects = RunEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("运行事件")
        verbose_name_plural = _("运行事件")
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="unique_run_event_seq")]

    def __str__(self):
        return f"{self.seq}. {self.step_title} · {self.get_action_display()}"

    def save(self, *, force_insert=False, force_update=False, using=None, update_fields=None):
        """Insert the event; an event already saved (or loaded) is never written again."""
        if not self._state.adding or force_update or update_fields is not None:
            raise RunLogIsAppendOnly(_APPEND_ONLY)
        # Always an INSERT: with a primary key given, Django would otherwise try an UPDATE first.
        super().save(force_insert=True, using=using)

    save.alters_data = True

    def delete(self, using=None, keep_parents=False):
        raise RunLogIsAppendOnly(_APPEND_ONLY)

    delete.alters_data = True

    @property
    def seconds(self):
        return max((self.left_at - self.entered_at).total_seconds(), 0)

    @property
    def inputs_text(self):
        return engine.inputs_text(self.inputs)


# A run's events, oldest first (``ProcedureRun.logged_events``).
RUN_EVENTS = Rows(RunEvent, ("run",), order_by=("seq",))


@contextlib.contextmanager
def run_log_unlocked(using=DEFAULT_DB_ALIAS):
    """Let the enclosing transaction DELETE run events: for the retention purge (``purge_run_log``) only.

    Must be used inside ``transaction.atomic()``; the lifting never outlives it (nor this block, which
    is a savepoint: an error inside rolls the lifting back with the rest). UPDATE stays refused.

    - PostgreSQL: the trigger function lets a DELETE through when the transaction-local setting
      ``callbook.purge_run_log`` is ``on`` (``set_config(..., true)`` is ``SET LOCAL``).
    - SQLite: the DELETE trigger is dropped and created again from its own stored SQL before the
      block ends; SQLite's DDL is transactional and other connections never see the gap (one writer
      at a time, and the drop is not committed without the re-creation).
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("run_log_unlocked() needs transaction.atomic()")
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config(%s, 'on', true)", [POSTGRESQL_PURGE_SETTING])
            yield
            cursor.execute("SELECT set_config(%s, '', true)", [POSTGRESQL_PURGE_SETTING])
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
                [SQLITE_DELETE_TRIGGER],
            )
            row = cursor.fetchone()
            if row is None:
                raise RunLogIsAppendOnly(
                    f"trigger {SQLITE_DELETE_TRIGGER} is missing: run the migrations before purging"
                )
            cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(SQLITE_DELETE_TRIGGER)}")
            yield
            cursor.execute(row[0])
        else:
            yield  # no triggers on other databases: the ORM refusals are the only guard
