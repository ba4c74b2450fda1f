"""Content health (内容健康): which article, procedure or phrasing a trainer should fix next, and why.

Every live article, procedure and library phrasing is one ``HealthItem``. Its signals are read over a window
of the last ``days`` local days (today included), except the review state and open feedback, which are
states (a phrasing has no review date, views or runs: its signals are feedback, searches and quizzes):

- 复核 (review): ``ReviewMixin.review_due`` passed (已逾期 N 天), within ``REVIEW_SOON_DAYS`` (即将到期), or 正常;
- 浏览 (views): the page-view record (``changes.PageView``, one row per user, page and local day);
- 运行 (runs), 弃用率 and 升级率: the procedure's runs started in the window that count in statistics
  (``ProcedureRun.objects.counted()``: practice runs never count). A run is abandoned as every list shows
  it (``with_status(ABANDONED)``: marked, or idle past the limit); it escalated when it ended 已升级 or
  已转接, or handed the case to a group or person (``handoff_group`` / ``handoff_user``). Both rates are
  over all the window's counted runs;
- 反馈 (open feedback): ``Feedback.objects.open()`` on the page, by type (feedback about a phrasing counts for
  the phrasing and for the page it was sent from);
- 无结果搜索 near it: see ``content_words`` and ``near_zero_result_searches``;
- 测验错误率 (quiz miss rate): answers submitted in the window to questions citing the item (an option's
  ``cite_page`` or ``cite_phrasing``, or the question's ``procedure`` for a scenario question), the share
  answered wrongly.

Cost: a fixed number of queries whatever the number of items: each table is read once, aggregated in
the database per page (``values(...).annotate(...)``), and the rows are merged in Python. The step where a
procedure's runs stop (``add_stop_steps``) is read for the items of one screen only, in three queries.

The score (``score_item``) is documented on ``WEIGHTS`` below; the view is ``kb_site.health_views``.
"""

import dataclasses
import datetime
import functools
import operator
from collections import Counter, defaultdict

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changes.models import PageView
from feedback.choices import FeedbackKind
from feedback.models import Feedback
from kb_site.content.models import ArticlePage, Phrasing, SectionPage
from kb_site.reports import display_name
from procedures.choices import ENDING_ACTIONS, ENDING_OUTCOMES, EventAction, RunStatus
from procedures.models import ProcedurePage, ProcedureRun, RunEvent
from search.models import ZeroResultQuery
from training.models import AttemptAnswer, Question, QuestionOption
from zhtext import analyze

__all__ = [
    "DEFAULT_DAYS",
    "REVIEW_SOON_DAYS",
    "SORTS",
    "WEIGHTS",
    "HealthItem",
    "add_stop_steps",
    "content_words",
    "health_items",
    "make_reasons",
    "score_item",
]

DEFAULT_DAYS = 30
MAX_DAYS = 365
# A review date this close (in days) is shown as 即将到期.
REVIEW_SOON_DAYS = 14
# How many of the runs that stopped at a procedure's stop step are shown as evidence.
EVIDENCE_RUNS = 5
# How many near zero-result searches an item lists.
NEAR_QUERIES_SHOWN = 5

# The outcomes the always-available endings record (an ending pressed on a step stops the run there).
STOPPED_OUTCOMES = tuple(ENDING_OUTCOMES.values())
ESCALATED_OUTCOMES = (ENDING_OUTCOMES[EventAction.ESCALATE], ENDING_OUTCOMES[EventAction.TRANSFER])

# Words that say nothing about a topic: a zero-result search sharing only these with a title is not near it.
GENERIC_WORDS = frozenset(
    [
        "处理",
        "规范",
        "流程",
        "问题",
        "标准",
        "话术",
        "客服",
        "客户",
        "服务",
        "办理",
        "说明",
        "须知",
        "指南",
        "方法",
        "步骤",
        "步法",
        "情况",
        "相关",
        "一下",
        "一个",
        "这个",
        "那个",
        "怎么",
        "怎么办",
        "怎样",
        "如何",
        "什么",
        "为什么",
        "哪里",
        "哪个",
        "多久",
        "多少",
        "可以",
        "能否",
        "是否",
        "需要",
        "没有",
        "不能",
        "我们",
        "你们",
        "他们",
        "您好",
    ]
)


# The score: points per signal, summed, then weighed by reach. Why these weights:
# - Open feedback is agents telling us directly that what they read is wrong: an error or outdated content
#   is said to customers on every call until fixed, so it weighs most (12 / 10 per item); missing content
#   and unclear wording cost time (8 / 6); a suggestion is welcome but not urgent (3).
# - A review overdue means nobody has confirmed the content is still true: 10 points, plus one per 3 days
#   late, at most 30 in all; 即将到期 is a reminder (2).
# - 弃用率 (up to 40) and 升级率 (up to 25) are where a procedure fails the agent on a call; 测验错误率 (up to 25)
#   where the content fails to teach. Each rate counts in full from 10 runs or answers on, proportionally
#   below (one abandoned run out of one is no pattern).
# - Each zero-result search near the item is 2 points, at most 20: agents looked for something on its topic
#   and found nothing.
# - Reach: the sum is multiplied by 1 + min(views + runs, 200) / 200 (×1 to ×2): the same problem in content
#   the floor uses every day reaches more customers than in content nobody opened.
WEIGHTS = {
    "feedback": {
        FeedbackKind.ERROR: 12,
        FeedbackKind.OUTDATED: 10,
        FeedbackKind.MISSING: 8,
        FeedbackKind.UNCLEAR: 6,
        FeedbackKind.SUGGESTION: 3,
    },
    "review_overdue": 10,
    "review_overdue_per_days": 3,
    "review_overdue_max": 30,
    "review_soon": 2,
    "abandonment": 40,
    "escalation": 25,
    "quiz_miss": 25,
    "full_confidence": 10,
    "zero_result_search": 2,
    "zero_result_max": 20,
    "reach_full": 200,
}


class Review:
    OVERDUE = "overdue"
    SOON = "soon"
    OK = "ok"


# The orders the dashboard offers: {value: (label, the key an item is sorted by, highest first)}.
SORTS = {
    "score": (gettext_lazy("得分"), lambda item: item.score),
    "feedback": (gettext_lazy("反馈"), lambda item: item.feedback_total),
    "review": (gettext_lazy("复核逾期"), lambda item: item.review_days_overdue),
    "abandonment": (gettext_lazy("弃用率"), lambda item: item.abandonment_rate or 0),
    "escalation": (gettext_lazy("升级率"), lambda item: item.escalation_rate or 0),
    "views": (gettext_lazy("浏览"), lambda item: item.views),
    "runs": (gettext_lazy("运行"), lambda item: item.runs),
    "zero": (gettext_lazy("无结果搜索"), lambda item: item.zero_result_hits),
    "quiz": (gettext_lazy("测验错误率"), lambda item: item.quiz_miss_rate or 0),
}


@dataclasses.dataclass
class Reason:
    """A badge: why an item ranks where it does, and the points it adds. The text is translated when shown
    (scoring every item of a large base must not translate every badge of items nobody sees)."""

    template: str  # a gettext_lazy message with %(name)s placeholders
    params: dict
    points: float
    level: str = "warn"  # "bad", "warn" or "info": the badge's colour

    @property
    def label(self):
        return str(self.template) % self.params


@dataclasses.dataclass
class StopStep:
    """The step where most of a procedure's stopped runs stopped, and the latest of those runs."""

    key: str
    title: str
    stopped: int
    editor_url: str
    runs: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class HealthItem:
    """One live article, procedure or phrasing and its signals over the window.

    ``page`` (the page, or the phrasing with its section) is built from the row read with the item
    (``source``) when first asked for: only the rows shown need one, and building 1,600 page instances
    costs more than scoring them."""

    pk: int
    title: str
    kind: str  # "article", "procedure" or "phrasing"
    kind_label: str
    review_due: datetime.date | None
    review_state: str = Review.OK
    review_days_overdue: int = 0
    views: int = 0
    runs: int = 0
    abandoned: int = 0
    escalated: int = 0
    feedback: Counter = dataclasses.field(default_factory=Counter)
    zero_result_queries: list = dataclasses.field(default_factory=list)  # the top [(query, hits)], most first
    zero_result_hits: int = 0  # all near searches' hits
    quiz_answers: int = 0
    quiz_missed: int = 0
    score: float = 0.0
    stop: StopStep | None = None
    source: tuple = dataclasses.field(default=(), repr=False, compare=False)  # what ``page`` is built from

    @functools.cached_property
    def page(self):
        """The page (or phrasing, its ``section`` set) as ``.only(...)`` would have read it: no query."""
        model, fields, row, *section = self.source
        page = page_from_row(model, fields, row)
        if section:
            section_fields, section_row = section
            page.section = page_from_row(SectionPage, section_fields, section_row) if section_row else None
        return page

    @functools.cached_property
    def reasons(self):
        """The badges: why it ranks where it does (``make_reasons``)."""
        return make_reasons(self)

    @property
    def page_id(self):
        return self.pk

    @property
    def key(self):
        """``("page", pk)`` or ``("phrasing", pk)``: pages and phrasings number their rows apart."""
        return ("phrasing" if self.is_phrasing else "page", self.pk)

    @property
    def is_phrasing(self):
        return self.kind == "phrasing"

    @property
    def is_procedure(self):
        return self.kind == "procedure"

    @property
    def abandonment_rate(self):
        return self.abandoned / self.runs if self.runs else None

    @property
    def escalation_rate(self):
        return self.escalated / self.runs if self.runs else None

    @property
    def quiz_miss_rate(self):
        return self.quiz_missed / self.quiz_answers if self.quiz_answers else None

    @property
    def feedback_total(self):
        return sum(self.feedback.values())

    @property
    def feedback_display(self):
        """``错误 1、不清楚 2`` in the order of the types."""
        labels = dict(FeedbackKind.choices)
        return "、".join(
            f"{labels[kind]} {self.feedback[kind]}" for kind in FeedbackKind if self.feedback[kind]
        )

    @property
    def review_display(self):
        if self.review_state == Review.OVERDUE:
            return _("已逾期 %(days)d 天") % {"days": self.review_days_overdue}
        if self.review_state == Review.SOON:
            return _("即将到期")
        return _("正常")

    @property
    def url(self):
        """Where agents see it: the page, or a phrasing's card on its section's page."""
        if self.is_phrasing:
            return self.page.url_in_section(self.page.section)
        return self.page.url or ""

    @property
    def edit_url(self):
        if self.is_phrasing:
            return reverse("wagtailsnippets_content_phrasing:edit", args=[self.pk])
        return reverse("wagtailadmin_pages:edit", args=[self.pk])


def window_start(days, today=None):
    """The first local day of a window of ``days`` days ending today, and its start as an aware datetime."""
    today = today or timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    return first, timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))


def percent(rate):
    return "—" if rate is None else f"{rate:.0%}"


# --- words -------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16384)
def content_words(text):
    """The words of ``text`` that name a topic: segmented with zhtext (words and their dictionary sub-words,
    so 快递单号 also gives 快递 and 单号), at least two characters long (a single character is a particle or
    part of a word), and not one of ``GENERIC_WORDS`` (处理, 规范, 怎么办…, which every title or question has)."""
    return frozenset(word for word in analyze(text or "") if len(word) >= 2 and word not in GENERIC_WORDS)


def bitmask(indices, size):
    """The int whose bits ``indices`` are set (of ``size`` bits): built as bytes, in one pass."""
    bits = bytearray(size // 8 + 1)
    for index in indices:
        bits[index >> 3] |= 1 << (index & 7)
    return int.from_bytes(bits, "little")


def near_zero_result_searches(items, queries):
    """Set each item's ``zero_result_queries``: the window's searches that found nothing and are "near" it.

    A search is near an item when the search's content words (``content_words``) and those of the item's
    title and tags share at least one word: 少货赔多少 is near 少货处理 (少货), 怎么处理 near nothing. Such a
    search was about the item's topic, yet the item was not found: a word, a synonym or a section is missing.
    ``queries`` is ``{query_string: hits}``.

    Cost: the queries are numbered in order of hits (most first), and each word's queries are the bits of
    an int. An item's near queries are the OR of its words' ints; their hits are summed by bit planes (the
    queries whose hits have bit b set make plane b: the sum is that of 2**b times the near queries in plane
    b, counted with ``int.bit_count``), a few C-level operations per item whatever the number of queries.
    Its top queries are the smallest numbers among the first ``NEAR_QUERIES_SHOWN`` of each word (the top of
    a union is among the tops of its parts)."""
    ranked = sorted(queries.items(), key=lambda pair: (-pair[1], pair[0]))
    size = len(ranked)
    by_word = defaultdict(list)
    for index, (query, _count) in enumerate(ranked):
        for word in content_words(query):
            by_word[word].append(index)  # in rank order
    masks = {word: bitmask(found, size) for word, found in by_word.items()}
    planes = [
        (bit, bitmask((index for index, (_query, count) in enumerate(ranked) if count >> bit & 1), size))
        for bit in range(max((count for _query, count in ranked), default=0).bit_length())
    ]
    for item in items:
        words = [word for word in item.words if word in masks]
        if not words:
            continue
        near = functools.reduce(operator.or_, (masks[word] for word in words))
        item.zero_result_hits = sum((near & plane).bit_count() << bit for bit, plane in planes)
        top = sorted({index for word in words for index in by_word[word][:NEAR_QUERIES_SHOWN]})
        item.zero_result_queries = [ranked[index] for index in top[:NEAR_QUERIES_SHOWN]]


# --- the signals, one query (or two) per table ----------------------------------------------------------


# What an item reads of a page: its title, its address (``Page.url``) and its review date; of a phrasing,
# its title and section, and of the section its address.
PAGE_FIELDS = (
    "id",
    "title",
    "path",
    "depth",
    "url_path",
    "live",
    "locale_id",
    "content_type_id",
    "review_due",
    "last_reviewed",
    "review_interval_days",
)
SECTION_FIELDS = PAGE_FIELDS[:8]
PHRASING_FIELDS = ("id", "title", "section_id")


def row_fields(model, names):
    """``names`` and the model's primary key, in the order of the model's fields: the order ``from_db``
    takes a row's values in (what ``.only(*names)`` reads)."""
    wanted = {*names, model._meta.pk.attname}
    return tuple(field.attname for field in model._meta.concrete_fields if field.attname in wanted)


def page_from_row(model, fields, row):
    """The instance ``model.objects.only(*fields)`` would have made of ``row``, without a query."""
    return model.from_db(model.objects.db, fields, row)


def _review_due(due, last_reviewed, interval):
    """``review_due or compute_review_due()`` (``ReviewMixin``) on a row's values."""
    if due or not last_reviewed:
        return due
    return last_reviewed + datetime.timedelta(days=interval or 0)


def _items(kind=None):
    """The live articles, procedures and library phrasings, with their words (title and tags): two queries
    per type, read as rows (``HealthItem.page`` is built from its row when shown)."""
    types = [
        ("article", ArticlePage, ArticlePage.objects.live().order_by("path")),
        ("procedure", ProcedurePage, ProcedurePage.objects.live().order_by("path")),
        ("phrasing", Phrasing, Phrasing.objects.live().order_by("title", "pk")),
    ]
    section_fields = row_fields(SectionPage, SECTION_FIELDS)
    items = []
    for name, model, rows in types:
        if kind and kind != name:
            continue
        label = str(model._meta.verbose_name)
        tags = defaultdict(list)
        for page_id, tag in model.tags.through.objects.values_list("content_object_id", "tag__name"):
            tags[page_id].append(tag)
        phrasing = name == "phrasing"
        fields = row_fields(model, PHRASING_FIELDS if phrasing else PAGE_FIELDS)
        at = {field: index for index, field in enumerate(fields)}
        pk_at, title_at = at[model._meta.pk.attname], at["title"]
        if phrasing:
            rows = rows.values_list(*fields, *(f"section__{field}" for field in section_fields))
        else:
            rows = rows.values_list(*fields)
            review_at = at["review_due"], at["last_reviewed"], at["review_interval_days"]
        width = len(fields)
        for row in rows:
            pk, title = row[pk_at], row[title_at]
            if phrasing:
                section = row[width:] if row[width] is not None else None
                source = (model, fields, row[:width], section_fields, section)
            else:
                source = (model, fields, row)
            item = HealthItem(
                pk=pk,
                title=title,
                kind=name,
                kind_label=label,
                review_due=None if phrasing else _review_due(*(row[index] for index in review_at)),
                source=source,
            )
            item.words = content_words(" ".join([title, *tags[pk]]))
            items.append(item)
    return items


def _set_review_state(items, today):
    soon = today + datetime.timedelta(days=REVIEW_SOON_DAYS)
    for item in items:
        due = item.review_due
        if due and due < today:
            item.review_state, item.review_days_overdue = Review.OVERDUE, (today - due).days
        elif due and due <= soon:
            item.review_state = Review.SOON


def _counted_runs(since):
    return ProcedureRun.objects.counted().filter(started_at__gte=since)


def _add_runs(by_id, since, now):
    runs = _counted_runs(since).order_by()
    escalated = Q(outcome__in=ESCALATED_OUTCOMES, status=RunStatus.COMPLETED) | Q(handoff_group__isnull=False)
    escalated |= Q(handoff_user__isnull=False)
    for row in runs.values("procedure_id").annotate(
        total=Count("pk"), escalated=Count("pk", filter=escalated)
    ):
        if item := by_id.get(row["procedure_id"]):
            item.runs, item.escalated = row["total"], row["escalated"]
    abandoned = runs.with_status(RunStatus.ABANDONED, now).values("procedure_id").annotate(n=Count("pk"))
    for row in abandoned:
        if item := by_id.get(row["procedure_id"]):
            item.abandoned = row["n"]


def _add_views(by_id, first_day):
    rows = PageView.objects.filter(day__gte=first_day).order_by().values("page_id").annotate(n=Sum("count"))
    for row in rows:
        if item := by_id.get(row["page_id"]):
            item.views = row["n"]


def _add_feedback(by_key):
    """Open feedback per page and type; feedback about a phrasing counts for the phrasing as well as for the
    page it was sent from (the agent saw it there)."""
    rows = Feedback.objects.open().order_by().values("page_id", "phrasing_id", "kind").annotate(n=Count("pk"))
    for row in rows:
        for key in (("page", row["page_id"]), ("phrasing", row["phrasing_id"])):
            if item := by_key.get(key):
                item.feedback[row["kind"]] += row["n"]


def _add_zero_results(items, first_day):
    # Weak searches (``best_coverage`` set: the best hit covered under half of the query) count too: the
    # topic was searched for and not found well, which a word, a synonym or a section would fix as well.
    rows = (
        ZeroResultQuery.objects.filter(date__gte=first_day)
        .order_by()
        .values("query_string")
        .annotate(n=Sum("hits"))
    )
    near_zero_result_searches(items, {row["query_string"]: row["n"] for row in rows})


def _add_quiz(by_key, since):
    """Answers to questions citing a page or phrasing: which questions cite what (two queries), then the
    answers submitted in the window, counted per question (one query)."""
    cites = defaultdict(set)
    options = QuestionOption.objects.filter(Q(cite_page__isnull=False) | Q(cite_phrasing__isnull=False))
    for question_id, page_id, phrasing_id in options.values_list(
        "question_id", "cite_page_id", "cite_phrasing_id"
    ).distinct():
        if page_id:
            cites[question_id].add(("page", page_id))
        if phrasing_id:
            cites[question_id].add(("phrasing", phrasing_id))
    for question_id, page_id in Question.objects.filter(procedure__isnull=False).values_list(
        "pk", "procedure_id"
    ):
        cites[question_id].add(("page", page_id))
    if not cites:
        return
    answers = (
        AttemptAnswer.objects.filter(attempt__submitted_at__gte=since, question_id__in=list(cites))
        .order_by()
        .values("question_id")
        .annotate(total=Count("pk"), missed=Count("pk", filter=Q(correct=False)))
    )
    for row in answers:
        for key in cites[row["question_id"]]:
            if item := by_key.get(key):
                item.quiz_answers += row["total"]
                item.quiz_missed += row["missed"]


# --- the score -----------------------------------------------------------------------------------------


def _confidence(count):
    return min(count, WEIGHTS["full_confidence"]) / WEIGHTS["full_confidence"]


# The badges' texts (translated when shown).
FEEDBACK_BADGE = gettext_lazy("%(n)d 条反馈")
OVERDUE_BADGE = gettext_lazy("复核逾期 %(days)d 天")
SOON_BADGE = gettext_lazy("复核即将到期")
ABANDONMENT_BADGE = gettext_lazy("弃用率 %(rate)s")
ESCALATION_BADGE = gettext_lazy("升级率 %(rate)s")
QUIZ_BADGE = gettext_lazy("测验错误率 %(rate)s")
ZERO_RESULT_BADGE = gettext_lazy("无结果搜索 %(n)d 次")


def _points(item):
    """``(points, badge, params, level)`` for each signal of ``item`` that adds points, per ``WEIGHTS``."""
    feedback_points = sum(WEIGHTS["feedback"][kind] * n for kind, n in item.feedback.items())
    if feedback_points:
        level = "bad" if feedback_points >= 10 else "warn"
        yield feedback_points, FEEDBACK_BADGE, {"n": item.feedback_total}, level
    if item.review_state == Review.OVERDUE:
        points = min(
            WEIGHTS["review_overdue"] + item.review_days_overdue // WEIGHTS["review_overdue_per_days"],
            WEIGHTS["review_overdue_max"],
        )
        yield points, OVERDUE_BADGE, {"days": item.review_days_overdue}, "bad"
    elif item.review_state == Review.SOON:
        yield WEIGHTS["review_soon"], SOON_BADGE, {}, "info"
    if item.abandoned:
        points = WEIGHTS["abandonment"] * item.abandonment_rate * _confidence(item.runs)
        yield points, ABANDONMENT_BADGE, {"rate": percent(item.abandonment_rate)}, "warn"
    if item.escalated:
        points = WEIGHTS["escalation"] * item.escalation_rate * _confidence(item.runs)
        yield points, ESCALATION_BADGE, {"rate": percent(item.escalation_rate)}, "warn"
    if item.quiz_missed:
        points = WEIGHTS["quiz_miss"] * item.quiz_miss_rate * _confidence(item.quiz_answers)
        yield points, QUIZ_BADGE, {"rate": percent(item.quiz_miss_rate)}, "warn"
    if item.zero_result_hits:
        points = min(WEIGHTS["zero_result_search"] * item.zero_result_hits, WEIGHTS["zero_result_max"])
        yield points, ZERO_RESULT_BADGE, {"n": item.zero_result_hits}, "info"


def make_reasons(item):
    """The badges of ``item``, most points first (``HealthItem.reasons``: made for the rows shown only)."""
    badges = [Reason(badge, params, points, level) for points, badge, params, level in _points(item)]
    return sorted(badges, key=lambda reason: -reason.points)


def score_item(item):
    """Set ``item.score`` from its signals (``_points``), weighed by reach; its badges (``make_reasons``)
    are made when first shown."""
    reach = 1 + min(item.views + item.runs, WEIGHTS["reach_full"]) / WEIGHTS["reach_full"]
    item.score = round(sum(points for points, *_badge in _points(item)) * reach, 1)
    return item.score


def health_items(days=DEFAULT_DAYS, kind=None, sort="score", now=None):
    """Every live article, procedure and phrasing (or those of ``kind``) with its signals over the last ``days`` days,
    scored, in ``sort`` order (``SORTS``: highest first; ties by title). A fixed number of queries."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first_day, since = window_start(days, today)
    items = _items(kind)
    by_key = {item.key: item for item in items}
    by_id = {item.page_id: item for item in items if not item.is_phrasing}
    _set_review_state(items, today)
    if kind != "phrasing":
        _add_views(by_id, first_day)
    if kind in (None, "procedure"):
        _add_runs(by_id, since, now)
    _add_feedback(by_key)
    _add_zero_results(items, first_day)
    _add_quiz(by_key, since)
    for item in items:
        score_item(item)
    key = SORTS.get(sort, SORTS["score"])[1]
    items.sort(key=lambda item: (-key(item), -item.score, item.title, item.key))
    return items


# --- where runs stop -------------------------------------------------------------------------------------


def _stopped_runs(procedure_ids, since, now):
    """Runs that stopped before the flow's own end: abandoned, or ended by one of the always-available
    endings (升级 / 转接 / 客户放弃: an ending event, which leaves the run on the step it was pressed at).
    A run that reached an outcome step, even one recording 已转接, went where the procedure led it."""
    runs = _counted_runs(since).filter(procedure_id__in=procedure_ids).order_by()
    ended_early = Exists(RunEvent.objects.filter(run=OuterRef("pk"), action__in=ENDING_ACTIONS))
    # The outcome first: only runs that ended 已升级 / 已转接 / 客户放弃 are looked up in the events.
    # ``last_activity_at >= since`` says nothing new (a run's last activity is never before its start) but
    # lets the database read the window's completed runs from the (status, last_activity_at) index rather
    # than every completed run ever.
    ended = runs.filter(
        status=RunStatus.COMPLETED, last_activity_at__gte=since, outcome__in=STOPPED_OUTCOMES
    ).filter(ended_early)
    return runs.with_status(RunStatus.ABANDONED, now) | ended


def editor_step_url(page_id, step_key):
    """The page editor opened at a step's block (``#step-<key>``: ``static/js/editor-step-link.js``). A step
    inside a sub-procedure (``<calling-key>/<inner-key>``) opens the calling step: the one this page holds."""
    top = step_key.split("/", 1)[0]
    return reverse("wagtailadmin_pages:edit", args=[page_id]) + (f"#step-{top}" if top else "")


def add_stop_steps(items, days=DEFAULT_DAYS, now=None, show_agents=False):
    """For the procedures among ``items`` (one screen), the step where most of the window's stopped runs
    stopped: runs abandoned there (their ``current_step``) or ended there by 升级 / 转接 / 客户放弃 (the run
    stays on the step where the ending was pressed, which is its last event's step). Ties go to the step
    key in alphabetical order. With it, the latest ``EVIDENCE_RUNS`` runs that stopped there: when, how it
    ended, the ending reason and every note its agent wrote on the way, the replay at its last event, and
    (``show_agents``: for those who may see agents' runs) the agent's name.

    Three queries: the stopped runs as tuples (procedure, step, title, time, id: counted per step and the
    latest of the top step taken in Python), the evidence runs by id, and their notes."""
    now = now or timezone.now()
    procedures = {item.page_id: item for item in items if item.is_procedure}
    if not procedures:
        return
    _first_day, since = window_start(days, timezone.localdate(now))
    stopped = _stopped_runs(list(procedures), since, now)
    # {procedure: {step: [run, …]}}, latest first: the stopped runs are read once, as tuples in that order;
    # counting them per step and taking the top step's first ones here costs less than a second pass in
    # the database (a count per step, then the runs ranked per procedure).
    steps = defaultdict(lambda: defaultdict(list))
    titles = {}
    for procedure_id, key, title, pk in stopped.order_by("-last_activity_at", "pk").values_list(
        "procedure_id", "current_step", "current_step_title", "pk"
    ):
        steps[procedure_id][key].append(pk)
        if title > titles.get((procedure_id, key), ""):
            titles[procedure_id, key] = title  # the greatest, as MAX() gave
    latest = {}  # {run: its place among the evidence}
    for procedure_id, by_step in steps.items():
        key, runs = min(by_step.items(), key=lambda step: (-len(step[1]), step[0]))
        title = titles.get((procedure_id, key))
        procedures[procedure_id].stop = StopStep(
            key=key, title=title or key, stopped=len(runs), editor_url=editor_step_url(procedure_id, key)
        )
        for pk in runs[:EVIDENCE_RUNS]:
            latest[pk] = len(latest)
    if not latest:
        return
    evidence = sorted(
        ProcedureRun.objects.filter(pk__in=list(latest))
        .select_related("user")
        .defer("definition", "variables", "start_variables"),
        key=lambda run: latest[run.pk],
    )
    notes = defaultdict(list)
    for run_id, title, note in (
        RunEvent.objects.filter(run_id__in=[run.pk for run in evidence])
        .exclude(note="")
        .order_by("run_id", "seq")
        .values_list("run_id", "step_title", "note")
    ):
        notes[run_id].append((title, note))
    for run in evidence:
        procedures[run.procedure_id].stop.runs.append(
            {
                "run": run,
                "when": timezone.localtime(run.last_activity_at),
                "ending": run.ending_display,
                "reason": run.ending_reason,
                "notes": notes[run.pk],
                "agent": display_name(run.user) if show_agents else "",
                "replay_url": reverse("procedures:replay", args=[run.pk, run.next_seq - 1])
                if show_agents and run.next_seq > 1
                else "",
            }
        )


def can_view(user):
    """Who sees the dashboard: those who handle content feedback (培训师, 主管), i.e. who fix content."""
    return user.is_authenticated and user.has_perm("feedback.handle_feedback")


def sees_runs(user):
    """Whether the evidence names agents and links to their runs' replays (主管: ``view_procedurerun``);
    培训师 see the figures and the notes, not individual agents' runs."""
    return user.has_perm("procedures.view_procedurerun")
