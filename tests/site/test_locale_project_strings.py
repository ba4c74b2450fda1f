"""Callbook's own strings, written in Chinese, are in the zh_Hans catalogue translated to themselves: a msgid
the catalogue lacks is looked up in every fallback catalogue each time it is used (issue 14)."""

import re

from django.utils import translation
from django.utils.translation import trans_real

from tests.site.test_locale_compiled import LOCALE, read_po

PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

# From templates ({% translate %}, {% blocktranslate %}) and Python (gettext, gettext_lazy, ngettext).
PROJECT_STRINGS = [
    "跳到正文",  # templates/base.html
    "搜索",
    "预计 %(minutes)s 分钟",  # templates/procedures/procedure_page.html, blocktranslate
    "第 %(n)s 条记录，共 %(total)s 条",  # templates/procedures/run_replay.html
    "我的流程记录",  # kb_site/context_processors.py, gettext_lazy
    "我的跟进 (%(n)d)",
    "没有找到这次流程运行。",  # procedures/views.py
    "复核逾期 %(days)d 天",  # kb_site/health.py
]


def test_project_strings_are_in_the_compiled_catalogue():
    catalog = trans_real.translation("zh-hans")._catalog
    missing = [msgid for msgid in PROJECT_STRINGS if msgid not in catalog]
    assert not missing, missing
    # ngettext's entry (kb_site/content/reports.py) is kept by plural form
    assert catalog[("%(days)d 天", 0)] == "%(days)d 天"


def test_chinese_msgids_translate_to_themselves():
    entries = [entry for entry in read_po(PO) if CHINESE.search(entry["msgid"])]
    assert len(entries) > 1000  # the project's strings, not only a few
    wrong = []
    with translation.override("zh-hans"):
        for entry in entries:
            if "msgid_plural" in entry:
                got = translation.ngettext(entry["msgid"], entry["msgid_plural"], 2)
            else:
                got = translation.gettext(entry["msgid"])
            if got != entry["msgid"]:
                wrong.append(f"{entry['msgid']!r} → {got!r}")
    assert not wrong, "\n".join(wrong)
