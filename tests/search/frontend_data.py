"""Content for the search front-end tests, created through the models and published like an editor would.

Words are chosen so the assertions hold on every backend: each searched word appears as a whole
jieba word in the text (e.g. ``投诉`` in ``客户投诉处理流程``).
"""

from django.contrib.auth.models import Group
from wagtail.models import PageViewRestriction
from wagtail.search.backends import get_search_backend

from kb_site.content.models import Phrasing
from tests.factories import ArticlePageFactory, PhrasingFactory, SectionPageFactory, publish


def article(parent, title, summary="", paragraph="", tags=(), live=True):
    page = ArticlePageFactory(
        parent=parent,
        title=title,
        summary=summary,
        body=[("heading", "处理步骤"), ("paragraph", f"<p>{paragraph}</p>")] if paragraph else [],
        live=live,
    )
    if tags:
        page.tags.add(*tags)
        page.save()
    if live:
        publish(page)
    return page


def phrasing(title, text, section=None, scenario="", tags=()):
    item = PhrasingFactory(title=title, text=text, section=section, scenario=scenario, live=True)
    if tags:
        item.tags.add(*tags)
        item.save()
    return publish(item)


def restrict_to_group(page, group_name):
    group, _ = Group.objects.get_or_create(name=group_name)
    restriction = PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(group)
    return group


def refresh_index():
    """Make recent writes visible to searches (a no-op on the database backend)."""
    backend = get_search_backend()
    for index in backend.all_indexes() if hasattr(backend, "all_indexes") else []:
        index.refresh()


def knowledge_base(home, section):
    """A small knowledge base: two sections, articles, phrasings; returns a dict of the objects."""
    other = SectionPageFactory(parent=home, title="电力热线服务", slug="power")
    publish(section)
    publish(other)
    data = {
        "section": section,
        "other": other,
        "complaint": article(
            section,
            "客户投诉处理流程",
            summary="受理投诉后十分钟内响应，当天反馈。",
            paragraph="接到客户投诉后，先安抚情绪，再记录工单。重大投诉三天内办结。",
            tags=["投诉", "时限"],
        ),
        "refund": article(
            section,
            "退款时限说明",
            summary="原路退款一般三到七个工作日到账。",
            paragraph="客户申请退款后，审核通过即原路退款。",
        ),
        "parcel": article(
            other,
            "快递查询规范",
            summary="客户来电查询快递单号时的标准做法。",
            paragraph="请客户提供快递单号，在系统中查询物流轨迹。",
        ),
        "draft": article(section, "投诉草稿文章", summary="尚未发布的投诉说明", live=False),
        "greeting": phrasing(
            "投诉安抚话术",
            "您好{客户称呼}，非常理解您的心情，您的投诉我已经记录下来了。",
            section=section,
            scenario="客户情绪激动时",
        ),
        "closing": phrasing("结束语", "感谢您的来电，祝您生活愉快。", section=other),
    }
    hidden = Phrasing.objects.create(
        title="投诉内部话术", text="投诉未发布的话术", section=section, live=False
    )
    data["hidden_phrasing"] = hidden
    refresh_index()
    return data
