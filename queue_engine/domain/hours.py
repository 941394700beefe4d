"""Opening hours and business dates, in the hall's own time zone.

A hall is like a shop with a sign on the door: hours per weekday (with a lunch break as a
gap between two periods), closed on China's statutory holidays and open on the adjusted
working weekends (调休) with its ordinary weekday hours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import chinese_calendar

Period = tuple[time, time]

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_period(text: str) -> Period:
    """``"09:00-12:00"`` → ``(time(9), time(12))``; ``24:00`` means the end of the day."""
    try:
        start_text, end_text = (part.strip() for part in text.split("-"))
        start = time.fromisoformat(start_text)
        end = time.max if end_text == "24:00" else time.fromisoformat(end_text)
    except ValueError as exc:
        raise ValueError(f"not an opening period like 09:00-12:00: {text!r}") from exc
    if end <= start:
        raise ValueError(f"opening period ends before it starts: {text!r}")
    return start, end


def format_period(period: Period) -> str:
    start, end = period
    end_text = "24:00" if end == time.max else end.strftime("%H:%M")
    return f"{start.strftime('%H:%M')}-{end_text}"


@dataclass(frozen=True)
class OpeningHours:
    """Opening periods per weekday (0 = Monday) plus the calendar rules around them."""

    weekly: Mapping[int, Sequence[Period]]
    follow_holidays: bool = True
    always_open: bool = False
    closed_dates: frozenset[date] = field(default_factory=frozenset)
    open_dates: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def round_the_clock(cls) -> OpeningHours:
        day = ((time(0, 0), time.max),)
        return cls(weekly={d: day for d in range(7)}, follow_holidays=False, always_open=True)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> OpeningHours:
        """Build from the stored form ``{"weekly": {"mon": ["09:00-12:00"]}, ...}``."""
        weekly_raw = data.get("weekly", {})
        assert isinstance(weekly_raw, Mapping)
        weekly = {
            WEEKDAY_NAMES.index(name): tuple(parse_period(p) for p in periods)
            for name, periods in weekly_raw.items()
        }
        return cls(
            weekly=weekly,
            follow_holidays=bool(data.get("follow_holidays", True)),
            always_open=bool(data.get("always_open", False)),
            closed_dates=frozenset(date.fromisoformat(str(d)) for d in _seq(data, "closed_dates")),
            open_dates=frozenset(date.fromisoformat(str(d)) for d in _seq(data, "open_dates")),
        )

    def to_mapping(self) -> dict[str, object]:
        return {
            "weekly": {
                WEEKDAY_NAMES[d]: [format_period(p) for p in periods]
                for d, periods in sorted(self.weekly.items())
            },
            "follow_holidays": self.follow_holidays,
            "always_open": self.always_open,
            "closed_dates": sorted(d.isoformat() for d in self.closed_dates),
            "open_dates": sorted(d.isoformat() for d in self.open_dates),
        }

    def periods_on(self, day: date) -> Sequence[Period]:
        """The opening periods of one local date (empty when the hall is shut that day)."""
        if self.always_open:
            return ((time(0, 0), time.max),)
        if day in self.closed_dates:
            return ()
        if day in self.open_dates:
            return self.weekly.get(day.weekday()) or self._workday_periods()
        if self.follow_holidays:
            kind = _official_kind(day)
            if kind == "holiday":
                return ()
            if kind == "workday" and day.weekday() >= 5:
                return self._workday_periods()  # 调休: an adjusted working weekend
        return self.weekly.get(day.weekday(), ())

    def _workday_periods(self) -> Sequence[Period]:
        """Ordinary weekday hours (the first of Monday–Friday that has any)."""
        for weekday in range(5):
            if self.weekly.get(weekday):
                return self.weekly[weekday]
        return ()

    def is_open(self, local: datetime) -> bool:
        moment = local.time()
        return any(
            start <= moment < end or (end == time.max and moment >= start)
            for start, end in self.periods_on(local.date())
        )


def _seq(data: Mapping[str, object], key: str) -> Sequence[object]:
    value = data.get(key, ())
    assert isinstance(value, Sequence)
    return value


def _official_kind(day: date) -> str | None:
    """ "workday", "holiday" (statutory, weekends inside a holiday included) or "weekend";
    None for years the Chinese calendar does not cover yet."""
    try:
        if chinese_calendar.is_workday(day):
            return "workday"
        _, holiday_name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return "holiday" if holiday_name is not None else "weekend"


def local_time(moment: datetime, zone: ZoneInfo) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not allowed; attach a time zone")
    return moment.astimezone(zone)


def business_date(moment: datetime, zone: ZoneInfo) -> date:
    """The hall's local calendar date of an instant: the day numbering restarts on."""
    return local_time(moment, zone).date()
