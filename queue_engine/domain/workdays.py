"""Working days by the Chinese holiday calendar (adjusted working weekends, 调休, included).

Deadlines "in working days" skip weekends and statutory holidays and count the weekends that
are worked instead; years the calendar does not cover yet fall back to Monday–Friday.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: date, count: int) -> date:
    """The ``count``-th working day after ``start`` (``start`` itself is not counted)."""
    if count < 0:
        raise ValueError("count cannot be negative")
    day = start
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day
