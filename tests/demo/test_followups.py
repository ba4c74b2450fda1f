"""The follow-up demo (``followups.demo`` and the rules in fixtures/demo/procedures): rules on the demo
procedures from the seeds, and three weeks of follow-up history at every status."""

from django.utils import timezone

from followups.choices import Status
from followups.models import FollowUp, GroupLead
from procedures.choices import AssignTo, DueUnit, FollowUpKind
from procedures.models import ProcedurePage, ProcedureRun


def live_rules(slug):
    procedure = ProcedurePage.objects.get(slug=slug).to_procedure()
    return {step["key"]: step.get("follow_ups") or [] for step in procedure.steps}


def test_rules_on_the_demo_procedures(demo):
    callback = ProcedurePage.objects.get(slug="aftersales-callback-flow")
    six = live_rules("complaint-six-steps-flow")
    assert [(r["amount"], r["unit"]) for r in six["general-say"]] == [(24, DueUnit.HOURS)]
    assert [(r["amount"], r["unit"], r["group"]) for r in six["major-say"]] == [(3, DueUnit.DAYS, "售后组")]
    assert six["unsatisfied-done"][0]["procedure"] == callback.pk
    hotline = live_rules("hotline-intake-flow")
    next_day = ProcedurePage.objects.get(slug="next-day-callback-flow")
    assert (hotline["to-tech"][0]["amount"], hotline["to-tech"][0]["before_hour"]) == (1, 18)
    assert hotline["to-tech"][0]["procedure"] == next_day.pk
    # The 回访 procedure's 不满意 and 问题未解决 ask for a 重办 worked through itself (the second pass).
    redo = live_rules("aftersales-callback-flow")
    for key in ("unhappy", "unresolved"):
        [rule] = redo[key]
        assert (rule["kind"], rule["group"], rule["procedure"]) == (FollowUpKind.REDO, "售后组", callback.pk)
    assert live_rules("mail-query-complaint-flow")["accept"] and live_rules("complaint-five-steps")["special"]
    # Every rule of every demo procedure has a valid unit, a group that exists and a lead.
    rules = [
        rule
        for page in ProcedurePage.objects.all()
        for step in page.to_procedure().steps
        for rule in step.get("follow_ups") or []
    ]
    assert len(rules) >= 20
    for rule in rules:
        assert rule["unit"] in DueUnit.values and rule["amount"] >= 1
        if rule["assign_to"] == AssignTo.GROUP:
            assert GroupLead.objects.filter(group__name=rule["group"], user__username="supervisor").exists()


def test_history_spans_three_weeks_at_every_status(demo):
    now = timezone.now()
    follow_ups = FollowUp.objects.all()
    statuses = set(follow_ups.values_list("status", flat=True))
    assert {Status.OPEN, Status.IN_PROGRESS, Status.DONE, Status.UNREACHABLE, Status.CANCELLED} <= statuses
    assert follow_ups.overdue(now).count() >= 3
    assert follow_ups.open().filter(due_at__gte=now).exists()  # still to do, not late
    assert follow_ups.filter(kind=FollowUpKind.ESCALATION, source_run__handoff_group__name="主管").exists()
    assert follow_ups.filter(kind=FollowUpKind.TRANSFER, group__name="热线组").exists()
    oldest = follow_ups.order_by("created_at").first().created_at
    assert (now - oldest).days >= 18

    # Worked through the 回访 procedure with a satisfaction answer; 不满意 left a 重办 chained to it.
    worked = follow_ups.filter(status=Status.DONE, work_run__isnull=False)
    assert {"满意", "较满意", "不满意"} <= set(worked.values_list("satisfaction", flat=True))
    unhappy = worked.get(satisfaction="不满意")
    [redo] = unhappy.work_run.follow_ups.all()
    assert redo.kind == FollowUpKind.REDO and redo.parent == unhappy and redo.group.name == "售后组"
    assert FollowUp.objects.filter(kind=FollowUpKind.REDO, status=Status.OPEN).exists()

    # 无法联系 after failed attempts over days; one moved to the time the customer asked for.
    unreachable = follow_ups.get(status=Status.UNREACHABLE)
    assert unreachable.attempts.count() >= 3
    rescheduled = [f for f in follow_ups.open() if f.rescheduled]
    assert len(rescheduled) == 1 and rescheduled[0].due_at > now

    # Dates agree: a follow-up is created when its run ended, closed after that, and never in the future.
    for follow_up in follow_ups.select_related("source_run"):
        assert follow_up.created_at == follow_up.source_run.finished_at <= now
        assert follow_up.closed_at is None or follow_up.created_at <= follow_up.closed_at <= now
    for run in ProcedureRun.objects.filter(ref__startswith="DEMO-FU-"):
        assert run.started_at <= run.finished_at <= now
    # Several agents worked, none of it practice.
    assert ProcedureRun.objects.filter(ref__startswith="DEMO-FU-").values("user").distinct().count() >= 5
    assert not ProcedureRun.objects.filter(follow_ups__isnull=False, practice=True).exists()
