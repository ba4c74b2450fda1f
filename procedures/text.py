"""Filling a run's step texts and phrasings: placeholders in rich text, and the values they are filled
with, in the form they are spoken to the customer."""

from django.utils.html import format_html
from django.utils.safestring import mark_safe
from wagtail.rich_text import expand_db_html

from kb_site.content.placeholders import PLACEHOLDER_RE, spoken_date
from kb_site.content.richtext import sanitize_rich_text

from .choices import VariableType
from .screen_cache import agent_values


def fill_rich_text(source, values):
    """Rich-text HTML with ``{变量}`` replaced: known values highlighted (escaped), missing ones marked."""
    if not source:
        return ""
    # Runs keep the definition they started with: text saved before sanitising existed is cleaned here.
    html = expand_db_html(sanitize_rich_text(source))

    def replace(match):
        name = match.group(1)
        value = (values or {}).get(name)
        if value not in (None, ""):
            return str(format_html('<span class="ph ph-filled" data-ph="{}">{}</span>', name, value))
        return str(format_html('<span class="ph ph-missing" data-ph="{}">【{}】</span>', name, name))

    return mark_safe(PLACEHOLDER_RE.sub(replace, html))


def spoken_values(procedure, values):
    """A run's values as they are spoken: date variables read ``2026年11月16日``, not ``2026-11-16``.

    Choice values are stored as the option's own words (换货, 先生), which is what the customer hears;
    other values are used as typed.
    """
    types = procedure.variable_types()
    return {
        name: spoken_date(value) if types.get(name) == VariableType.DATE and value else value
        for name, value in (values or {}).items()
    }


def speech_values(run, procedure=None):
    """What a run's step texts and phrasings are filled with: the system values (``{工号}``,
    ``{客服姓名}``, ``{公司名称}`` of the run's agent, see ``kb_site.content.profiles``; kept between
    steps by ``screen_cache``), then the run's own values in spoken form; a value the run collected wins
    over a system value of the same name."""
    procedure = procedure or run.get_procedure()
    return {**agent_values(run.user_id), **spoken_values(procedure, run.variables)}
