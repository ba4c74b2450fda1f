from django import template

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
