"""Appointment rules: slots, the booking window, check-in, cancellation and booking bans.

Think of a barber who takes bookings: the day is cut into slots of the same length inside
the opening hours (never across the lunch break), each slot takes a few customers, and you
may book only a few working days ahead. Arrive a little early or a little late and your
booking counts; arrive too late and you join the walk-ins. Miss too many bookings and the
barber stops taking yours for a while, but only for bookings the barber knows were yours:
anybody can give your name on the phone, so a missed booking counts against you only once you
have shown up with that booking (or confirmed it in the shop), or when it was made from the
phone number you have used on such a booking before.

Everything here is pure: the hall's opening hours and settings in, dates and answers out.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from queue_engine.domain.errors import InvalidInput
from queue_engine.domain.hours import OpeningHours

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed
CODE_LENGTH = 10
MAX_HORIZON_DAYS = 60


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    LATE = "late"  # came after the check-in window: served as a walk-in
    NO_SHOW = "no_show"


class CheckInTiming(StrEnum):
    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"


@dataclass(frozen=True)
class ServiceSlots:
    minutes: int = 30
    capacity: int = 5

    def __post_init__(self) -> None:
        if not 5 <= self.minutes <= 240 or not 1 <= self.capacity <= 1000:
            raise InvalidInput("slots are 5–240 minutes long and take 1–1000 bookings")


@dataclass(frozen=True)
class AppointmentSettings:
    """A hall's appointment and follow-up settings; defaults are the SPEC's."""

    slot_minutes: int = 30
    slot_capacity: int = 5
    per_service: Mapping[str, ServiceSlots] = field(default_factory=dict)
    horizon_working_days: int = 5
    cancel_cutoff_minutes: int = 120
    check_in_before_minutes: int = 30
    check_in_after_minutes: int = 15
    ban_no_shows: int = 2
    ban_lookback_days: int = 30
    ban_days: int = 30
    follow_up_working_days: int = 15
    notify_ahead: int = 3

    def __post_init__(self) -> None:
        ServiceSlots(self.slot_minutes, self.slot_capacity)  # validates the defaults
        if not 0 <= self.horizon_working_days <= MAX_HORIZON_DAYS:
            raise InvalidInput(f"the booking horizon is 0–{MAX_HORIZON_DAYS} working days")
        numbers = (
            self.cancel_cutoff_minutes,
            self.check_in_before_minutes,
            self.check_in_after_minutes,
            self.ban_lookback_days,
            self.ban_days,
            self.notify_ahead,
        )
        if min(numbers) < 0 or self.ban_no_shows < 1 or self.follow_up_working_days < 1:
            raise InvalidInput("appointment settings cannot be negative")

    def slots_of(self, service: str) -> ServiceSlots:
        return self.per_service.get(service) or ServiceSlots(self.slot_minutes, self.slot_capacity)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> AppointmentSettings:
        """From the stored JSON; unknown keys are ignored, missing ones take the defaults."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)} - {"per_service"}
        values: dict[str, Any] = {k: int(v) for k, v in data.items() if k in known}
        per_service = {
            code: ServiceSlots(int(s.get("minutes", 30)), int(s.get("capacity", 5)))
            for code, s in dict(data.get("per_service") or {}).items()
        }
        return cls(per_service=per_service, **values)

    def to_mapping(self) -> dict[str, Any]:
        data = asdict(self)
        data["per_service"] = {k: asdict(v) for k, v in self.per_service.items()}
        return data

    def with_service(self, code: str, minutes: int, capacity: int) -> AppointmentSettings:
        return replace(
            self, per_service={**self.per_service, code: ServiceSlots(minutes, capacity)}
        )


@dataclass(frozen=True)
class Slot:
    start: datetime  # timezone-aware
    end: datetime
    capacity: int


def new_code() -> str:
    """An appointment code: 10 characters of a 31-letter alphabet (~49 bits), unguessable."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def plausible_code(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)


def normalize_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def is_open_day(hours: OpeningHours, day: date) -> bool:
    """A day the hall takes appointments: it has opening hours (holidays and 调休 included)."""
    return bool(hours.periods_on(day))


def bookable_days(hours: OpeningHours, today: date, horizon_working_days: int) -> list[date]:
    """Today and the following open days, up to ``horizon_working_days`` of them after today."""
    days = [today] if is_open_day(hours, today) else []
    day, counted = today, 0
    for _ in range(MAX_HORIZON_DAYS * 3):  # bounded even for a hall that is never open
        if counted >= horizon_working_days:
            break
        day += timedelta(days=1)
        if is_open_day(hours, day):
            days.append(day)
            counted += 1
    return days


def day_slots(hours: OpeningHours, zone: ZoneInfo, day: date, slots: ServiceSlots) -> list[Slot]:
    """The slots of one day: whole slots inside each opening period (lunch break respected).

    A round-the-clock hall gets slots from midnight to midnight; a period ending at
    ``24:00`` is treated as ending at the next midnight.
    """
    step = timedelta(minutes=slots.minutes)
    result: list[Slot] = []
    for start_t, end_t in hours.periods_on(day):
        start = datetime.combine(day, start_t, zone)
        end = (
            datetime.combine(day + timedelta(days=1), time(0), zone)
            if end_t == time.max
            else datetime.combine(day, end_t, zone)
        )
        moment = start
        while moment + step <= end:
            result.append(Slot(moment, moment + step, slots.capacity))
            moment += step
    return result


def find_slot(slots: Iterable[Slot], start: datetime) -> Slot:
    for slot in slots:
        if slot.start == start:
            return slot
    raise InvalidInput("there is no appointment slot starting at that time", code="no_slot")


def check_bookable(
    hours: OpeningHours,
    settings: AppointmentSettings,
    slot: Slot,
    now: datetime,
    today: date,
) -> None:
    """A slot may be booked if its day is in the booking window and it has not started."""
    day = slot.start.date()
    if day not in bookable_days(hours, today, settings.horizon_working_days):
        raise InvalidInput(
            f"appointments can be made for today and the next "
            f"{settings.horizon_working_days} working days",
            code="outside_window",
        )
    if slot.start <= now:
        raise InvalidInput("this slot has already started", code="slot_started")


def check_in_window(
    slot_start: datetime, settings: AppointmentSettings
) -> tuple[datetime, datetime]:
    """From N minutes before the slot starts to M minutes after."""
    return (
        slot_start - timedelta(minutes=settings.check_in_before_minutes),
        slot_start + timedelta(minutes=settings.check_in_after_minutes),
    )


def check_in_timing(
    now: datetime, slot_start: datetime, settings: AppointmentSettings
) -> CheckInTiming:
    opens, closes = check_in_window(slot_start, settings)
    if now < opens:
        return CheckInTiming.EARLY
    return CheckInTiming.ON_TIME if now <= closes else CheckInTiming.LATE


def cancel_deadline(slot_start: datetime, settings: AppointmentSettings) -> datetime:
    return slot_start - timedelta(minutes=settings.cancel_cutoff_minutes)


def can_cancel(now: datetime, slot_start: datetime, settings: AppointmentSettings) -> bool:
    return now <= cancel_deadline(slot_start, settings)


class Verification(StrEnum):
    """How a booking was shown to be its ID holder's (stored as ``verified_via``)."""

    CHECK_IN = "check_in"  # the booking was used: checked in at a kiosk of the hall
    KIOSK = "kiosk"  # confirmed at a kiosk with the ID number (``identity.IdProof``)


@dataclass(frozen=True)
class MissedBooking:
    """A no-show under an ID number: when, the booking phone's hash, and whether verified."""

    at: datetime
    phone: str
    verified: bool


def counted_no_shows(
    missed: Iterable[MissedBooking], verified_phones: Mapping[str, datetime], phone: str
) -> list[datetime]:
    """The no-shows of an ID number that count towards a new booking made with ``phone``.

    A no-show counts when the hall knows who made that booking:

    1. the booking was verified (checked in, or confirmed at a kiosk with the ID number), or
    2. it was booked with a phone that a verified booking of the same ID had used before it
       was missed (the phone on file), or
    3. it was booked with ``phone``, the phone of this new booking: whoever books again with
       that ID number and that phone is the same booker, so a stranger's no-shows ban the
       stranger's phone under that ID, never the holder.

    Any other no-show (unverified, with another phone) counts for nothing: it may be somebody
    who typed in the holder's ID number, and bans follow verified no-shows only.
    """
    return [
        m.at
        for m in missed
        if m.verified
        or (m.phone in verified_phones and verified_phones[m.phone] <= m.at)
        or m.phone == phone
    ]


def banned_until(
    no_shows: Iterable[datetime], now: datetime, settings: AppointmentSettings
) -> datetime | None:
    """When a person may book again, if ``ban_no_shows`` no-shows fell in the lookback window.

    The ban runs ``ban_days`` from the latest of those no-shows; None when not banned.
    """
    since = now - timedelta(days=settings.ban_lookback_days)
    recent = sorted(t for t in no_shows if since <= t <= now)
    if len(recent) < settings.ban_no_shows:
        return None
    until = recent[-1] + timedelta(days=settings.ban_days)
    return until if until > now else None
