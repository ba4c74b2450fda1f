"""Figures for the supervisors' reports, computed from runs (practice runs never count).

Durations are those of completed runs; the median is the usual one and p90 is nearest-rank
(the smallest duration that at least 90% of runs do not exceed).
"""

import math
import statistics
from collections import Counter, defaultdict
from types import SimpleNamespace

from . import engine
from .choices import ENDING_ACTIONS, EventAction, RunStatus
from .models import ProcedureRun, RunEvent


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
    """``[(outcome, count, share), ...]`` over completed runs."""
    counts = Counter(counted_runs(runs).filter(status=RunStatus.COMPLETED).values_list("outcome", flat=True))
    total = sum(counts.values())
    return [(name, count, count / total) for name, count in counts.most_common()]


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


__all__ = [
    "ProcedureRun",
    "abandonment_by_step",
    "common_paths",
    "grouped_stats",
    "outcome_distribution",
    "percentile",
    "run_paths",
]
