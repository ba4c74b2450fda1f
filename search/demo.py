"""Demo synonym groups: words agents on Chinese service lines use for the same thing; and weak searches
for the 无结果搜索 report (found something, but the best hit covered under half of the query).

Called by the demo loader (``load_demo``); idempotent: a group is matched by its first term, the weak
searches are added once (the first one found marks them).
"""

import datetime

from django.utils import timezone
from wagtail.search.utils import normalise_query_string

from search import coverage, synonyms
from search.models import SynonymGroup, ZeroResultQuery
from zhtext import fold

DEMO_SYNONYMS = [
    ("退钱 = 退款 = 退费", "客户常说“退钱”，规范里写“退款”"),
    ("快递 = 物流 = 包裹 = 快件", "查件时客户的不同说法"),
    ("投诉 = 客诉 = 申诉", ""),
    ("回访 = 回电 = 回拨", "事后联系客户"),
    ("少货 = 漏发 = 缺件", "收到的商品数量不对"),
    ("错货 = 发错货 = 错发", "收到的商品不是订购的"),
    ("破损 = 损坏 = 摔坏 = 压坏", "运输破损"),
    ("工单 = 单子 = 工单号", ""),
    ("转接 = 转人工 = 转交", ""),
    ("升级 = 上报 = 升级处理", "交给上级或专门团队处理"),
]


def load_synonyms(update=False):
    """Create the demo synonym groups; returns ``(created, updated)`` counts."""
    created = updated = 0
    existing = {group.term_list[0]: group for group in SynonymGroup.objects.all() if group.term_list}
    for terms, note in DEMO_SYNONYMS:
        first = terms.split("=")[0].strip()
        group = existing.get(first)
        if group is None:
            SynonymGroup.objects.create(terms=terms, note=note)
            created += 1
        elif update:
            group.terms, group.note = terms, note
            group.save()
            updated += 1
    return created, updated


# (query, the title of its best hit in the demo content, {days before today: searches that day}).
WEAK_SEARCHES = [
    ("停电了要求赔偿", "案例：金砂寨频繁停电投诉的提级处理", {0: 2, 2: 1, 6: 1}),
    ("国际包裹被海关扣了", "海关处理时间", {1: 2, 4: 1}),
    ("工程师上门维修收费标准", "EMS上门揽收", {0: 1, 5: 2}),
    ("业主装修噪音投诉晚上", "业主投诉接待规范", {3: 1, 9: 1}),
]


def load_weak_searches(today=None):
    """Add the demo's weak searches once, over the days before ``today``; returns how many rows were added.

    Their coverage is what the best hit's title covers of the query (``search.coverage``)."""
    first = normalise_query_string(WEAK_SEARCHES[0][0])
    if ZeroResultQuery.objects.filter(query_string=first, best_coverage__isnull=False).exists():
        return 0
    today = today or timezone.localdate()
    now = timezone.now()
    mapping = synonyms.load_synonyms()
    rows = []
    for query, title, days in WEAK_SEARCHES:
        words = coverage.word_alternatives(query, mapping)
        share = len(coverage.covered(words, fold(title))) / len(words)
        for days_ago, hits in days.items():
            day = today - datetime.timedelta(days=days_ago)
            at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 30)))
            rows.append(
                ZeroResultQuery(
                    query_string=normalise_query_string(query),
                    date=day,
                    hits=hits,
                    last_searched_at=min(now, at),
                    best_coverage=share,
                    best_title=title,
                )
            )
    return len(ZeroResultQuery.objects.bulk_create(rows, ignore_conflicts=True))


def load(update=False, report=None):
    """The ``load_demo`` entry point: demo synonym groups and weak searches."""
    created, _updated = load_synonyms(update=update)
    weak = load_weak_searches()
    if report is not None:
        report.add("weak searches", bool(weak))
    if report is not None:
        existing = len(DEMO_SYNONYMS) - created
        for _ in range(created):
            report.add("synonyms", True)
        for _ in range(existing):
            report.add("synonyms", False)
