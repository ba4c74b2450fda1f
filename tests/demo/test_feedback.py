"""The feedback demo: feedback at every status, one of it sent from a run, one fixed in a later revision."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from feedback.models import Feedback
from tests.procedures.conftest import login

REPORT = reverse("feedback_open:index")


def test_the_demo_has_feedback_at_every_status(client, demo):
    statuses = sorted(Feedback.objects.values_list("status", flat=True))
    assert statuses == sorted(["open", "open", "open", "fixed", "rejected", "needs_info"])
    from_run = Feedback.objects.get(run__isnull=False)
    assert from_run.revision_id == from_run.run.revision_id and from_run.step_key
    fixed = Feedback.objects.get(status="fixed")
    assert fixed.fixed_revision.pk > fixed.revision_id
    trainer = get_user_model().objects.get(username="trainer")
    login(client, trainer)
    assert client.get(reverse("feedback:list")).status_code == 200
    rows = client.get(REPORT).context["object_list"]
    assert sum(row.total for row in rows) == 4  # open and needing information
