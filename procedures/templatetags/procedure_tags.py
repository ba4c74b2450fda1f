from django import template

from procedures import engine
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
