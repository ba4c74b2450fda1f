"""Demo synonym groups: words agents on Chinese service lines use for the same thing.

Called by the demo loader (``load_demo``); idempotent: a group is matched by its first term.
"""

from search.models import SynonymGroup

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


def load(update=False, report=None):
    """The ``load_demo`` entry point: demo synonym groups."""
    created, _updated = load_synonyms(update=update)
    if report is not None:
        existing = len(DEMO_SYNONYMS) - created
        for _ in range(created):
            report.add("synonyms", True)
        for _ in range(existing):
            report.add("synonyms", False)
