"""Pure appointment and follow-up rules with fixed moments: slots, windows, cut-off, bans."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from queue_engine.domain.appointments import (
    AppointmentSettings,
    CheckInTiming,
    banned_until,
    bookable_days,
    can_cancel,
    check_bookable,
    check_in_timing,
    day_slots,
    new_code,
    plausible_code,
)
from queue_engine.domain.errors import InvalidInput, InvalidTransition
from queue_engine.domain.evaluations import (
    CaseAction,
    CaseStatus,
    choose_supervisor,
    follow_up_deadline,
    is_overdue,
    next_status,
)
from queue_engine.domain.hours import OpeningHours
from queue_engine.domain.workdays import add_working_days
from queue_engine.seed import WEEKDAY_HOURS

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = OpeningHours(weekly={d: WEEKDAY_HOURS for d in range(5)})
RULES = AppointmentSettings()
SLOTS = RULES.slots_of("SOCIAL")


def at(day: str, hhmm: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(hhmm), SHANGHAI)


def test_slots_fill_the_opening_periods_and_skip_the_lunch_break() -> None:
    slots = day_slots(WEEKDAYS, SHANGHAI, date(2026, 11, 26), RULES.slots_of("SOCIAL"))
    starts = [s.start.strftime("%H:%M") for s in slots]
    assert starts[:2] == ["09:00", "09:30"] and starts[-1] == "16:30"
    assert "11:30" in starts and "12:00" not in starts and "12:30" not in starts
    assert "13:00" in starts
    assert len(slots) == 6 + 8 and all(s.capacity == 5 for s in slots)


def test_slot_length_and_capacity_are_per_service() -> None:
    rules = RULES.with_service("ENT", minutes=45, capacity=2)
    slots = day_slots(WEEKDAYS, SHANGHAI, date(2026, 11, 26), rules.slots_of("ENT"))
    starts = [s.start.strftime("%H:%M") for s in slots]
    assert starts == [
        "09:00",
        "09:45",
        "10:30",
        "11:15",
        "13:00",
        "13:45",
        "14:30",
        "15:15",
        "16:00",
    ]
    assert {s.capacity for s in slots} == {2}


def test_a_round_the_clock_hall_has_slots_from_midnight_to_midnight() -> None:
    slots = day_slots(OpeningHours.round_the_clock(), SHANGHAI, date(2026, 2, 17), SLOTS)
    assert len(slots) == 48
    assert slots[0].start == at("2026-02-17", "00:00")
    assert slots[-1].end == at("2026-02-18", "00:00")


def test_no_slots_on_weekends_and_holidays() -> None:
    assert day_slots(WEEKDAYS, SHANGHAI, date(2026, 11, 28), SLOTS) == []  # Saturday
    assert day_slots(WEEKDAYS, SHANGHAI, date(2026, 2, 17), SLOTS) == []  # Spring Festival


def test_the_calendar_facts_these_tests_rely_on() -> None:
    assert chinese_calendar.is_workday(date(2026, 2, 14))  # Saturday, worked
    assert not chinese_calendar.is_workday(date(2026, 2, 15))
    assert not chinese_calendar.is_workday(date(2026, 2, 23))
    assert chinese_calendar.is_workday(date(2026, 2, 28))  # Saturday, worked
    assert date(2025, 9, 28).weekday() == 6 and chinese_calendar.is_workday(date(2025, 9, 28))


def test_the_booking_window_skips_the_spring_festival_and_counts_the_worked_saturday() -> None:
    days = bookable_days(WEEKDAYS, date(2026, 2, 12), 5)
    assert days == [
        date(2026, 2, 12),
        date(2026, 2, 13),
        date(2026, 2, 14),  # adjusted working Saturday
        date(2026, 2, 24),  # back after the holiday (Feb 15–23)
        date(2026, 2, 25),
        date(2026, 2, 26),
    ]
    slots = day_slots(WEEKDAYS, SHANGHAI, date(2026, 2, 14), SLOTS)
    assert slots and slots[0].start == at("2026-02-14", "09:00")


def test_an_adjusted_working_sunday_is_bookable_and_a_plain_sunday_is_not() -> None:
    days = bookable_days(WEEKDAYS, date(2025, 9, 26), 2)
    assert days == [date(2025, 9, 26), date(2025, 9, 28), date(2025, 9, 29)]
    assert date(2025, 9, 27) not in days


def test_a_hall_open_on_saturdays_takes_bookings_then_but_not_on_holidays() -> None:
    six_days = OpeningHours(weekly={d: WEEKDAY_HOURS for d in range(6)})
    assert date(2026, 11, 28) in bookable_days(six_days, date(2026, 11, 27), 1)
    assert date(2026, 2, 21) not in bookable_days(six_days, date(2026, 2, 13), 10)


def test_booking_needs_a_slot_inside_the_window_that_has_not_started() -> None:
    now = at("2026-11-26", "10:10")
    today = date(2026, 11, 26)
    slots = day_slots(WEEKDAYS, SHANGHAI, today, SLOTS)
    started = next(s for s in slots if s.start == at("2026-11-26", "10:00"))
    upcoming = next(s for s in slots if s.start == at("2026-11-26", "10:30"))
    check_bookable(WEEKDAYS, RULES, upcoming, now, today)
    with pytest.raises(InvalidInput, match="already started"):
        check_bookable(WEEKDAYS, RULES, started, now, today)
    far = day_slots(WEEKDAYS, SHANGHAI, date(2026, 12, 10), SLOTS)[0]
    with pytest.raises(InvalidInput, match="working days"):
        check_bookable(WEEKDAYS, RULES, far, now, today)


def test_check_in_opens_30_minutes_before_and_closes_15_minutes_after_the_start() -> None:
    start = at("2026-11-26", "10:00")
    assert check_in_timing(start - timedelta(minutes=31), start, RULES) is CheckInTiming.EARLY
    assert check_in_timing(start - timedelta(minutes=30), start, RULES) is CheckInTiming.ON_TIME
    assert check_in_timing(start + timedelta(minutes=15), start, RULES) is CheckInTiming.ON_TIME
    assert check_in_timing(start + timedelta(minutes=16), start, RULES) is CheckInTiming.LATE


def test_cancelling_is_allowed_until_two_hours_before_the_slot() -> None:
    start = at("2026-11-26", "14:00")
    assert can_cancel(at("2026-11-26", "12:00"), start, RULES)
    assert not can_cancel(at("2026-11-26", "12:01"), start, RULES)


def test_two_no_shows_in_30_days_ban_booking_for_30_days_from_the_last() -> None:
    now = datetime(2026, 11, 26, 2, tzinfo=UTC)
    first, second = now - timedelta(days=20), now - timedelta(days=3)
    assert banned_until([second], now, RULES) is None
    assert banned_until([first, second], now, RULES) == second + timedelta(days=30)
    assert banned_until([now - timedelta(days=40), second], now, RULES) is None
    assert banned_until([first, second], second + timedelta(days=31), RULES) is None


def test_settings_round_trip_and_reject_nonsense() -> None:
    rules = AppointmentSettings(horizon_working_days=7).with_service("TAX", 20, 3)
    assert AppointmentSettings.from_mapping(rules.to_mapping()) == rules
    assert AppointmentSettings.from_mapping(None) == AppointmentSettings()
    with pytest.raises(InvalidInput):
        AppointmentSettings(slot_capacity=0)


def test_codes_are_long_unambiguous_and_random() -> None:
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(plausible_code(c) for c in codes)
    assert not any(ch in "".join(codes) for ch in "01OIL")


def test_follow_up_deadlines_count_working_days_across_the_spring_festival() -> None:
    # Opened Thu 12 Feb 2026: 13, 14 (worked Sat), 24–27, 28 (worked Sat), 2–6 and 9–11 March.
    assert add_working_days(date(2026, 2, 12), 1) == date(2026, 2, 13)
    assert add_working_days(date(2026, 2, 12), 2) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)
    assert follow_up_deadline(date(2026, 2, 12), 15) == date(2026, 3, 11)
    assert follow_up_deadline(date(2025, 9, 26), 1) == date(2025, 9, 28)


def test_cases_move_open_called_back_rectified_closed_and_appeals_are_no_transition() -> None:
    assert next_status(CaseStatus.OPEN, CaseAction.CALL_BACK) is CaseStatus.CALLED_BACK
    assert next_status(CaseStatus.CALLED_BACK, CaseAction.RECTIFY) is CaseStatus.RECTIFIED
    assert next_status(CaseStatus.RECTIFIED, CaseAction.CLOSE, rerating=4) is CaseStatus.CLOSED
    with pytest.raises(InvalidTransition):
        next_status(CaseStatus.OPEN, CaseAction.CLOSE)
    # issue 19: an appeal is filed and decided by a second person (domain.appeals)
    with pytest.raises(InvalidTransition):
        next_status(CaseStatus.OPEN, CaseAction.APPEAL, "误评")


def test_overdue_only_while_unfinished_and_the_least_loaded_supervisor_gets_a_case() -> None:
    deadline = date(2026, 3, 6)
    assert is_overdue(CaseStatus.CALLED_BACK, deadline, date(2026, 3, 9))
    assert not is_overdue(CaseStatus.CALLED_BACK, deadline, deadline)
    assert not is_overdue(CaseStatus.CLOSED, deadline, date(2026, 3, 9))
    assert choose_supervisor({"wang": 2, "li": 1, "zhao": 1}) == "li"
    assert choose_supervisor({}) is None
