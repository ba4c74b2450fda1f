"""Figures for the supervisors' reports, computed from runs (practice runs never count).

Durations are those of completed runs; the median is the usual one and p90 is nearest-rank
(the smallest duration that at least 90% of runs do not exceed).
"""

import math
import statistics
from collections import Counter, defaultdict
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.db.models import F, Max, Sum

from kb_site.reports import display_name

from . import engine
from .choices import ENDING_ACTIONS, EventAction, RunStatus, StepKind
from .models import ProcedureRun, RunEvent, procedure_for_revision


def percentile(values, fraction):
    """Nearest-rank percentile of ``values`` (None when empty)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


def counted_runs(runs):
    return runs.filter(practice=False)


def _summarise(key, label, runs):
    """Figures for one group; an idle run counts as abandoned (``ProcedureRun.shown_status``)."""
    statuses = [r.shown_status for r in runs]
    durations = [r.duration_seconds for r in runs if r.status == RunStatus.COMPLETED]
    outcomes = Counter(r.outcome for r in runs if r.status == RunStatus.COMPLETED)
    median = statistics.median(durations) if durations else None
    p90 = percentile(durations, 0.9)
    return SimpleNamespace(
        key=key,
        label=label,
        runs=len(runs),
        completed=statuses.count(RunStatus.COMPLETED),
        abandoned=statuses.count(RunStatus.ABANDONED),
        in_progress=statuses.count(RunStatus.IN_PROGRESS),
        outcomes=dict(outcomes),
        outcomes_display="、".join(
            f"{name} {outcomes[name]}" for name in sorted(outcomes, key=lambda n: (-outcomes[n], n))
        ),
        median_seconds=median,
        p90_seconds=p90,
        median_display=engine.format_duration(median) if median is not None else "—",
        p90_display=engine.format_duration(p90) if p90 is not None else "—",
    )


def grouped_stats(runs, by):
    """One row per procedure (``by="procedure"``) or agent (``by="agent"``), most runs first."""
    groups = defaultdict(list)
    labels = {}
    for run in counted_runs(runs).select_related("user").defer("definition", "variables"):
        if by == "agent":
            key = run.user_id
            labels[key] = run.user.get_full_name() or run.user.get_username()
        else:
            key = run.procedure_id
            labels.setdefault(key, run.procedure_title)
        groups[key].append(run)
    rows = [_summarise(key, labels[key], group) for key, group in groups.items()]
    return sorted(rows, key=lambda row: (-row.runs, str(row.label)))


def outcome_distribution(runs):
    """``[(outcome, count, share), ...]`` over completed runs, most first, ties by name (the rows come in no
    order: PostgreSQL returns them differently from run to run)."""
    counts = Counter(counted_runs(runs).filter(status=RunStatus.COMPLETED).values_list("outcome", flat=True))
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0] or ""))
    return [(name, count, count / total) for name, count in ranked]


def abandonment_by_step(runs):
    """Where abandoned runs stopped: one row per (procedure, step), most first."""
    counts = Counter(
        counted_runs(runs)
        .abandoned()
        .values_list("procedure_id", "procedure_title", "current_step", "current_step_title")
    )
    started = Counter(counted_runs(runs).values_list("procedure_id", flat=True))
    rows = [
        SimpleNamespace(
            procedure_id=procedure_id,
            procedure=title,
            step_key=step_key,
            step=step_title,
            abandoned=count,
            runs=started[procedure_id],
            share=f"{count / started[procedure_id]:.0%}",
        )
        for (procedure_id, title, step_key, step_title), count in counts.items()
    ]
    return sorted(rows, key=lambda row: (-row.abandoned, row.procedure, row.step))


def run_paths(runs):
    """``{run_id: "step › step › …"}``: each run's path after Backs, with how it ended."""
    events = defaultdict(list)
    for event in RunEvent.objects.filter(run__in=runs).order_by("run_id", "seq"):
        events[event.run_id].append(event)
    paths = {}
    for run_id, run_events in events.items():
        titles = [e.step_title for e in engine.active_path(run_events)]
        endings = [e for e in run_events if e.action in (EventAction.OUTCOME, *ENDING_ACTIONS)]
        if endings and endings[-1].action != EventAction.OUTCOME:
            titles.append(f"[{endings[-1].get_action_display()}]")
        elif endings:
            titles.append(endings[-1].step_title)
        paths[run_id] = " › ".join(titles)
    return paths


def common_paths(runs, limit=50):
    """The most frequent paths of completed runs, per procedure."""
    completed = counted_runs(runs).filter(status=RunStatus.COMPLETED)
    info = dict(completed.values_list("pk", "procedure_title"))
    outcome = dict(completed.values_list("pk", "outcome"))
    counts = Counter()
    for run_id, path in run_paths(completed).items():
        counts[(info[run_id], path, outcome[run_id])] += 1
    totals = Counter(info.values())
    rows = [
        SimpleNamespace(
            procedure=title, path=path, outcome=result, runs=count, share=f"{count / totals[title]:.0%}"
        )
        for (title, path, result), count in counts.items()
    ]
    return sorted(rows, key=lambda row: (-row.runs, row.procedure, row.path))[:limit]


# Events the run writes by itself, in no time: a rule evaluated, an outcome reached, a 子流程 step's return.
AUTOMATIC_ACTIONS = (EventAction.RULE, EventAction.OUTCOME)


def _share(part, whole):
    return f"{part / whole:.0%}" if whole else "—"


def _revision_steps(revision_ids):
    """``{revision_id: {step_key: step}}``: each revision's steps as ``procedure_for_revision`` reads them
    (cached per process, revisions never change: one query per revision the first time, then none)."""
    return {rev: procedure_for_revision(rev).by_key for rev in revision_ids}


def _step_order(steps_by_revision, revisions):
    """``{step_key: position}`` in the newest of ``revisions`` (the order the procedure has now)."""
    newest = max(revisions)
    return {key: index for index, key in enumerate(steps_by_revision[newest])}


def step_times(runs):
    """Time per step against its target: one row per (procedure, step) with the runs through it, the
    median and p90 of each run's time there (all its visits summed: Back and coming again included),
    the target and the share of runs over it.

    A run is compared with the target of its own revision; runs of revisions without one count in the
    times but not in the share. Cost: one query, grouped in the database by run and step (a row per
    step a run went through, not per event), then one pass in Python for the percentiles, plus each
    revision's structure once per process (``_revision_steps``).
    """
    per_run = (
        RunEvent.objects.filter(run__in=counted_runs(runs))
        .exclude(action__in=AUTOMATIC_ACTIONS)
        .exclude(kind=StepKind.SUBPROCEDURE)
        .order_by()
        .values("run_id", "step_key", "run__procedure_id", "run__procedure_title", "run__revision_id")
        .annotate(spent=Sum(F("left_at") - F("entered_at")), title=Max("step_title"))
    )
    groups = defaultdict(list)
    titles, procedures = {}, {}
    for row in per_run:
        key = (row["run__procedure_id"], row["step_key"])
        groups[key].append((row["spent"].total_seconds(), row["run__revision_id"]))
        titles[key] = row["title"]
        procedures.setdefault(row["run__procedure_id"], row["run__procedure_title"])
    revisions = defaultdict(set)
    for (procedure_id, _key), visits in groups.items():
        revisions[procedure_id].update(rev for _seconds, rev in visits)
    steps = _revision_steps({rev for revs in revisions.values() for rev in revs})
    order = {procedure_id: _step_order(steps, revs) for procedure_id, revs in revisions.items()}
    rows = []
    for (procedure_id, step_key), visits in groups.items():
        seconds = [spent for spent, _rev in visits]
        targets = [(spent, steps[rev].get(step_key, {}).get("target_seconds")) for spent, rev in visits]
        targeted = [(spent, target) for spent, target in targets if target]
        over = sum(1 for spent, target in targeted if spent > target)
        newest_target = next(
            (
                steps[rev].get(step_key, {}).get("target_seconds")
                for rev in sorted(revisions[procedure_id], reverse=True)
                if steps[rev].get(step_key, {}).get("target_seconds")
            ),
            None,
        )
        median, p90 = statistics.median(seconds), percentile(seconds, 0.9)
        rows.append(
            SimpleNamespace(
                procedure_id=procedure_id,
                procedure=procedures[procedure_id],
                step_key=step_key,
                step=titles[(procedure_id, step_key)] or step_key,
                runs=len(seconds),
                median_seconds=median,
                p90_seconds=p90,
                median_display=engine.format_duration(median),
                p90_display=engine.format_duration(p90),
                target_seconds=newest_target,
                target_display=engine.format_duration(newest_target) if newest_target else "—",
                over=over,
                with_target=len(targeted),
                over_share=_share(over, len(targeted)),
                position=order[procedure_id].get(step_key, len(order[procedure_id])),
            )
        )
    return sorted(rows, key=lambda row: (row.procedure, row.procedure_id or 0, row.position, row.step))


def must_say_rates(runs):
    """How often each 必说 line was ticked when its step was left: one row per (procedure, agent, line)
    with the times the step was left, the times the line was ticked and the share.

    Only events that kept ticks count (``RunEvent.said`` is ``[]`` or a list when the step had must-say
    lines; Back keeps none). The lines of a step are those of the run's revision (its phrasings' titles as
    they are now: a phrasing snippet renamed since then is counted under its new title). Cost: one query
    over those events, one for the agents' names, each revision's structure once per process.
    """
    events = (
        RunEvent.objects.filter(run__in=counted_runs(runs), said__isnull=False)
        .order_by()
        .values_list(
            "run__procedure_id",
            "run__procedure_title",
            "run__user_id",
            "run__revision_id",
            "step_key",
            "said",
        )
    )
    left, ticked = Counter(), Counter()
    procedures, line_order = {}, {}
    events = list(events)
    steps = _revision_steps({event[3] for event in events})
    positions = {rev: {key: index for index, key in enumerate(by_key)} for rev, by_key in steps.items()}
    for procedure_id, procedure_title, user_id, revision_id, step_key, said in events:
        procedures.setdefault(procedure_id, procedure_title)
        step = steps[revision_id].get(step_key) or {}
        # A step the revision does not know (inside a sub-procedure): its ticked lines are all we know.
        lines = engine.must_say_lines(step) or list(said)
        position = positions[revision_id].get(step_key, len(positions[revision_id]))
        for index, line in enumerate(lines):
            key = (procedure_id, user_id, step_key, line)
            line_order.setdefault(key, (position, index, step.get("title") or step_key))
            left[key] += 1
            if line in said:
                ticked[key] += 1
    names = {
        user.pk: display_name(user) for user in get_user_model().objects.filter(pk__in={k[1] for k in left})
    }
    rows = [
        SimpleNamespace(
            procedure_id=procedure_id,
            procedure=procedures[procedure_id],
            agent=names.get(user_id, ""),
            step=line_order[key][2],
            line=line,
            left=count,
            ticked=ticked[key],
            share=_share(ticked[key], count),
            sort=(procedures[procedure_id], procedure_id or 0, names.get(user_id, ""), *line_order[key][:2]),
        )
        for key, count in left.items()
        for procedure_id, user_id, _step_key, line in [key]
    ]
    return sorted(rows, key=lambda row: row.sort)


__all__ = [
    "ProcedureRun",
    "abandonment_by_step",
    "common_paths",
    "grouped_stats",
    "must_say_rates",
    "outcome_distribution",
    "percentile",
    "run_paths",
    "step_times",
]
