from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from procedures import engine
from procedures.choices import EventAction, StepKind
from procedures.models import ProcedureRun

register = template.Library()


@register.inclusion_tag("procedures/includes/unfinished_runs.html", takes_context=True)
def unfinished_runs(context, limit=5):
    """The current agent's runs still in progress, to resume (idle ones count as abandoned)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"runs": []}
    runs = ProcedureRun.objects.for_user(user).in_progress().defer("definition").order_by("-last_activity_at")
    return {"runs": list(runs[:limit])}


@register.inclusion_tag("procedures/includes/must_say_tick.html", takes_context=True)
def must_say_tick(context, phrasing):
    """A 必说 phrasing's 已说 box: to tick on the run step's form, read-only on its confirming screen and in
    a replay (what the event kept), a plain 必说 mark elsewhere."""
    (line,) = engine.must_say_lines({"phrasings": [phrasing]}) or ("",)
    form = context.get("form")
    event = context.get("event")
    shown = {"line": line, "mode": "mark", "checked": False}
    if form is not None and "said" in getattr(form, "fields", {}):
        shown["checked"] = line in form.said_ticked()
        shown["mode"] = "readonly" if form.confirming_ending else "input"
    elif event is not None and event.said is not None:
        shown.update(mode="readonly", checked=line in event.said)
    return shown


@register.filter
def duration(seconds):
    """Seconds as a run shows them: ``1分30秒`` ("" for none)."""
    return engine.format_duration(seconds) if seconds not in (None, "") else ""


@register.simple_tag
def step_time(run, event):
    """An event's time on its step and, where the step has one in the run's snapshot, its target:
    ``45秒 / 目标 30秒 · 超过目标`` (marked in words, not only in colour). Events the run writes by itself
    (a rule, an outcome, a 子流程 step's return) take no time and show no target."""
    shown = engine.format_duration(event.seconds)
    if event.action in (EventAction.RULE, EventAction.OUTCOME) or event.kind == StepKind.SUBPROCEDURE:
        return shown
    target = run.get_procedure().by_key.get(event.step_key, {}).get("target_seconds")
    if not target:
        return shown
    if event.seconds > target:
        return format_html(
            '{} <span class="step-time-target is-over">/ {} · <strong>{}</strong></span>',
            shown,
            _("目标 %(target)s") % {"target": engine.format_duration(target)},
            _("超过目标"),
        )
    return format_html(
        '{} <span class="step-time-target">/ {}</span>',
        shown,
        _("目标 %(target)s") % {"target": engine.format_duration(target)},
    )
