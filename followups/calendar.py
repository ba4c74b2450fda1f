"""Working days in China: public holidays and 调休 make-up workdays from the chinese-calendar library for
the years it covers, overridden (and extended to later years) by the 工作日历 trainers keep in the admin.
A year neither covers falls back to Monday–Friday."""

import datetime

import chinese_calendar

from .models import WorkCalendarDay

__all__ = ["is_workday", "overrides"]


def overrides(start, end):
    """``{date: is_workday}`` the admin calendar sets between two dates."""
    return dict(WorkCalendarDay.objects.filter(date__range=(start, end)).values_list("date", "is_workday"))


class Calendar:
    """``is_workday`` for one computation: the overrides of the next year read once."""

    def __init__(self, start=None, days=400):
        start = start or datetime.date.today()
        self.known = overrides(start - datetime.timedelta(days=1), start + datetime.timedelta(days=days))
        self.start, self.days = start, days

    def __call__(self, day):
        if day in self.known:
            return self.known[day]
        if (
            not self.start - datetime.timedelta(days=1)
            <= day
            <= self.start + datetime.timedelta(days=self.days)
        ):
            found = WorkCalendarDay.objects.filter(date=day).values_list("is_workday", flat=True).first()
            if found is not None:
                return found
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:  # a year the library has no data for yet
            return day.weekday() < 5


def is_workday(day):
    return Calendar(day, days=0)(day)
