"""``load_demo`` again on a loaded demo: an operator who runs ``make run`` twice gets the same site."""

from django.apps import apps
from django.core.management import call_command
from wagtail.models import Page

from feedback.models import Feedback
from followups.models import FollowUp
from training.models import ItemProgress, PathAssignment


def row_counts():
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def states():
    """What a second load must not reset though it adds no row: learners' progress, follow-ups and feedback
    where the demo left them, the pages' live revisions."""
    return {
        "progress": sorted(ItemProgress.objects.values_list("pk", "status", "passes")),
        "stages": sorted(PathAssignment.objects.values_list("pk", "current_stage")),
        "follow-ups": sorted(FollowUp.objects.values_list("pk", "status", "due_at")),
        "feedback": sorted(Feedback.objects.values_list("pk", "status")),
        "pages": sorted(Page.objects.values_list("pk", "live_revision_id")),
    }


def test_a_second_load_adds_nothing_to_any_table_and_resets_nothing(demo):
    before, states_before = row_counts(), states()
    assert before["procedures.RunEvent"] and before["search.SearchClick"] and before["feedback.Feedback"]
    call_command("load_demo", "--demo-users", verbosity=0)
    assert row_counts() == before
    assert states() == states_before
