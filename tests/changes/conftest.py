"""Shared set-up for the change-notice tests: the demo 少货处理 procedure and a major change of it."""

import datetime
import json

import pytest
from django.utils import timezone

from procedures.models import ProcedurePage
from procedures.runs import start_run
from tests.procedures.conftest import load_demo_procedure
from tests.training.journeys import START_VALUES


@pytest.fixture
def missing_item(db):
    return load_demo_procedure("30-missing-item.yaml")


def publish_change(page, change_class, summary="", user=None, edit=None):
    """Publish a new revision of ``page`` classed ``change_class``, ``edit(page)`` applied first."""
    page = type(page).objects.get(pk=page.pk)
    if edit:
        edit(page)
    page.change_class = change_class
    page.change_summary = summary
    revision = page.save_revision(user=user)
    revision.publish(user=user, skip_permission_checks=True)
    return revision


def retitle_first_answer(page):
    """Change the first step's title and one answer of the 外包装 question: what the diff must show."""
    data = json.loads(json.dumps(page.steps.get_prep_value()))
    for block in data:
        if block["value"].get("key") == "ask-package":
            block["value"]["title"] = block["value"]["title"] + "（请客户拍照）"
    page.steps = data


def run_live(user, procedure, days_ago=1, practice=False):
    """A run of ``procedure`` by ``user`` started ``days_ago`` days ago, through the run engine."""
    procedure = ProcedurePage.objects.get(pk=procedure.pk)
    now = timezone.now() - datetime.timedelta(days=days_ago)
    return start_run(procedure, user, variables=START_VALUES, practice=practice, now=now)
