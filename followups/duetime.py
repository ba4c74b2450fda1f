"""When a follow-up is due, in plain Python (no Django): a rule's amount and unit from a start time,
working days counted on a calendar given as a function.

    due_at(start, 3, "workdays", before_hour=18, is_workday=calendar.is_workday)

- minutes / hours: the start plus that long;
- days: that many calendar days later, at the start's time of day, or at ``before_hour``:00;
- workdays: the Nth working day after the start's day (a call on Saturday counts from Monday), at the
  start's time, or at ``before_hour``:00. ``is_workday(date)`` decides, 调休 make-up days included.
"""

import datetime

__all__ = ["DueTimeError", "due_at"]

MAX_DAYS_SEARCHED = 3660  # ten years: a calendar with no working day at all is an error, not a hang


class DueTimeError(ValueError):
    """A rule that cannot give a due time (an unknown unit, a non-positive amount, an hour out of range)."""


def due_at(start, amount, unit, *, before_hour=None, is_workday=None):
    if not isinstance(amount, int) or amount < 1:
        raise DueTimeError(f"amount must be a positive whole number, not {amount!r}")
    if before_hour is not None and not (0 < before_hour < 24):
        raise DueTimeError(f"before_hour must be between 1 and 23, not {before_hour!r}")
    if unit == "minutes":
        return start + datetime.timedelta(minutes=amount)
    if unit == "hours":
        return start + datetime.timedelta(hours=amount)
    if unit == "days":
        day = start.date() + datetime.timedelta(days=amount)
    elif unit == "workdays":
        if is_workday is None:
            raise DueTimeError("working days need a calendar (is_workday)")
        day = start.date()
        counted = 0
        for _ in range(MAX_DAYS_SEARCHED):
            day += datetime.timedelta(days=1)
            if is_workday(day):
                counted += 1
                if counted == amount:
                    break
        else:
            raise DueTimeError("no working day found in the calendar")
    else:
        raise DueTimeError(f"unknown unit {unit!r}")
    if before_hour is not None:
        return start.replace(
            year=day.year, month=day.month, day=day.day, hour=before_hour, minute=0, second=0, microsecond=0
        )
    return start.replace(year=day.year, month=day.month, day=day.day)
