"""``load_demo`` again on a loaded demo: an operator who runs ``make run`` twice gets the same site."""

from django.apps import apps
from django.core.management import call_command


def row_counts():
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def test_a_second_load_adds_nothing_to_any_table(demo):
    before = row_counts()
    assert before["procedures.RunEvent"] and before["search.SearchClick"] and before["feedback.Feedback"]
    call_command("load_demo", "--demo-users", verbosity=0)
    assert row_counts() == before
