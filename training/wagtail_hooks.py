"""What training adds to the rest of the site, by registration only: the new hire's panel on the home
page, the read-and-confirm box under articles, the licence note and check on procedure starts, and
(further down) the admin viewsets, reports and demo loader."""

from wagtail import hooks

from . import panels


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
