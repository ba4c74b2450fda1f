"""The run as JSON gives its times in the site's time zone, as every page does (not UTC)."""

import datetime
import json

from django.urls import reverse
from django.utils import timezone

from tests.procedures.conftest import login
from tests.procedures.test_procedure_views import start, step


def test_run_json_times_are_local(client, agent, missing_item):
    login(client, agent)
    run = start(client, missing_item)
    step(client, run, action="transfer", confirm="1", reason="转物流组", handoff_user=str(agent.pk))
    data = json.loads(client.get(reverse("procedures:run_json", args=[run.pk])).content)
    run.refresh_from_db()
    offset = timezone.localtime(run.started_at).strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"  # +08:00
    for value in (data["started_at"], data["finished_at"], data["events"][0]["entered_at"]):
        assert value.endswith(offset), value
    assert datetime.datetime.fromisoformat(data["started_at"]) == run.started_at
    assert datetime.datetime.fromisoformat(data["finished_at"]) == run.finished_at


def test_a_run_is_named_by_its_local_start_time(client, agent, missing_item):
    """How a run is named wherever Wagtail prints the object (admin titles, logs): local time."""
    login(client, agent)
    run = start(client, missing_item)
    run.started_at = datetime.datetime(2026, 11, 28, 8, 44, tzinfo=datetime.UTC)
    assert str(run).endswith("2026-11-28 16:44")
