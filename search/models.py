"""Search data that trainers manage or read: synonym groups and the log of searches that found nothing.

Query hits and promoted results use ``wagtail.contrib.search_promotions`` (``Query``,
``QueryDailyHits``, ``SearchPromotion``); only what it lacks lives here: the time of the last search
counted in a day's hits (``QueryDailyLastSearch``: Wagtail keeps the day only), and the searches that
found nothing. Days are the site's local days (Wagtail's ``add_hit`` would count on the UTC day).
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.search_promotions.models import Query, QueryDailyHits
from wagtail.search.utils import normalise_query_string

__all__ = [
    "LearnedLink",
    "QueryDailyLastSearch",
    "SearchClick",
    "SynonymGroup",
    "ZeroResultQuery",
    "parse_terms",
]

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
    """How often a (normalised) query found nothing, or only weak results, on a given day; read by the
    无结果搜索 report.

    ``best_coverage`` is empty when the query found nothing; otherwise it is the share (0–1) of the
    query's content words that its best hit covered, below the weak threshold (a weak query), with that
    hit's title in ``best_title``.
    """

    query_string = models.CharField(_("搜索词"), max_length=255, db_index=True)
    date = models.DateField(_("日期"), db_index=True)
    hits = models.PositiveIntegerField(_("次数"), default=0)
    # Empty on the days counted before the time was kept: those rows know only their day.
    last_searched_at = models.DateTimeField(_("最近一次搜索"), null=True, blank=True)
    best_coverage = models.FloatField(_("最佳结果覆盖率"), null=True, blank=True)
    best_title = models.CharField(_("最佳结果"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("无结果搜索")
        verbose_name_plural = _("无结果搜索")
        constraints = [
            models.UniqueConstraint(fields=["query_string", "date"], name="search_zeroresult_unique_day")
        ]

    def __str__(self):
        return f"{self.query_string} ({self.date}: {self.hits})"

    @classmethod
    def record(cls, query_string, date=None, *, now=None, coverage=None, title=""):
        """Count one search that found nothing, or (``coverage`` given) only a weak best hit titled
        ``title``, made at ``now`` (default: now) on its local day.

        A day's row keeps the worst of its searches: found nothing (``best_coverage`` empty) once any
        search of it that day found nothing, else the lowest coverage with that hit's title.
        ``date`` alone counts it on that day without a time (for imports and tests).
        """
        query_string = normalise_query_string(query_string or "")
        if not query_string:
            return
        if date is None:
            now = now or timezone.now()
            date = timezone.localdate(now)
        title = (title or "")[: cls._meta.get_field("best_title").max_length]
        row, created = cls.objects.get_or_create(
            query_string=query_string, date=date, defaults={"best_coverage": coverage, "best_title": title}
        )
        changes = {"hits": models.F("hits") + 1}
        if now is not None:
            changes["last_searched_at"] = now
        cls.objects.filter(pk=row.pk).update(**changes)
        if created:
            return
        if coverage is None:
            cls.objects.filter(pk=row.pk, best_coverage__isnull=False).update(
                best_coverage=None, best_title=""
            )
        else:
            cls.objects.filter(pk=row.pk, best_coverage__gt=coverage).update(
                best_coverage=coverage, best_title=title
            )


class QueryDailyLastSearch(models.Model):
    """When the last search counted in one day's ``QueryDailyHits`` row was made (Wagtail stores the day
    only); goes with that row when search_promotions' garbage collection removes it."""

    daily_hits = models.OneToOneField(
        QueryDailyHits,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="last_search",
        verbose_name=_("每日搜索次数"),
    )
    searched_at = models.DateTimeField(_("最近一次搜索"))

    class Meta:
        verbose_name = _("最近一次搜索")
        verbose_name_plural = _("最近一次搜索")

    def __str__(self):
        return f"{self.daily_hits.query} ({timezone.localtime(self.searched_at):%Y-%m-%d %H:%M:%S})"

    @classmethod
    def count_search(cls, query_string, now=None):
        """Count one search of ``query_string`` in search_promotions' hits on the local day of ``now``
        (default: now) and keep its time. What ``Query.add_hit`` does, plus the time and the local day."""
        now = now or timezone.now()
        if cls._count_again(query_string, now):
            return
        query = Query.get(query_string)
        daily_hits, _ = QueryDailyHits.objects.get_or_create(query=query, date=timezone.localdate(now))
        QueryDailyHits.objects.filter(pk=daily_hits.pk).update(hits=models.F("hits") + 1)
        if not cls.objects.filter(daily_hits=daily_hits).update(searched_at=now):
            cls.objects.update_or_create(daily_hits=daily_hits, defaults={"searched_at": now})

    @classmethod
    def _count_again(cls, query_string, now):
        """A query already searched today (the usual case): its hit and time in two statements written out
        (the ORM's four lookups and updates cost a search more than running them). False when today's rows
        are not both there yet (nothing counted)."""
        hits, queries = QueryDailyHits._meta.db_table, Query._meta.db_table
        day = connection.ops.adapt_datefield_value(timezone.localdate(now))
        text = normalise_query_string(query_string)
        today = f"SELECT d.id FROM {hits} d INNER JOIN {queries} q ON q.id = d.query_id WHERE q.query_string = %s AND d.date = %s"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {cls._meta.db_table} SET searched_at = %s WHERE daily_hits_id IN ({today})",
                [connection.ops.adapt_datetimefield_value(now), text, day],
            )
            if not cursor.rowcount:
                return False
            cursor.execute(f"UPDATE {hits} SET hits = hits + 1 WHERE id IN ({today})", [text, day])
        return True


class SearchClick(models.Model):
    """One result an agent opened from a search: which query, which hit, at what position. Append-only.

    ``returned_at`` is set when the same user searched again shortly after opening it (the hit did not
    answer the question); a click nobody came back from is what ``LearnedLink`` learns from.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("用户"),
    )
    query_string = models.CharField(_("搜索词"), max_length=255, db_index=True)
    kind = models.CharField(_("类型"), max_length=40)
    object_id = models.CharField(_("对象"), max_length=64)
    title = models.CharField(_("标题"), max_length=255, blank=True)
    position = models.PositiveIntegerField(_("位置"))
    clicked_at = models.DateTimeField(_("点击时间"), db_index=True)
    returned_at = models.DateTimeField(_("返回搜索时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("搜索点击")
        verbose_name_plural = _("搜索点击")
        indexes = [models.Index(fields=["user", "-clicked_at"], name="search_click_user_recent")]

    def __str__(self):
        return f"{self.query_string} → {self.title} (#{self.position})"


class LearnedLink(models.Model):
    """A query that leans toward a result because agents searching it opened that result and did not
    come back to search again. Its weight decays with time; a trainer can undo it (``blocked``), after
    which clicks no longer teach it."""

    query_string = models.CharField(_("搜索词"), max_length=255, db_index=True)
    kind = models.CharField(_("类型"), max_length=40)
    object_id = models.CharField(_("对象"), max_length=64)
    title = models.CharField(_("标题"), max_length=255, blank=True)
    weight = models.FloatField(_("权重"), default=0.0)
    clicks = models.PositiveIntegerField(_("点击次数"), default=0)
    last_clicked_at = models.DateTimeField(_("最近一次点击"), null=True, blank=True)
    blocked = models.BooleanField(_("已撤销"), default=False)
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("撤销人"),
    )
    blocked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("点击学习关联")
        verbose_name_plural = _("点击学习关联")
        constraints = [
            models.UniqueConstraint(
                fields=["query_string", "kind", "object_id"], name="search_learnedlink_unique_target"
            )
        ]

    def __str__(self):
        return f"{self.query_string} → {self.title}"
