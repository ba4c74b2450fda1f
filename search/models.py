"""Search data that trainers manage or read: synonym groups and the log of searches that found nothing.

Query hits and promoted results use ``wagtail.contrib.search_promotions`` (``Query``,
``QueryDailyHits``, ``SearchPromotion``); only what it lacks lives here.
"""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.search.utils import normalise_query_string

__all__ = ["SynonymGroup", "ZeroResultQuery", "parse_terms"]

TERM_SEPARATORS = re.compile(r"\s*(?:=|＝|,|，|、|;|；|\n)\s*")


def parse_terms(text):
    """``"快递 = 物流 = 包裹"`` → ``["快递", "物流", "包裹"]`` (also accepts commas, 、 and new lines)."""
    terms = []
    for term in TERM_SEPARATORS.split(text or ""):
        term = " ".join(term.split())
        if term and term not in terms:
            terms.append(term)
    return terms


class SynonymGroup(models.Model):
    """Words agents use interchangeably (退钱 = 退款); a search for one also finds the others."""

    terms = models.TextField(
        _("同义词"),
        help_text=_(
            "用“=”分隔同一组的词，例如“快递 = 物流 = 包裹”。搜索其中任意一个词会同时查找其他词，无需重建索引"
        ),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True, help_text=_("可选：为什么这些词算同义"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    panels = [FieldPanel("terms"), FieldPanel("note")]

    class Meta:
        verbose_name = _("同义词")
        verbose_name_plural = _("同义词")
        ordering = ["terms"]

    def __str__(self):
        return " = ".join(self.term_list)

    @property
    def term_list(self):
        return parse_terms(self.terms)

    def clean(self):
        if len(self.term_list) < 2:
            raise ValidationError({"terms": _("一组同义词至少需要两个词，用“=”分隔。")})

    def save(self, *args, **kwargs):
        self.terms = " = ".join(parse_terms(self.terms))
        super().save(*args, **kwargs)


class ZeroResultQuery(models.Model):
    """How often a (normalised) query found nothing on a given day; read by the 无结果搜索 report."""

    query_string = models.CharField(_("搜索词"), max_length=255, db_index=True)
    date = models.DateField(_("日期"), db_index=True)
    hits = models.PositiveIntegerField(_("次数"), default=0)

    class Meta:
        verbose_name = _("无结果搜索")
        verbose_name_plural = _("无结果搜索")
        constraints = [
            models.UniqueConstraint(fields=["query_string", "date"], name="search_zeroresult_unique_day")
        ]

    def __str__(self):
        return f"{self.query_string} ({self.date}: {self.hits})"

    @classmethod
    def record(cls, query_string, date=None):
        query_string = normalise_query_string(query_string or "")
        if not query_string:
            return
        date = date or timezone.localdate()
        row, _ = cls.objects.get_or_create(query_string=query_string, date=date)
        cls.objects.filter(pk=row.pk).update(hits=models.F("hits") + 1)
