"""Opening hours, statutory holidays, adjusted working weekends and business dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_engine.domain.hours import (
    WEEKDAY_NAMES,
    OpeningHours,
    business_date,
    format_period,
    local_time,
    parse_period,
)
from queue_engine.domain.model import HallConfig

SHANGHAI = ZoneInfo("Asia/Shanghai")

WEEKDAY = (parse_period("09:00-12:00"), parse_period("13:00-17:00"))
SAT_MORNING = (parse_period("09:00-12:00"),)


def weekday_hall(**kwargs: object) -> OpeningHours:
    """Monday–Friday 09:00–12:00 and 13:00–17:00 (lunch break 12:00–13:00), no weekend."""
    return OpeningHours(weekly={d: WEEKDAY for d in range(5)}, **kwargs)  # type: ignore[arg-type]


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), tzinfo=SHANGHAI)


def _official(day: date, workday: bool) -> date:
    """Guard the calendar data the test relies on instead of guessing it."""
    assert chinese_calendar.is_workday(day) is workday, day
    return day


# 2026 calendar facts, checked against chinese_calendar when the module is imported.
NATIONAL_DAY = _official(date(2026, 10, 1), workday=False)  # a Thursday
NATIONAL_DAY_SATURDAY = _official(date(2026, 10, 3), workday=False)
SPRING_FESTIVAL = _official(date(2026, 2, 17), workday=False)  # a Tuesday
ORDINARY_SATURDAY = _official(date(2026, 10, 17), workday=False)
ORDINARY_WEDNESDAY = _official(date(2026, 10, 14), workday=True)
ORDINARY_SUNDAY = _official(date(2026, 10, 18), workday=False)

# Weekend days that are official working days (调休) in 2026, picked by the calendar itself.
ADJUSTED_WORKING_WEEKENDS = [
    d
    for d in (date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10))
    if d.weekday() >= 5 and chinese_calendar.is_workday(d)
]


def test_calendar_facts() -> None:
    assert NATIONAL_DAY.weekday() == 3
    assert SPRING_FESTIVAL.weekday() == 1
    assert NATIONAL_DAY_SATURDAY.weekday() == 5
    assert ORDINARY_SATURDAY.weekday() == 5
    assert chinese_calendar.get_holiday_detail(ORDINARY_SATURDAY) == (True, None)
    assert date(2026, 2, 14) in ADJUSTED_WORKING_WEEKENDS  # a Saturday, 2026's first 调休 day


# --- parse_period / format_period -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-12:00", (time(9), time(12))),
        ("13:30-17:00", (time(13, 30), time(17))),
        (" 08:00 - 09:15 ", (time(8), time(9, 15))),
        ("00:00-24:00", (time(0), time.max)),
        ("18:00-24:00", (time(18), time.max)),
    ],
)
def test_parse_period(text: str, expected: tuple[time, time]) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "12:00-09:00",
        "09:00-09:00",
        "09:00",
        "",
        "09:00-12:00-13:00",
        "9am-5pm",
        "24:00-24:00",
        "09:00-25:00",
        "09:60-10:00",
    ],
)
def test_parse_period_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"09:00-12:00|ends before it starts"):
        parse_period(text)


def test_parse_period_error_messages() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        parse_period("12:00-09:00")
    with pytest.raises(ValueError, match="not an opening period"):
        parse_period("noon-late")


def test_format_period_end_of_day() -> None:
    assert format_period((time(8), time.max)) == "08:00-24:00"
    assert format_period((time(9), time(12))) == "09:00-12:00"


@given(
    st.integers(min_value=0, max_value=24 * 60 - 1).flatmap(
        lambda start: st.tuples(st.just(start), st.integers(start + 1, 24 * 60))
    )
)
def test_period_round_trip(minutes: tuple[int, int]) -> None:
    start, end = minutes
    text = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    period = parse_period(text)
    assert period[0] < period[1]
    assert format_period(period) == text
    assert parse_period(format_period(period)) == period


# --- from_mapping / to_mapping -------------------------------------------------------------


def test_mapping_round_trip() -> None:
    data = {
        "weekly": {
            "mon": ["09:00-12:00", "13:00-17:00"],
            "wed": ["09:00-17:00"],
            "sat": ["09:00-12:00"],
            "sun": ["20:00-24:00"],
        },
        "follow_holidays": False,
        "always_open": False,
        "closed_dates": ["2026-05-06", "2026-12-24"],
        "open_dates": ["2026-10-03"],
    }
    hours = OpeningHours.from_mapping(data)
    assert hours.weekly[0] == WEEKDAY
    assert hours.weekly[6] == ((time(20), time.max),)
    assert hours.closed_dates == {date(2026, 5, 6), date(2026, 12, 24)}
    assert hours.open_dates == {date(2026, 10, 3)}
    assert hours.follow_holidays is False
    assert hours.to_mapping() == data
    assert OpeningHours.from_mapping(hours.to_mapping()) == hours


def test_mapping_defaults() -> None:
    hours = OpeningHours.from_mapping({"weekly": {"tue": ["10:00-11:00"]}})
    assert hours == OpeningHours(weekly={1: ((time(10), time(11)),)})
    assert hours.follow_holidays is True
    assert hours.always_open is False
    assert hours.closed_dates == frozenset()
    assert hours.open_dates == frozenset()


def test_round_the_clock_mapping_round_trip() -> None:
    hours = OpeningHours.round_the_clock()
    assert OpeningHours.from_mapping(hours.to_mapping()) == hours


def test_mapping_rejects_unknown_weekday_and_bad_period() -> None:
    with pytest.raises(ValueError):
        OpeningHours.from_mapping({"weekly": {"monday": ["09:00-12:00"]}})
    with pytest.raises(ValueError):
        OpeningHours.from_mapping({"weekly": {"mon": ["12:00-09:00"]}})


_period_lists = st.lists(
    st.integers(0, 24 * 60 - 1).flatmap(lambda s: st.tuples(st.just(s), st.integers(s + 1, 1440))),
    max_size=3,
).map(lambda ps: [f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in ps])
_dates = st.lists(st.dates(date(2020, 1, 1), date(2030, 12, 31)), max_size=4, unique=True).map(
    lambda ds: sorted(d.isoformat() for d in ds)
)


@given(
    weekly=st.dictionaries(st.sampled_from(WEEKDAY_NAMES), _period_lists),
    follow_holidays=st.booleans(),
    always_open=st.booleans(),
    closed=_dates,
    opened=_dates,
)
def test_mapping_round_trip_property(
    weekly: dict[str, list[str]],
    follow_holidays: bool,
    always_open: bool,
    closed: list[str],
    opened: list[str],
) -> None:
    data = {
        "weekly": weekly,
        "follow_holidays": follow_holidays,
        "always_open": always_open,
        "closed_dates": closed,
        "open_dates": opened,
    }
    hours = OpeningHours.from_mapping(data)
    assert hours.to_mapping() == data
    assert OpeningHours.from_mapping(hours.to_mapping()) == hours


# --- is_open ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hh", "mm", "ss", "expected"),
    [
        (8, 59, 59, False),
        (9, 0, 0, True),
        (11, 59, 59, True),
        (12, 0, 0, False),  # lunch break starts
        (12, 30, 0, False),
        (13, 0, 0, True),  # lunch break over
        (16, 59, 59, True),
        (17, 0, 0, False),
        (23, 0, 0, False),
        (0, 0, 0, False),
    ],
)
def test_is_open_boundaries(hh: int, mm: int, ss: int, expected: bool) -> None:
    assert weekday_hall().is_open(at(ORDINARY_WEDNESDAY, hh, mm, ss)) is expected


def test_is_open_last_microsecond_before_closing() -> None:
    moment = at(ORDINARY_WEDNESDAY, 17) - timedelta(microseconds=1)
    assert weekday_hall().is_open(moment)


@pytest.mark.parametrize("day", [NATIONAL_DAY, SPRING_FESTIVAL], ids=["national-day", "spring"])
def test_statutory_holiday_on_a_weekday_is_closed(day: date) -> None:
    hall = weekday_hall()
    assert list(hall.periods_on(day)) == []
    for hh in (9, 10, 13, 16):
        assert not hall.is_open(at(day, hh))


def test_statutory_holiday_on_a_weekend_is_closed_even_with_saturday_hours() -> None:
    """2026-10-03 is a Saturday inside the National Day holiday: a hall that opens on
    ordinary Saturday mornings is closed then, like on every other statutory holiday."""
    hall = OpeningHours(weekly={**{d: WEEKDAY for d in range(5)}, 5: SAT_MORNING})
    assert hall.is_open(at(ORDINARY_SATURDAY, 10))
    assert chinese_calendar.get_holiday_detail(NATIONAL_DAY_SATURDAY) == (True, "National Day")
    assert not hall.is_open(at(NATIONAL_DAY_SATURDAY, 10))


@pytest.mark.parametrize("day", ADJUSTED_WORKING_WEEKENDS, ids=str)
def test_adjusted_working_weekend_opens_with_weekday_hours(day: date) -> None:
    hall = weekday_hall()
    assert tuple(hall.periods_on(day)) == WEEKDAY
    assert hall.is_open(at(day, 9))
    assert not hall.is_open(at(day, 12))
    assert hall.is_open(at(day, 13))
    assert not hall.is_open(at(day, 17))


def test_ordinary_weekend_closed_without_weekend_hours() -> None:
    hall = weekday_hall()
    for day in (ORDINARY_SATURDAY, ORDINARY_SUNDAY):
        assert list(hall.periods_on(day)) == []
        assert not hall.is_open(at(day, 10))


def test_ordinary_saturday_uses_saturday_hours() -> None:
    hall = OpeningHours(weekly={**{d: WEEKDAY for d in range(5)}, 5: SAT_MORNING})
    assert hall.is_open(at(ORDINARY_SATURDAY, 9))
    assert not hall.is_open(at(ORDINARY_SATURDAY, 12))
    assert not hall.is_open(at(ORDINARY_SATURDAY, 14))
    assert not hall.is_open(at(ORDINARY_SUNDAY, 10))


def test_closed_dates_override() -> None:
    hall = weekday_hall(closed_dates=frozenset({ORDINARY_WEDNESDAY, date(2026, 2, 14)}))
    assert not hall.is_open(at(ORDINARY_WEDNESDAY, 10))
    assert not hall.is_open(at(date(2026, 2, 14), 10))  # beats an adjusted working Saturday
    assert hall.is_open(at(ORDINARY_WEDNESDAY + timedelta(days=1), 10))


def test_open_dates_override() -> None:
    hall = weekday_hall(open_dates=frozenset({NATIONAL_DAY, ORDINARY_SUNDAY}))
    # a statutory holiday opened on purpose keeps that weekday's hours
    assert tuple(hall.periods_on(NATIONAL_DAY)) == WEEKDAY
    assert hall.is_open(at(NATIONAL_DAY, 9))
    assert not hall.is_open(at(NATIONAL_DAY, 12))
    # a weekend without hours of its own borrows the weekday hours
    assert tuple(hall.periods_on(ORDINARY_SUNDAY)) == WEEKDAY
    assert hall.is_open(at(ORDINARY_SUNDAY, 14))
    # other holidays stay closed
    assert not hall.is_open(at(SPRING_FESTIVAL, 10))


def test_follow_holidays_false_ignores_the_calendar() -> None:
    hall = weekday_hall(follow_holidays=False)
    assert hall.is_open(at(NATIONAL_DAY, 10))
    assert hall.is_open(at(SPRING_FESTIVAL, 10))
    for day in ADJUSTED_WORKING_WEEKENDS:
        assert not hall.is_open(at(day, 10))


def test_year_outside_the_calendar_uses_weekly_hours() -> None:
    hall = weekday_hall()
    monday = date(2199, 1, 7)
    assert monday.weekday() == 0
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(monday)
    assert hall.is_open(at(monday, 10))
    assert not hall.is_open(at(monday + timedelta(days=5), 10))


@pytest.mark.parametrize(
    "moment",
    [
        at(ORDINARY_WEDNESDAY, 0),
        at(ORDINARY_WEDNESDAY, 12, 30),
        at(ORDINARY_WEDNESDAY, 23, 59, 59),
        datetime.combine(ORDINARY_WEDNESDAY, time.max, tzinfo=SHANGHAI),
        at(ORDINARY_SUNDAY, 3),
        at(NATIONAL_DAY, 3),
        at(NATIONAL_DAY, 23, 59, 59),
        at(SPRING_FESTIVAL, 12),
    ],
    ids=str,
)
def test_round_the_clock_always_open(moment: datetime) -> None:
    assert OpeningHours.round_the_clock().is_open(moment)


@given(st.datetimes(datetime(2024, 1, 1), datetime(2027, 12, 31)))
def test_round_the_clock_property(moment: datetime) -> None:
    assert OpeningHours.round_the_clock().is_open(moment.replace(tzinfo=SHANGHAI))


def test_end_of_day_period_includes_last_instant() -> None:
    hall = OpeningHours(weekly={2: (parse_period("18:00-24:00"),)}, follow_holidays=False)
    assert not hall.is_open(at(ORDINARY_WEDNESDAY, 17, 59, 59))
    assert hall.is_open(at(ORDINARY_WEDNESDAY, 18))
    assert hall.is_open(at(ORDINARY_WEDNESDAY, 23, 59, 59))
    assert hall.is_open(datetime.combine(ORDINARY_WEDNESDAY, time.max, tzinfo=SHANGHAI))


# --- business_date / local_time ------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2026, 11, 25, 15, 59, 59, tzinfo=UTC), date(2026, 11, 25)),
        (datetime(2026, 11, 25, 16, 0, tzinfo=UTC), date(2026, 11, 26)),
        (datetime(2026, 11, 25, 16, 30, tzinfo=UTC), date(2026, 11, 26)),
        (datetime(2026, 11, 26, 15, 59, 59, tzinfo=UTC), date(2026, 11, 26)),
        (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), date(2027, 1, 1)),
        (datetime(2026, 11, 25, 23, 30, tzinfo=timezone(timedelta(hours=-5))), date(2026, 11, 26)),
        (datetime(2026, 11, 26, 0, 30, tzinfo=SHANGHAI), date(2026, 11, 26)),
    ],
    ids=str,
)
def test_business_date_in_shanghai(instant: datetime, expected: date) -> None:
    assert business_date(instant, SHANGHAI) == expected


def test_local_time_converts_instants() -> None:
    local = local_time(datetime(2026, 11, 25, 16, 30, tzinfo=UTC), SHANGHAI)
    assert local.tzinfo is SHANGHAI
    assert (local.date(), local.time()) == (date(2026, 11, 26), time(0, 30))


def test_local_time_rejects_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_time(datetime(2026, 11, 25, 16, 30), SHANGHAI)
    with pytest.raises(ValueError, match="naive"):
        business_date(datetime(2026, 11, 25, 16, 30), SHANGHAI)


@given(st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)))
def test_business_date_is_utc_plus_eight(moment: datetime) -> None:
    instant = moment.replace(tzinfo=UTC)
    assert business_date(instant, SHANGHAI) == (moment + timedelta(hours=8)).date()


# --- HallConfig ------------------------------------------------------------------------------


def make_hall(hours: OpeningHours | None = None) -> HallConfig:
    return HallConfig(
        code="H1",
        name_zh="政务服务大厅",
        name_en="Service hall",
        timezone="Asia/Shanghai",
        hours=hours or weekday_hall(),
        services=(),
        windows=(),
    )


def test_hall_business_date_and_is_open_use_the_hall_zone() -> None:
    hall = make_hall()
    assert hall.business_date(datetime(2026, 11, 25, 16, 30, tzinfo=UTC)) == date(2026, 11, 26)
    # 01:00 UTC is 09:00 in Shanghai on a Wednesday; 04:00 UTC is the lunch break
    assert hall.is_open(datetime(2026, 10, 14, 1, 0, tzinfo=UTC))
    assert not hall.is_open(datetime(2026, 10, 14, 0, 59, 59, tzinfo=UTC))
    assert not hall.is_open(datetime(2026, 10, 14, 4, 0, tzinfo=UTC))
    assert hall.is_open(datetime(2026, 10, 14, 5, 0, tzinfo=UTC))
    assert not hall.is_open(datetime(2026, 10, 14, 9, 0, tzinfo=UTC))
    # 2026-10-01 02:00 UTC is 10:00 on National Day
    assert not hall.is_open(datetime(2026, 10, 1, 2, 0, tzinfo=UTC))


def test_hall_business_date_rejects_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        make_hall().business_date(datetime(2026, 10, 14, 10, 0))


def test_hall_is_open_rejects_naive() -> None:
    """Like business_date, is_open must not read a naive datetime in the server's zone."""
    with pytest.raises(ValueError, match="naive"):
        make_hall().is_open(datetime(2026, 10, 14, 10, 0))
