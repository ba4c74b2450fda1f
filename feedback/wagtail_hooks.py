"""What feedback registers with the site: its admin report and its demo loader."""

from wagtail import hooks

from . import reports


@hooks.register("register_admin_viewset")
def register_feedback_reports():
    return reports.report_viewsets()


@hooks.register("register_demo_loader", order=70)
def load_feedback_demo(update, report, **options):
    from . import demo  # only load_demo needs it

    demo.load(update=update, report=report, **options)
