"""The published 好差评 figures: one definition, used by the public page, the monthly report
and the upstream export's summary.

Like a school's report card, where every mark is worked out by one rule written on its back:
the ratings, 好评率, 差评 count and rate, 主动评价率, 回访率 and on time, 差评整改率 and on time,
by window, service and department, month by month. A review excluded by an upheld appeal counts
nowhere — neither as a rating nor as a case. ``docs/evaluations.md`` states each definition.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from queue_engine.domain.errors import InvalidInput

_MONTH = re.compile(r"((?:19[7-9]|20\d|21\d)\d)-(0[1-9]|1[0-2])")  # 1970-01 … 2199-12


def parse_day(value: str) -> date:
    """A business date ``YYYY-MM-DD`` of the years figures are kept for (1970–2199), or a 422."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        raise InvalidInput(f"a date is written YYYY-MM-DD, not {value!r}") from None
    if not 1970 <= day.year <= 2199:
        raise InvalidInput("a date between 1970 and 2199")
    return day


def month_days(month: str) -> tuple[date, date]:
    """The first and last day of a month written ``YYYY-MM`` (a 422 for anything else)."""
    found = _MONTH.fullmatch(month or "")
    if found is None:
        raise InvalidInput(f"a month is written YYYY-MM, not {month!r}")
    first = date(int(found[1]), int(found[2]), 1)
    following = (first + timedelta(days=31)).replace(day=1)
    return first, following - timedelta(days=1)


def months_back(month: str, count: int) -> list[str]:
    """``count`` months ending with ``month``, oldest first."""
    first, _ = month_days(month)
    out = []
    for _ in range(count):
        out.append(first.strftime("%Y-%m"))
        first = (first - timedelta(days=1)).replace(day=1)
    return out[::-1]


class Dimension(StrEnum):
    HALL = "hall"
    WINDOW = "window"
    SERVICE = "service"
    DEPARTMENT = "department"


@dataclass(frozen=True)
class Where:
    """Where a fact belongs: its month (``YYYY-MM``, the hall's local time) and its places."""

    month: str
    window: str | None
    service: str
    department: str

    def key(self, by: Dimension) -> str:
        if by is Dimension.HALL:
            return ""
        return {
            "window": self.window or "—",
            "service": self.service,
            "department": self.department,
        }[by]


@dataclass(frozen=True)
class RatingFact:
    where: Where
    score: int
    excluded: bool = False


@dataclass(frozen=True)
class FinishedFact:
    """Services finished (rateable visits): the denominator of 主动评价率."""

    where: Where
    count: int = 1


@dataclass(frozen=True)
class CaseFact:
    where: Where
    called_back: bool
    callback_on_time: bool
    resolved: bool  # rectified, or closed with an explanation
    resolved_on_time: bool
    excluded: bool = False


@dataclass(frozen=True)
class Figures:
    ratings: int
    good: int
    bad: int
    finished: int
    cases: int
    called_back: int
    called_back_on_time: int
    resolved: int
    resolved_on_time: int

    @property
    def good_rate(self) -> float | None:  # 好评率
        return _share(self.good, self.ratings)

    @property
    def bad_rate(self) -> float | None:  # 差评率
        return _share(self.bad, self.ratings)

    @property
    def active_rate(self) -> float | None:  # 主动评价率
        return _share(self.ratings, self.finished)

    @property
    def callback_rate(self) -> float | None:  # 回访率
        return _share(self.called_back, self.cases)

    @property
    def callback_on_time_rate(self) -> float | None:  # 回访及时率
        return _share(self.called_back_on_time, self.cases)

    @property
    def rectify_rate(self) -> float | None:  # 差评整改率
        return _share(self.resolved, self.cases)

    @property
    def rectify_on_time_rate(self) -> float | None:  # 整改及时率
        return _share(self.resolved_on_time, self.cases)

    def to_mapping(self) -> dict[str, int | float | None]:
        return {
            "ratings": self.ratings,
            "good": self.good,
            "good_rate": self.good_rate,
            "bad": self.bad,
            "bad_rate": self.bad_rate,
            "finished": self.finished,
            "active_rate": self.active_rate,
            "cases": self.cases,
            "callback_rate": self.callback_rate,
            "callback_on_time_rate": self.callback_on_time_rate,
            "rectify_rate": self.rectify_rate,
            "rectify_on_time_rate": self.rectify_on_time_rate,
        }


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def is_good(score: int) -> bool:
    """好评: 基本满意 and better (3–5), as the national scheme counts it."""
    return score >= 3


def figures(
    ratings: Iterable[RatingFact],
    finished: Iterable[FinishedFact],
    cases: Iterable[CaseFact],
    by: Dimension = Dimension.HALL,
    month: bool = False,
) -> dict[tuple[str, str], Figures]:
    """The figures per (month or "", key of ``by``), excluded reviews left out everywhere."""

    def group(where: Where) -> tuple[str, str]:
        return (where.month if month else "", where.key(by))

    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 9)
    for r in ratings:
        if r.excluded:
            continue
        c = counts[group(r.where)]
        c[0] += 1
        c[1] += is_good(r.score)
        c[2] += not is_good(r.score)
    for f in finished:
        counts[group(f.where)][3] += f.count
    for case in cases:
        if case.excluded:
            continue
        c = counts[group(case.where)]
        c[4] += 1
        c[5] += case.called_back
        c[6] += case.called_back and case.callback_on_time
        c[7] += case.resolved
        c[8] += case.resolved and case.resolved_on_time
    return {key: Figures(*values) for key, values in sorted(counts.items(), key=_natural)}


def _natural(item: tuple[tuple[str, str], list[int]]) -> tuple[str, int, str]:
    """Months in order, then window 4 before window 10 (numbers as numbers)."""
    (month, key), _ = item
    return (month, int(key) if key.isdigit() else 10**9, key)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
