"""Before / after of a page's changed blocks, marked at character level.

Blocks are matched across the two revisions by identity: an article's body blocks by their block id,
a procedure's steps by their step key. Each block becomes readable lines (标题：…, 话术：…, 回答：完好 →
核实订单) from the revision's stored JSON, with phrasings named by their text and step targets by the
target step's title; the lines of a changed block are compared character by character (Chinese has no
spaces between words) and rendered with ``<del>`` / ``<ins>``. Unchanged blocks are counted, not shown.

A phrasing edited in the 话术库 is not a revision of the pages using it: its text is read as it is
now on both sides, so such an edit shows no difference here (the phrasing's editor lists the pages and
steps it affects instead: ``impact``).
"""

import difflib
import json
import re
from dataclasses import dataclass, field
from html import unescape

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from kb_site.content.models import Phrasing

__all__ = ["BlockChange", "char_diff", "page_diff"]

TAG = re.compile(r"<[^>]+>")
BLOCK_END = re.compile(r"</(p|li|h\d|div)>|<br\s*/?>", re.I)

# How the lines name a block's fields (the keys in the stored JSON).
FIELD_LABELS = {
    "title": "标题",
    "text": "内容",
    "detail": "说明",
    "phrasings": "话术",
    "phrasing": "话术",
    "answers": "回答",
    "label": "名称",
    "next": "下一步",
    "default": "其他情况",
    "branches": "分支",
    "checklist": "检查清单",
    "items": "条目",
    "steps": "步骤",
    "rows": "时限",
    "scenario": "场景",
    "outcome": "结果",
    "must_say": "必说",
    "variables": "变量",
    "follow_ups": "跟进",
}
TARGET_KEYS = {"next", "default"}
SKIPPED_KEYS = {"key", "id", "target_seconds"}


def plain(html):
    """Rich text as plain text, one line per paragraph or list item."""
    text = BLOCK_END.sub("\n", html or "")
    return "\n".join(line.strip() for line in unescape(TAG.sub("", text)).splitlines() if line.strip())


def stream(revision, field_name):
    raw = (revision.content or {}).get(field_name) if revision is not None else None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = []
    return raw if isinstance(raw, list) else []


class Namer:
    """Phrasings by id and steps by key, as the lines show them."""

    def __init__(self, phrasing_ids, step_titles):
        self.phrasings = {p.pk: p for p in Phrasing.objects.filter(pk__in=phrasing_ids)}
        self.step_titles = step_titles

    def phrasing(self, pk):
        phrasing = self.phrasings.get(pk)
        return f"{phrasing.title}：{phrasing.text}" if phrasing else _("（已删除的话术）")

    def target(self, key):
        return self.step_titles.get(key, key)


def collect_phrasing_ids(value, found):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "phrasing" and isinstance(item, int):
                found.add(item)
            else:
                collect_phrasing_ids(item, found)
    elif isinstance(value, list):
        for item in value:
            collect_phrasing_ids(item, found)
    return found


def lines(value, namer, label=""):
    """``value`` (a block's stored JSON) as ``label：text`` lines."""
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict) and set(item) <= {"type", "value", "id"} and "value" in item:
                item = item["value"]  # a ListBlock item
            out.extend(lines(item, namer, label))
        return out
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if key in SKIPPED_KEYS or item in (None, "", [], {}):
                continue
            name = FIELD_LABELS.get(key, key)
            if key == "phrasing" and isinstance(item, int):
                out.append(f"{name}：{namer.phrasing(item)}")
            elif key in TARGET_KEYS and isinstance(item, str):
                out.append(f"{name}：→ {namer.target(item)}")
            elif key == "must_say":
                out.append(f"{name}：{_('是') if item else _('否')}")
            else:
                out.extend(lines(item, namer, name))
        return out
    if isinstance(value, bool):
        return [f"{label}：{_('是') if value else _('否')}"] if label else []
    text = plain(str(value)) if isinstance(value, str) else str(value)
    if not text:
        return []
    return [f"{label}：{text}" if label else text]


def char_diff(old, new):
    """``old`` → ``new`` as HTML: removed characters in ``<del>``, added ones in ``<ins>``."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    parts = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape(old[a1:a2]))
            continue
        if a2 > a1:
            parts.append(f"<del>{escape(old[a1:a2])}</del>")
        if b2 > b1:
            parts.append(f"<ins>{escape(new[b1:b2])}</ins>")
    return mark_safe("".join(parts))


@dataclass
class BlockChange:
    """One block on either side: its heading, ``status`` (added / removed / changed / same), the diff."""

    heading: str
    status: str
    html: str = ""
    anchor: str = ""
    lines: list = field(default_factory=list)

    @property
    def status_label(self):
        return {"added": _("新增"), "removed": _("删除"), "changed": _("修改"), "same": _("未改动")}[
            self.status
        ]


def _blocks(page, revision):
    """``[(identity, heading, value)]`` of a revision: procedure steps by key, article blocks by id."""
    steps = stream(revision, "steps")
    if steps:
        return [
            (block["value"].get("key") or block.get("id"), block["value"].get("title") or "", block["value"])
            for block in steps
            if isinstance(block.get("value"), dict)
        ]
    child_labels = {}
    body_field = getattr(type(page), "body", None)
    if body_field is not None:
        stream_block = type(page)._meta.get_field("body").stream_block
        child_labels = {name: str(block.label) for name, block in stream_block.child_blocks.items()}
    out = []
    for block in stream(revision, "body"):
        value = block.get("value")
        label = child_labels.get(block.get("type"), block.get("type") or "")
        title = value if isinstance(value, str) and block.get("type") == "heading" else ""
        if isinstance(value, dict):
            title = value.get("title") or value.get("label") or ""
        out.append((block.get("id"), f"{label}：{title}" if title else label, value))
    return out


def page_diff(page, old_revision, new_revision):
    """The blocks of ``new_revision`` against ``old_revision``, in the new order (removed ones last)."""
    old_blocks, new_blocks = _blocks(page, old_revision), _blocks(page, new_revision)
    found = set()
    for _key, _title, value in old_blocks + new_blocks:
        collect_phrasing_ids(value, found)
    titles = {key: title for key, title, _value in old_blocks + new_blocks}
    namer = Namer(found, titles)
    old_by_key = {key: (title, value) for key, title, value in old_blocks}
    new_keys = {key for key, _title, _value in new_blocks}
    changes = []
    for key, title, value in new_blocks:
        new_text = "\n".join(lines(value, namer))
        if key not in old_by_key:
            changes.append(BlockChange(title, "added", char_diff("", new_text), anchor=str(key)))
            continue
        old_text = "\n".join(lines(old_by_key[key][1], namer))
        status = "same" if old_text == new_text and old_by_key[key][0] == title else "changed"
        changes.append(BlockChange(title, status, char_diff(old_text, new_text), anchor=str(key)))
    for key, title, value in old_blocks:
        if key not in new_keys:
            old_text = "\n".join(lines(value, namer))
            changes.append(BlockChange(title, "removed", char_diff(old_text, ""), anchor=str(key)))
    return changes
