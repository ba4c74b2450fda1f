"""What training adds to the rest of the site, by registration only: the new hire's panel on the home
page, the read-and-confirm box under articles, the licence note and check on procedure starts, and
(further down) the admin viewsets, reports and demo loader."""

from django.contrib import messages
from django.shortcuts import redirect
from wagtail import hooks
from wagtail.admin.utils import get_valid_next_url_from_request

from . import panels, protection, reports, viewsets


@hooks.register("register_home_panel")
def my_training_panel(request):
    return panels.home_panel(request)


@hooks.register("register_article_panel")
def read_and_confirm_panel(request, page):
    return panels.confirm_panel(request, page)


@hooks.register("procedure_start_note")
def licence_note(request, procedure):
    return panels.licence_note(request, procedure)


@hooks.register("run_summary_panel")
def practice_score_panel(request, run):
    return panels.practice_summary_panel(request, run)


@hooks.register("before_start_run")
def practise_before_live(request, procedure, practice):
    return panels.refuse_live_without_licence(request, procedure, practice)


# --- the trainers' and mentors' side: the 新员工培训 admin menu and the training reports ---------------


@hooks.register("register_admin_viewset")
def register_training_admin():
    return viewsets.TrainingViewSetGroup()


@hooks.register("register_admin_viewset")
def register_training_reports():
    return reports.report_viewsets()


@hooks.register("after_create_snippet")
@hooks.register("after_edit_snippet")
def assign_after_admin_save(request, instance):
    """A saved cohort assigns its path to its members; a saved assignment gets its item rows."""
    return viewsets.after_snippet_saved(request, instance)


@hooks.register("register_demo_loader", order=40)
def load_training_demo(update, report, **options):
    from . import demo  # only load_demo needs it

    demo.load(update=update, report=report, **options)


@hooks.register("before_delete_snippet")
def keep_quizzes_in_use(request, instances):
    """A quiz with attempts, or one a path uses, is kept (one or many deleted from the listing)."""
    if request.method != "POST":
        return None
    message = protection.why_not_delete(instances)
    if message is None:
        return None
    messages.error(request, message)
    return redirect(get_valid_next_url_from_request(request) or "wagtailsnippets_training_quiz:list")


@hooks.register("before_bulk_action")
def keep_quizzes_in_use_in_bulk(request, action_type, objects, action_class_instance):
    if action_type != "delete" or request.method != "POST":
        return None
    return keep_quizzes_in_use(request, objects)
