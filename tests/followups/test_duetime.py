"""Due times from rules, in plain Python, and on the Chinese calendar (holidays and 调休 Saturdays)."""

import datetime
import zoneinfo

import pytest

from followups import duetime

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def weekdays(day):
    return day.weekday() < 5


def test_minutes_hours_and_days():
    start = at(2026, 11, 30, 16, 20)
    assert duetime.due_at(start, 10, "minutes") == at(2026, 11, 30, 16, 30)
    assert duetime.due_at(start, 24, "hours") == at(2026, 12, 1, 16, 20)
    assert duetime.due_at(start, 3, "days") == at(2026, 12, 3, 16, 20)
    assert duetime.due_at(start, 1, "days", before_hour=18) == at(2026, 12, 1, 18, 0)


def test_working_days_skip_the_weekend_and_a_call_on_saturday_counts_from_monday():
    friday = at(2026, 11, 27, 15, 0)
    assert duetime.due_at(friday, 1, "workdays", is_workday=weekdays) == at(2026, 11, 30, 15, 0)
    saturday = at(2026, 11, 28, 10, 0)
    assert duetime.due_at(saturday, 1, "workdays", before_hour=18, is_workday=weekdays) == at(
        2026, 11, 30, 18, 0
    )


def test_rules_that_give_no_due_time_are_errors():
    start = at(2026, 11, 30, 9, 0)
    for amount, unit, hour in [(0, "days", None), (3, "weeks", None), (1, "days", 24), (2, "workdays", None)]:
        with pytest.raises(duetime.DueTimeError):
            duetime.due_at(start, amount, unit, before_hour=hour)
    with pytest.raises(duetime.DueTimeError):
        duetime.due_at(start, 1, "workdays", is_workday=lambda day: False)


@pytest.mark.django_db
def test_the_chinese_calendar_counts_national_day_and_its_make_up_saturday():
    """2026: 10-01 … 10-07 off, Saturday 10-10 a make-up workday (调休)."""
    from followups.calendar import Calendar

    start = at(2026, 9, 30, 17, 0)
    # After 9-30 the working days are 10-08 (Thursday), 10-09, Saturday 10-10 (调休), then Monday 10-12.
    due = [duetime.due_at(start, n, "workdays", is_workday=Calendar(start.date())) for n in (1, 2, 3, 4)]
    assert due == [
        at(2026, 10, 8, 17, 0),
        at(2026, 10, 9, 17, 0),
        at(2026, 10, 10, 17, 0),
        at(2026, 10, 12, 17, 0),
    ]


@pytest.mark.django_db
def test_the_admin_calendar_overrides_and_extends_the_library():
    from followups.calendar import Calendar, is_workday
    from followups.models import WorkCalendarDay

    # 2027 is past the library's data: Monday to Friday, until trainers add the holidays.
    assert is_workday(datetime.date(2027, 1, 1)) is True
    WorkCalendarDay.objects.create(date=datetime.date(2027, 1, 1), is_workday=False, note="元旦")
    WorkCalendarDay.objects.create(date=datetime.date(2026, 12, 26), is_workday=True, note="公司补班")
    assert is_workday(datetime.date(2027, 1, 1)) is False
    start = at(2026, 12, 25, 9, 0)  # Friday
    assert duetime.due_at(start, 1, "workdays", is_workday=Calendar(start.date())) == at(2026, 12, 26, 9, 0)
    start = at(2026, 12, 31, 9, 0)  # Thursday; 1-1 now off
    assert duetime.due_at(start, 1, "workdays", is_workday=Calendar(start.date())) == at(2027, 1, 4, 9, 0)
