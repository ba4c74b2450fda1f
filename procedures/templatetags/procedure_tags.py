from django import template

from procedures.models import ProcedureRun

register = template.Library()


@register.inclusion_tag("procedures/includes/unfinished_runs.html", takes_context=True)
def unfinished_runs(context, limit=5):
    """The current agent's runs still in progress, to resume (stale ones are marked abandoned first)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"runs": []}
    ProcedureRun.objects.mark_abandoned()
    runs = ProcedureRun.objects.for_user(user).in_progress().order_by("-last_activity_at")[:limit]
    return {"runs": list(runs)}
