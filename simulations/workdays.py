"""The Chinese working-day calendar as the planner sees it: which days the hall opens, and
which of them are not ordinary days.

Like the notice a hall pins by the door before each holiday ("closed 1–7 October, open on
Saturday the 11th"), ``chinese_calendar`` knows the State Council's yearly schedule: the public
holidays, and the weekend days moved to working days (调休补班). Around them citizens come in
waves: the first working days after a long holiday and the first working days of a month
(social insurance, provident fund, tax filing) are busy, an adjusted working weekend is quiet.
The same day classes serve the demo history (as the truth it is generated from) and the forecast
(as the effects it learns).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

LONG_HOLIDAY_DAYS = 3  # a break of at least this many days off makes "the days after" busy
AFTER_DAYS = 2  # the first two working days after a long holiday
MONTH_START_DAYS = 3  # the first three working days of a month


@dataclass(frozen=True)
class DayClass:
    """What kind of day a date is for a hall that opens on working days."""

    day: date
    open: bool
    adjusted: bool  # a weekend day that is a working day (调休补班)
    after_holiday: int  # 1 or 2 on the first working days after a long holiday, else 0
    before_holiday: bool  # the last working day before a long holiday
    month_workday: int  # 1, 2, 3… counting the month's working days; 0 when closed


def is_open(day: date) -> bool:
    """Whether a hall that follows the national calendar opens on ``day``."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # outside the years the library knows: weekdays only
        return day.weekday() < 5


def _off_run_before(day: date) -> int:
    """How many days in a row were off just before ``day``."""
    n, d = 0, day - timedelta(days=1)
    while not is_open(d) and n < 30:
        n, d = n + 1, d - timedelta(days=1)
    return n


def _off_run_after(day: date) -> int:
    n, d = 0, day + timedelta(days=1)
    while not is_open(d) and n < 30:
        n, d = n + 1, d + timedelta(days=1)
    return n


def classify(day: date) -> DayClass:
    """The class of one date (holidays and adjusted days from ``chinese_calendar``)."""
    opened = is_open(day)
    if not opened:
        return DayClass(day, False, False, 0, False, 0)
    after = 0
    d, seen = day, 0
    while seen < AFTER_DAYS:
        if _off_run_before(d) >= LONG_HOLIDAY_DAYS:
            after = seen + 1
            break
        d -= timedelta(days=1)
        while not is_open(d):
            d -= timedelta(days=1)
        seen += 1
    month_workday = sum(is_open(day.replace(day=k)) for k in range(1, day.day + 1))
    return DayClass(
        day,
        True,
        day.weekday() >= 5,
        after,
        _off_run_after(day) >= LONG_HOLIDAY_DAYS,
        month_workday,
    )


def days_between(first: date, last: date) -> list[DayClass]:
    """Every date from ``first`` to ``last`` inclusive, classified."""
    return [classify(first + timedelta(days=k)) for k in range((last - first).days + 1)]
