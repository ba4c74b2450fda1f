"""The click demo: results demo agents opened for the way customers put things, and searches nobody
opened a result of.

On a fresh demo nothing has been clicked, so 点击学习关联 and 无人点击的搜索 would be empty and
colloquial queries would rank as if search had never been used. This loader records, over the last ten
days (relative to when it runs):

- clicks through the results (``search.clicks.record_click``, which teaches the learned links as a live
  click does): 买了三样只到了两样 → the 少货处理 procedure, 付了款三天还不发货 → the phrasing
  未到承诺时间催发货…, and one click the agent came back from (returned: it teaches nothing);
- one learned link a trainer undid (快递 → 签收验货提醒, 撤销 by 培训师);
- searches counted for 热门搜索 whose results nobody opened (地址填错, 质量问题, 发票怎么开).

Targets are found by kind and title through ``search.kinds`` (search knows no project model); a target
missing from the content is skipped. Loaded once: the first demo click found marks it.
"""

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone
from wagtail.search.utils import normalise_query_string

from search import clicks, kinds, results
from search.models import LearnedLink, QueryDailyLastSearch, SearchClick

# (query as typed, kind, title, position, [(username, days ago)], returned)
DEMO_CLICKS = [
    (
        "买了三样只到了两样",
        "procedure",
        "少货处理",
        2,
        [("agent", 9), ("agent3", 6), ("agent2", 4), ("agent4", 2), ("agent5", 1)],
        False,
    ),
    ("只到了两样", "article", "少货处理规范", 2, [("agent2", 5), ("agent5", 1)], False),
    ("付了款三天还不发货", "phrasing", "未到承诺时间催发货", 3, [("agent", 8), ("agent2", 3)], False),
    ("包裹丢了", "article", "查件与催件", 1, [("agent3", 4)], False),
    ("包裹丢了", "article", "运输破损处理规范", 2, [("agent4", 7)], True),
    ("快递", "phrasing", "签收验货提醒", 4, [("agent5", 6), ("agent", 5)], False),
]
# (query, kind, title) of links a trainer undid.
BLOCKED = [("快递", "phrasing", "签收验货提醒")]
BLOCKED_BY = "trainer"
# (query, [searches on each of the days before today]): searched, never opened.
UNCLICKED_SEARCHES = [
    ("地址填错", [2, 0, 1, 3]),
    ("质量问题", [1, 2, 0, 0, 2]),
    ("发票怎么开", [0, 1, 1, 0, 0, 2]),
]


def find_hit(kind_name, title):
    """A ``results.Hit`` for the live object of ``kind_name`` titled ``title``, or ``None``."""
    kind = kinds.get_kind(kind_name)
    if kind is None:
        return None
    obj = kind.get_queryset().filter(**{kind.title_field: title}).first()
    if obj is None:
        return None
    return results.Hit(kind.name, obj, kind.title_of(obj), pk=obj.pk, model=kind.model)


def at(days_ago, hour=15):
    """``days_ago`` days before now, at ``hour`` local time (never in the future)."""
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return min(timezone.now(), timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour))))


def load(update=False, report=None, **options):
    """Record the demo clicks, the undone link and the unclicked searches, once."""
    queries = {normalise_query_string(query) for query, *_rest in DEMO_CLICKS}
    if SearchClick.objects.filter(query_string__in=queries).exists():
        if report is not None:
            report.add("search clicks", False)
        return
    users = {user.username: user for user in get_user_model().objects.all()}
    moments = []
    for query, kind_name, title, position, clickers, returned in DEMO_CLICKS:
        hit = find_hit(kind_name, title)
        if hit is None:
            continue
        for username, days_ago in clickers:
            moments.append((at(days_ago), query, hit, position, users.get(username), returned))
    for moment, query, hit, position, user, returned in sorted(moments, key=lambda item: item[0]):
        click = clicks.record_click(user, query, hit, position, now=moment)
        if returned:  # the agent searched again a minute later
            SearchClick.objects.filter(pk=click.pk).update(returned_at=moment + datetime.timedelta(minutes=1))
            clicks.take_back(click.query_string, click.kind, click.object_id, moment)
    trainer = users.get(BLOCKED_BY)
    for query, kind_name, title in BLOCKED:
        link = LearnedLink.objects.filter(
            query_string=normalise_query_string(query), kind=kind_name, title=title
        )
        link.update(blocked=True, blocked_by=trainer, blocked_at=at(1, hour=10))
    for query, counts in UNCLICKED_SEARCHES:
        for days_ago, count in enumerate(counts):
            for n in range(count):
                QueryDailyLastSearch.count_search(query, at(days_ago, hour=9 + n))
    clicks.shared_links.invalidate()
    if report is not None:
        report.add("search clicks", True)
