"""Must-say lines and step targets on the demo procedures, and the demo's calls that tick them."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from procedures import engine, stats
from procedures.models import ProcedurePage, ProcedureRun
from tests.procedures.conftest import login


def test_the_demo_marks_must_say_lines_and_targets_and_its_calls_tick_them(client, demo):
    six_steps = ProcedurePage.objects.get(slug="complaint-six-steps-flow").to_procedure()
    assert six_steps.by_key["respond"]["target_seconds"] == 30
    assert engine.must_say_lines(six_steps.by_key["respond"]) == ["投诉首次响应"]
    rates = {(r.procedure, r.line): r for r in stats.must_say_rates(ProcedureRun.objects.all())}
    assert {"售后投诉处理六步法", "热线接听与分类转接"} <= {procedure for procedure, _line in rates}
    assert any(r.ticked < r.left for r in rates.values()) and any(r.ticked for r in rates.values())
    times = [r for r in stats.step_times(ProcedureRun.objects.all()) if r.target_seconds]
    assert times and any(r.over for r in times)
    login(client, get_user_model().objects.get(username="supervisor"))
    for name in ("procedures_must_say:index", "procedures_step_times:index"):
        html = client.get(reverse(name)).content.decode()
        assert "售后投诉处理六步法" in html
