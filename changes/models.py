"""Change notices and the page-view record their audience is drawn from.

``PageView`` counts, per user, page and local day, how often a page was opened (one upsert per
request: the one deliberate write a page GET makes besides the search statistics). ``ChangeNotice`` is
one published 重大变更: the revision, the live revision before it (what the diff compares), and who
must acknowledge it (``NoticeRecipient``). An acknowledgement is a ``training.ReadConfirmation`` of
that revision (kind 变更确认): the onboarding's per-revision confirmation, so a trainee who confirmed
the new revision has acknowledged it and the other way round.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Revision

from kb_site.content.models import ChangeClass

__all__ = ["ChangeNotice", "NoticeRecipient", "PageView"]


class PageView(models.Model):
    """A user opened a page on a day (local date), ``count`` times."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("用户")
    )
    page = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.CASCADE, related_name="+", verbose_name=_("页面")
    )
    day = models.DateField(_("日期"))
    count = models.PositiveIntegerField(_("次数"), default=1)

    class Meta:
        verbose_name = _("页面浏览")
        verbose_name_plural = _("页面浏览")
        constraints = [models.UniqueConstraint(fields=["user", "page", "day"], name="one_page_view_per_day")]
        indexes = [models.Index(fields=["page", "day"], name="page_view_page_day")]

    def __str__(self):
        return f"{self.page_id} · {self.day:%Y-%m-%d} × {self.count}"


class ChangeNotice(models.Model):
    """A published 重大变更 of a page that its agents are asked to acknowledge."""

    page = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.CASCADE, related_name="+", verbose_name=_("页面")
    )
    revision = models.OneToOneField(
        Revision, on_delete=models.CASCADE, related_name="+", verbose_name=_("发布的版本")
    )
    previous_revision = models.ForeignKey(
        Revision,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("之前的版本"),
        help_text=_("发布前在线的版本：变更对比的左侧"),
    )
    change_class = models.CharField(_("变更类别"), max_length=8, choices=ChangeClass.choices)
    summary = models.CharField(_("变更说明"), max_length=200, blank=True)
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("发布人"),
    )
    due_at = models.DateTimeField(_("确认期限"))

    class Meta:
        verbose_name = _("变更通知")
        verbose_name_plural = _("变更通知")
        ordering = ["-published_at"]

    def __str__(self):
        return f"{self.revision.object_str} · {timezone.localtime(self.published_at):%Y-%m-%d %H:%M}"


class NoticeRecipient(models.Model):
    """An agent asked to acknowledge a change notice, and why they were asked."""

    notice = models.ForeignKey(
        ChangeNotice, on_delete=models.CASCADE, related_name="recipients", verbose_name=_("变更通知")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="change_notices",
        verbose_name=_("坐席"),
    )
    reasons = models.CharField(
        _("原因"), max_length=100, blank=True, help_text=_("运行过流程、打开过页面、学习路径包含")
    )

    class Meta:
        verbose_name = _("待确认人")
        verbose_name_plural = _("待确认人")
        constraints = [models.UniqueConstraint(fields=["notice", "user"], name="one_recipient_per_notice")]

    def __str__(self):
        return f"{self.notice} · {self.user}"
