"""Named placeholders in standard phrasings, e.g. ``您好{客户称呼}，我是{工号}号客服``.

Plain Python (no Django models) so that phrasings, procedure steps and call summaries all
fill text the same way. A placeholder with no value is rendered as a visible, fillable gap,
never as raw braces.
"""

import datetime
import re

from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

PLACEHOLDER_RE = re.compile(r"\{([^{}\s]{1,20})\}")


def spoken_date(value):
    """A date as it is said and written to a customer: ``2026-11-16`` → ``2026年11月16日``.

    ``value`` is a ``datetime.date`` or its ISO text (how runs store dates); anything else is returned
    unchanged, so a value that is not a date is never lost.
    """
    if isinstance(value, datetime.datetime):
        value = value.date()
    if not isinstance(value, datetime.date):
        try:
            value = datetime.date.fromisoformat(str(value).strip())
        except ValueError:
            return value
    return f"{value.year}年{value.month}月{value.day}日"


def placeholder_names(text):
    """Names used in ``text``, in order of first appearance, without duplicates."""
    seen = []
    for name in PLACEHOLDER_RE.findall(text or ""):
        if name not in seen:
            seen.append(name)
    return seen


def fill_text(text, values=None, missing="【{name}】"):
    """Plain-text fill (for copying into a ticket); missing values become ``【name】``."""
    values = values or {}

    def replace(match):
        name = match.group(1)
        value = values.get(name)
        if value not in (None, ""):
            return str(value)
        return missing.format(name=name)

    return PLACEHOLDER_RE.sub(replace, text or "")


def render_html(text, values=None):
    """Safe HTML: filled values highlighted, missing ones as inline inputs the agent can type into."""
    values = values or {}
    parts = []
    last = 0
    for match in PLACEHOLDER_RE.finditer(text or ""):
        parts.append(escape(text[last : match.start()]))
        name = match.group(1)
        value = values.get(name)
        if value not in (None, ""):
            parts.append(format_html('<span class="ph ph-filled" data-ph="{}">{}</span>', name, value))
        else:
            parts.append(
                format_html(
                    '<input class="ph ph-gap" data-ph="{}" placeholder="{}" aria-label="{}" size="{}">',
                    name,
                    name,
                    name,
                    max(len(name) * 2, 4),
                )
            )
        last = match.end()
    parts.append(escape((text or "")[last:]))
    return mark_safe("".join(str(p) for p in parts).replace("\n", "<br>"))


# A phrasing rendered once for every reader (``kb_site.fragments``) holds a marker where a reader's own
# value goes; ``fill_deferred`` puts each reader's value (or the gap) there.
DEFERRED = "\ue000{}\ue001"


def deferred_values(names):
    """Values for ``render_html`` that leave a marker for each of ``names`` (system placeholders)."""
    return {name: DEFERRED.format(name) for name in names}


def fill_deferred(html, values, names):
    """``html`` rendered with ``deferred_values(names)``, with ``values`` (a reader's) in place of the
    markers, exactly as ``render_html`` would have rendered them."""
    if "\ue000" not in html:
        return html
    for name in names:
        marked = str(render_html(f"{{{name}}}", deferred_values([name])))
        if marked in html:
            value = values.get(name)
            html = html.replace(marked, str(render_html(f"{{{name}}}", {name: value} if value else {})))
    return mark_safe(html)
