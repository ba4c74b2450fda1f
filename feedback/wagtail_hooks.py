"""What feedback registers with the site: its admin report and its demo loader."""

from wagtail import hooks

from procedures.signals import MAY_VIEW_RUN

from . import reports
from .views import handled_by, may_handle


@hooks.register("register_admin_viewset")
def register_feedback_reports():
    return reports.report_viewsets()


@hooks.register(MAY_VIEW_RUN)
def handlers_see_the_runs_remarks_came_from(user, run):
    """Whoever may handle a remark sent from inside a run sees that run's replay (pinned evidence)."""
    return may_handle(user) and handled_by(user).filter(run=run).exists()


@hooks.register("register_demo_loader", order=70)
def load_feedback_demo(update, report, **options):
    from . import demo  # only load_demo needs it

    demo.load(update=update, report=report, **options)
