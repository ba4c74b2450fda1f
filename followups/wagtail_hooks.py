"""What follow-ups add to the rest of the site, by registration only (each section below is one
concern: the queues' pages and panels, the admin and reports, the demo)."""

from wagtail import hooks

from . import panels, reports, viewsets

# --- the queues' side: the home panel, the chain on runs (summary, timeline, JSON) -------------------


@hooks.register("register_home_panel")
def my_due_follow_ups_panel(request):
    return panels.home_panel(request)


@hooks.register("run_summary_panel")
def follow_up_chain_panel(request, run):
    return panels.run_summary_panel(request, run)


@hooks.register("run_json_extra")
def follow_up_chain_json(run):
    return panels.run_json_extra(run)


# --- the admin and reports: the 跟进与回访 menu (工作日历, 组长), 跟进统计 and 不满意原因 ----------------


@hooks.register("register_admin_viewset")
def register_followups_admin():
    return viewsets.FollowUpViewSetGroup()


@hooks.register("register_admin_viewset")
def register_followups_reports():
    return reports.report_viewsets()


# --- the demo ---------------------------------------------------------------------------------


@hooks.register("register_demo_loader", order=50)
def load_followups_demo(update, report, **options):
    from . import demo  # only load_demo needs it

    demo.load(update=update, report=report, **options)
