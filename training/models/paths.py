"""Learning paths (培训路径), who they are assigned to, and each trainee's progress on each item.

A path is written as stages of items (``training.blocks``); ``LearningPath.plan()`` reads it as plain
``PlanStage`` / ``PlanItem`` objects. Assigning a path to a trainee creates one ``ItemProgress`` row per
item, with its due date (the assignment's start + the item's D+N); ``training.progress`` keeps the rows'
status in step with the evidence (confirmations, attempts, practice, sign-offs) and with manual changes,
each of which is logged with its reason (``StatusChange``).
"""

import dataclasses
import datetime
import uuid

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting
from wagtail.fields import StreamField
from wagtail.models import RevisionMixin

from kb_site.content.profiles import person_name

from ..blocks import StagesBlock
from ..choices import Gate, ItemKind, Status

__all__ = [
    "Cohort",
    "ItemProgress",
    "LearningPath",
    "PathAssignment",
    "PlanItem",
    "PlanStage",
    "StatusChange",
    "TrainingSettings",
]


@register_setting(icon="group")
class TrainingSettings(BaseGenericSetting):
    """Site-wide training defaults: pass mark, practice runs for a licence, minimum reading time."""

    pass_mark = models.PositiveSmallIntegerField(
        _("测验及格分"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("百分制（1–100）；单个测验可以另设"),
    )
    practice_passes = models.PositiveSmallIntegerField(
        _("上岗所需练习通过次数"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("新员工通过这么多次某流程的练习后，才能正式（非练习）运行该流程；路径或项目可以另设"),
    )
    practice_pass_score = models.PositiveSmallIntegerField(
        _("练习及格分"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("百分制（1–100）；练习得分达到这个分数才算一次通过"),
    )
    min_read_seconds = models.PositiveSmallIntegerField(
        _("阅读确认最少停留（秒）"),
        default=30,
        validators=[MaxValueValidator(3600)],
        help_text=_("打开文章后至少停留这么久（最多 3600 秒），才能确认已读"),
    )

    panels = [
        FieldPanel("pass_mark"),
        FieldPanel("practice_passes"),
        FieldPanel("practice_pass_score"),
        FieldPanel("min_read_seconds"),
    ]

    class Meta:
        verbose_name = _("培训设置")


@dataclasses.dataclass
class PlanItem:
    """One item of a path as plain data: its block id, kind, title, D+N and what it points at."""

    id: str
    stage_id: str
    kind: str
    title: str
    due_day: int | None
    target_id: int | None
    value: object = None  # the block's StructValue, for views that show the item

    @property
    def kind_label(self):
        return ItemKind(self.kind).label


@dataclasses.dataclass
class PlanStage:
    id: str
    index: int
    title: str
    gate: str
    items: list

    @property
    def gate_label(self):
        return Gate(self.gate).label


_TARGET_FIELD = {
    ItemKind.READ: "article",
    ItemKind.PHRASINGS: "quiz",
    ItemKind.QUIZ: "quiz",
    ItemKind.PRACTICE: "procedure",
}


def _raw_target_id(kind, raw_value):
    field = _TARGET_FIELD.get(kind)
    value = raw_value.get(field) if field else None
    return value if isinstance(value, int) else None


class LearningPath(RevisionMixin, ClusterableModel):
    """A learning path (培训路径): ordered stages, each with items and a gate, assigned to new hires."""

    title = models.CharField(_("名称"), max_length=120, help_text=_("例如“95598 投诉处理上岗路径”"))
    description = models.TextField(_("说明"), blank=True, help_text=_("这条路径培养什么岗位、大约多久"))
    stages = StreamField(
        StagesBlock(),
        verbose_name=_("阶段"),
        help_text=_("按顺序排列的阶段（如 业务培训 → 跟岗 → 试接 → 独立上岗），每个阶段包含若干项目"),
    )
    practice_passes = models.PositiveSmallIntegerField(
        _("练习通过次数"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("这条路径中的流程练习需要通过几次；留空则用培训设置的默认值（3 次）"),
    )
    auto_groups = ParentalManyToManyField(
        Group,
        blank=True,
        related_name="+",
        verbose_name=_("自动分配给用户组"),
        help_text=_("用户加入这些用户组时，自动分配这条路径（开始日期为加入当天）"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    panels = [
        FieldPanel("title"),
        FieldPanel("description"),
        FieldPanel("stages"),
        MultiFieldPanel([FieldPanel("practice_passes"), FieldPanel("auto_groups")], heading=_("分配")),
    ]

    class Meta:
        verbose_name = _("培训路径")
        verbose_name_plural = _("培训路径")
        ordering = ["title"]
        permissions = [("view_all_training", "可查看所有学员的培训进度")]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self._give_items_ids()
        super().save(*args, **kwargs)

    def _give_items_ids(self):
        """Progress rows follow items by block id: items written as raw data (the demo, a migration) get
        one before they are saved; the admin gives them one already."""
        raw = list(self.stages.raw_data)
        changed = False
        for stage in raw:
            if not stage.get("id"):
                stage["id"], changed = str(uuid.uuid4()), True
            for item in (stage.get("value") or {}).get("items") or []:
                if not item.get("id"):
                    item["id"], changed = str(uuid.uuid4()), True
        if changed:
            self.stages = raw

    def plan(self):
        """The stages and items as plain data (raw block data: no page or snippet is loaded)."""
        stages = []
        for index, stage in enumerate(self.stages.raw_data):
            value = stage.get("value") or {}
            items = []
            for raw_item in value.get("items") or []:
                kind = raw_item.get("type")
                if kind not in ItemKind.values:
                    continue
                raw = raw_item.get("value") or {}
                items.append(
                    PlanItem(
                        id=raw_item.get("id") or "",
                        stage_id=stage.get("id") or "",
                        kind=kind,
                        title=raw.get("title") or "",
                        due_day=raw.get("due_day") if isinstance(raw.get("due_day"), int) else None,
                        target_id=_raw_target_id(kind, raw),
                        value=raw,
                    )
                )
            stages.append(
                PlanStage(
                    id=stage.get("id") or "",
                    index=index,
                    title=value.get("title") or "",
                    gate=value.get("gate") or Gate.ALL_DONE,
                    items=items,
                )
            )
        return stages

    def items(self):
        return [item for stage in self.plan() for item in stage.items]


class Cohort(ClusterableModel):
    """A cohort (批次) of new hires who start one path on the same day, each with a mentor."""

    name = models.CharField(_("批次名称"), max_length=120, help_text=_("例如“2026 年 11 月第一批”"))
    path = models.ForeignKey(
        LearningPath, on_delete=models.PROTECT, related_name="cohorts", verbose_name=_("培训路径")
    )
    start_date = models.DateField(
        _("开始日期"), default=timezone.localdate, help_text=_("D+0，期限从这天算起")
    )
    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("默认带教老师"),
        help_text=_("批次成员的带教老师；可在每个学员的分配中单独修改"),
    )
    members = ParentalManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="training_cohorts",
        verbose_name=_("成员"),
        help_text=_("保存后，每个成员都会分配到这条路径"),
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("path"),
        FieldPanel("start_date"),
        FieldPanel("mentor"),
        FieldPanel("members"),
    ]

    class Meta:
        verbose_name = _("培训批次")
        verbose_name_plural = _("培训批次")
        ordering = ["-start_date", "name"]

    def __str__(self):
        return self.name


class PathAssignment(models.Model):
    """One trainee on one path: start date, mentor, and a summary of their progress kept up to date."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="path_assignments",
        verbose_name=_("学员"),
    )
    path = models.ForeignKey(
        LearningPath, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("培训路径")
    )
    cohort = models.ForeignKey(
        Cohort,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignments",
        verbose_name=_("批次"),
    )
    start_date = models.DateField(
        _("开始日期"), default=timezone.localdate, help_text=_("D+0，期限从这天算起")
    )
    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentees",
        verbose_name=_("带教老师"),
        help_text=_("带教老师可以看到学员的进度，并确认线下任务和带教确认阶段"),
    )
    assigned_at = models.DateTimeField(_("分配时间"), default=timezone.now)
    # Kept up to date by training.progress after every change to the items.
    current_stage = models.PositiveSmallIntegerField(_("当前阶段序号"), default=0)
    current_stage_title = models.CharField(_("当前阶段"), max_length=60, blank=True)
    finished_items = models.PositiveSmallIntegerField(_("已完成项目"), default=0)
    total_items = models.PositiveSmallIntegerField(_("项目总数"), default=0)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("路径分配")
        verbose_name_plural = _("路径分配")
        ordering = ["-start_date", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "path"], name="unique_path_per_trainee")]

    def __str__(self):
        return f"{trainee_name(self.user)} · {self.path}"

    @property
    def trainee_name(self):
        return trainee_name(self.user)

    def due_date(self, due_day):
        return self.start_date + datetime.timedelta(days=due_day) if due_day is not None else None

    @property
    def is_finished(self):
        return self.completed_at is not None

    @property
    def percent(self):
        return round(100 * self.finished_items / self.total_items) if self.total_items else 0


def trainee_name(user):
    return person_name(user)


class ItemProgress(models.Model):
    """A trainee's status on one item of an assigned path, with its due date and best score."""

    assignment = models.ForeignKey(
        PathAssignment, on_delete=models.CASCADE, related_name="items", verbose_name=_("路径分配")
    )
    item_id = models.CharField(_("项目标识"), max_length=64)
    stage_id = models.CharField(_("阶段标识"), max_length=64)
    stage_index = models.PositiveSmallIntegerField(_("阶段序号"), default=0)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    kind = models.CharField(_("类型"), max_length=20, choices=ItemKind.choices)
    title = models.CharField(_("项目"), max_length=255)
    target_id = models.IntegerField(_("对象编号"), null=True, blank=True)
    gate = models.CharField(_("过关条件"), max_length=20, choices=Gate.choices, default=Gate.ALL_DONE)
    due_date = models.DateField(_("期限"), null=True, blank=True, db_index=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    score = models.FloatField(_("最好成绩"), null=True, blank=True)
    passes = models.PositiveSmallIntegerField(_("练习通过次数"), default=0)
    needed_passes = models.PositiveSmallIntegerField(_("需要通过次数"), default=0)
    sign_off_requested_at = models.DateTimeField(_("申请确认时间"), null=True, blank=True)
    manual_at = models.DateTimeField(
        _("人工修改时间"), null=True, blank=True, help_text=_("在这之后的学习记录才会再改变状态")
    )
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("项目进度")
        verbose_name_plural = _("项目进度")
        ordering = ["assignment", "stage_index", "position"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "item_id"], name="unique_item_per_assignment")
        ]
        indexes = [models.Index(fields=["kind", "target_id"]), models.Index(fields=["status", "due_date"])]

    def __str__(self):
        return self.title

    @property
    def is_finished(self):
        return self.status in (Status.DONE, Status.SIGNED_OFF)

    def shown_status(self, today=None):
        """The status to show: an unfinished item past its due date is 逾期."""
        today = today or timezone.localdate()
        if not self.is_finished and self.due_date is not None and self.due_date < today:
            return Status.OVERDUE
        return Status(self.status)

    def get_shown_status_display(self):
        return self.shown_status().label

    @property
    def kind_label(self):
        return ItemKind(self.kind).label


class StatusChange(models.Model):
    """A manual change of an item's status (by a mentor, trainer or supervisor), with its reason."""

    progress = models.ForeignKey(
        ItemProgress, on_delete=models.CASCADE, related_name="changes", verbose_name=_("项目进度")
    )
    old_status = models.CharField(_("原状态"), max_length=20, choices=Status.choices)
    new_status = models.CharField(_("新状态"), max_length=20, choices=Status.choices)
    reason = models.TextField(_("原因"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("修改人"),
    )
    changed_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    class Meta:
        verbose_name = _("状态修改记录")
        verbose_name_plural = _("状态修改记录")
        ordering = ["-changed_at"]

    def __str__(self):
        return f"{self.get_old_status_display()} → {self.get_new_status_display()}"
