"""The content-health demo: what the floor searched without result and which pages demo agents opened.

The demo's content comes without usage, so on a fresh demo the dashboard's 无结果搜索 and 浏览 columns
would be 0 everywhere. This loader adds, over the last two weeks (relative to the day it runs):

- zero-result searches (``search.ZeroResultQuery``) near demo articles and procedures: 物业费怎么交 near
  物业客服的职责与服务原则, 快递丢了赔多少 near 查件与催件, 少货怎么赔 near 少货处理…; and two that are near
  nothing (the content words are all generic), which the dashboard must leave out;
- page views (``changes.PageView``) by the demo agents and new hires of the pages a parcel and property
  desk opens most.

Called by ``load_demo`` last (``register_demo_loader``, order 95): after the changes demo, whose notice's
audience (agents who opened 少货处理 in the last 30 days) must not include these views. Loaded once: the
first demo search found marks it, and a second load adds nothing, on whatever day it runs.
"""

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone
from wagtail.models import Page
from wagtail.search.utils import normalise_query_string

from changes.models import PageView
from search.models import ZeroResultQuery

# (query, [hits on each of the days before today: 0 = today]).
ZERO_RESULT_SEARCHES = [
    ("物业费怎么交", {0: 3, 1: 2, 3: 4, 6: 2, 9: 1}),
    ("快递丢了赔多少", {0: 2, 2: 3, 5: 2, 8: 1}),
    ("少货怎么赔", {1: 4, 2: 2, 4: 3}),
    ("包裹破损怎么理赔", {0: 1, 3: 2, 7: 2}),
    ("欠费停电怎么复电", {1: 2, 5: 1, 10: 1}),
    ("国际邮件多久到", {2: 1, 4: 2, 11: 1}),
    ("入伙手续要带什么", {3: 2, 12: 1}),
    ("钥匙丢了怎么办", {0: 1, 6: 1}),
    ("退换货运费谁出", {1: 1, 4: 1, 13: 2}),
    ("投诉多久回复", {2: 2, 9: 1}),
    # Near nothing: only generic words (怎么办, 多少…): not counted for any item.
    ("怎么办", {0: 2, 5: 1}),
    ("这个多少", {3: 1}),
]

# (page slug, [(username, [views on each of the days before today])]).
PAGE_VIEWS = [
    (
        "missing-item-flow",
        [("agent", [3, 2, 0, 4, 1, 2, 0]), ("agent3", [1, 0, 2, 1]), ("agent4", [0, 2, 1, 0, 1])],
    ),
    ("transit-damage-flow", [("agent", [1, 0, 1]), ("agent5", [2, 1, 0, 1]), ("newhire", [1, 1])]),
    ("wrong-item-flow", [("agent3", [0, 1]), ("newhire2", [2, 0, 1])]),
    ("hotline-intake-flow", [("agent4", [2, 3, 1, 2, 2]), ("agent5", [1, 1, 0, 2])]),
    ("complaint-five-steps", [("agent2", [0, 1, 1]), ("newhire3", [1, 0, 0, 1])]),
]
# Articles, found by title.
ARTICLE_VIEWS = [
    ("少货处理规范", [("agent", [2, 1, 1, 0, 2]), ("agent2", [1, 0, 1]), ("newhire", [3, 1, 2])]),
    ("查件与催件", [("agent3", [4, 2, 3, 1, 2, 3]), ("agent4", [1, 2]), ("newhire2", [2, 1, 1])]),
    ("运输破损处理规范", [("agent5", [1, 0, 2])]),
    ("物业客服的职责与服务原则", [("agent2", [2, 1]), ("newhire4", [1, 1, 1])]),
    ("业主投诉接待规范", [("agent2", [1, 0, 0, 1])]),
    ("国内邮件查询", [("agent4", [2, 1, 1]), ("newhire5", [1])]),
    ("热线接听与分类转接流程", [("agent5", [3, 1, 2, 2]), ("newhire6", [1, 0, 1])]),
]


def load(update=False, report=None, today=None, **options):
    """Add the demo's zero-result searches and page views once; ``today`` is the last day they fall on."""
    today = today or timezone.localdate()
    first_query = normalise_query_string(ZERO_RESULT_SEARCHES[0][0])
    if ZeroResultQuery.objects.filter(query_string=first_query).exists():
        if report is not None:
            report.add("health usage", False)
        return
    now = timezone.now()
    searches = []
    for query, days in ZERO_RESULT_SEARCHES:
        for days_ago, hits in days.items():
            day = today - datetime.timedelta(days=days_ago)
            searches.append(
                ZeroResultQuery(
                    query_string=normalise_query_string(query),
                    date=day,
                    hits=hits,
                    last_searched_at=min(
                        now, timezone.make_aware(datetime.datetime.combine(day, datetime.time(15)))
                    ),
                )
            )
    ZeroResultQuery.objects.bulk_create(searches, ignore_conflicts=True)

    users = {user.username: user for user in get_user_model().objects.all()}
    pages = {page.slug: page for page in Page.objects.filter(slug__in=[slug for slug, _ in PAGE_VIEWS])}
    pages.update(
        {page.title: page for page in Page.objects.filter(title__in=[title for title, _ in ARTICLE_VIEWS])}
    )
    views = []
    for key, readers in [*PAGE_VIEWS, *ARTICLE_VIEWS]:
        page = pages.get(key)
        if page is None:
            continue
        for username, counts in readers:
            if username not in users:
                continue
            for days_ago, count in enumerate(counts, start=1):  # from yesterday: today is what happens live
                if count:
                    day = today - datetime.timedelta(days=days_ago)
                    views.append(PageView(user=users[username], page=page, day=day, count=count))
    PageView.objects.bulk_create(views, ignore_conflicts=True)
    if report is not None:
        report.add("health usage", True)
