"""A citizen's visit: who came (kept as little as possible), which matters, and what came of each.

Like a clinic's day sheet, one ticket can carry several matters (services) in order: the
citizen keeps one number, and when one matter is done the ticket waits for the next one at
once, keeping its original place in the queue. Every matter is a *segment* of the visit with
its own status and outcome; a segment is named by the ticket id and its index
(``segment_id(ticket_id, index)`` → ``"<ticket>:<index>"``), so ratings and KPIs per matter have
a stable key.

The citizen's identity is read at the kiosk (ID card, e-ID or keypad): the hall keeps only a
keyed hash (to recognise the same person: one person, one ticket), a masked number, an age band
and a masked name, never the number or the full name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from queue_engine.domain.errors import Conflict, InvalidInput
from queue_engine.domain.events import DomainEvent, EventType
from queue_engine.domain.identity import (
    check_id_number,
    check_name,
    keyed_hash,
    mask_id_number,
    mask_name,
)
from queue_engine.domain.model import Ticket, TicketStatus

MAX_SERVICES = 5
MAX_REASON_LENGTH = 40
HASH_PURPOSE = "id"  # the same hash as the appointments' (one person, one hash)


class Outcome(StrEnum):
    """What came of one matter, recorded by the clerk at finish."""

    COMPLETED = "completed"  # 办结
    ACCEPTED = "accepted"  # 受理 (pending)
    NEEDS_DOCUMENTS = "needs_documents"  # 补正材料: the citizen must come back
    REJECTED = "rejected"  # 不予受理
    CONSULTATION = "consultation"  # 咨询

    @classmethod
    def parse(cls, value: object) -> Outcome:
        try:
            return cls(str(value))
        except ValueError:
            known = ", ".join(cls)
            raise InvalidInput(f"unknown outcome {value!r}; use one of {known}") from None


class SegmentStatus(StrEnum):
    PENDING = "pending"  # not reached yet (or waiting/at a window: see the ticket's status)
    CURRENT = "current"
    DONE = "done"
    SKIPPED = "skipped"  # the ticket ended (no-show, cancel) before this matter


@dataclass(frozen=True)
class Segment:
    """One matter of a visit."""

    service: str
    status: SegmentStatus = SegmentStatus.PENDING
    outcome: Outcome | None = None
    reason: str | None = None

    def to_mapping(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "status": str(self.status),
            "outcome": None if self.outcome is None else str(self.outcome),
            "reason": self.reason,
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Segment:
        outcome = data.get("outcome")
        return cls(
            service=str(data["service"]),
            status=SegmentStatus(data.get("status", SegmentStatus.PENDING)),
            outcome=None if outcome is None else Outcome(outcome),
            reason=data.get("reason"),
        )


def segment_id(ticket_id: str, index: int) -> str:
    """The stable key of one matter of a ticket: ``"<ticket id>:<index from 0>"``."""
    return f"{ticket_id}:{index}"


def check_services(codes: Sequence[str]) -> tuple[str, ...]:
    """1 to ``MAX_SERVICES`` service codes, each once, in the citizen's order."""
    if not codes:
        raise InvalidInput("choose at least one service", code="services")
    if len(codes) > MAX_SERVICES:
        raise InvalidInput(f"at most {MAX_SERVICES} services on one ticket", code="services")
    if len(set(codes)) != len(codes):
        raise InvalidInput("a service may appear only once on a ticket", code="services")
    return tuple(codes)


def check_reason(reason: str | None) -> str | None:
    """An optional reason code (short, printable)."""
    if reason is None:
        return None
    text = reason.strip()
    if not text:
        return None
    if len(text) > MAX_REASON_LENGTH or not text.isprintable():
        raise InvalidInput(f"a reason code is 1 to {MAX_REASON_LENGTH} characters", code="reason")
    return text


@dataclass(frozen=True)
class Visit:
    """The matters of one ticket, in order, and which one is being handled."""

    segments: tuple[Segment, ...]
    index: int = 0

    @classmethod
    def of(cls, codes: Sequence[str]) -> Visit:
        services = check_services(codes)
        first, *rest = services
        return cls(
            (Segment(first, SegmentStatus.CURRENT), *(Segment(code) for code in rest)),
        )

    @property
    def current(self) -> Segment:
        return self.segments[self.index]

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(s.service for s in self.segments)

    @property
    def has_next(self) -> bool:
        return self.index + 1 < len(self.segments)

    def finish_current(self, outcome: Outcome | None, reason: str | None = None) -> Visit:
        """The current matter done with ``outcome``; the next one (if any) becomes current."""
        done = replace(
            self.current, status=SegmentStatus.DONE, outcome=outcome, reason=check_reason(reason)
        )
        segments = list(self.segments)
        segments[self.index] = done
        if not self.has_next:
            return Visit(tuple(segments), self.index)
        segments[self.index + 1] = replace(segments[self.index + 1], status=SegmentStatus.CURRENT)
        return Visit(tuple(segments), self.index + 1)

    def with_next(self, codes: Sequence[str]) -> Visit:
        """The services after the current one replaced by ``codes`` (the clerk adds or removes
        services of the visit); those done and the current one stay as they are."""
        kept = self.segments[: self.index + 1]
        services = check_services([*(s.service for s in kept), *codes])
        return Visit((*kept, *(Segment(c) for c in services[len(kept) :])), self.index)

    def end(self) -> Visit:
        """The ticket ended early: the matters not reached are skipped."""
        segments = tuple(
            replace(s, status=SegmentStatus.SKIPPED)
            if s.status in (SegmentStatus.PENDING, SegmentStatus.CURRENT)
            else s
            for s in self.segments
        )
        return Visit(segments, self.index)

    def to_list(self) -> list[dict[str, Any]]:
        return [s.to_mapping() for s in self.segments]

    @classmethod
    def from_list(cls, data: Sequence[Mapping[str, Any]], index: int) -> Visit:
        return cls(tuple(Segment.from_mapping(d) for d in data), index)


def finish_segment(
    ticket: Ticket, visit: Visit, outcome: Outcome | None, reason: str | None, now: datetime
) -> tuple[list[DomainEvent], Visit]:
    """Finish the current matter with its outcome; a next matter waits at once, in its place.

    The ``ticket.finished`` payload carries ``outcome``, ``reason``, ``segment`` (index from 0)
    and ``segments``; when a matter follows, ``ticket.next_service`` records the move and the
    ticket is ``waiting`` again for the next service with its queue time unchanged, so the
    citizen is not sent to the back of the next line.
    """
    if visit.current.service != ticket.service:
        raise Conflict("the ticket's service and its current matter differ; reload it")
    reason = check_reason(reason)
    finished = ticket.finish(now)
    payload = {
        **finished.payload,
        "outcome": None if outcome is None else str(outcome),
        "reason": reason,
        "segment": visit.index,
        "segments": len(visit.segments),
    }
    events = [replace(finished, payload=payload)]
    after = visit.finish_current(outcome, reason)
    if after.index == visit.index:
        return events, after
    ticket.status = TicketStatus.WAITING
    ticket.service = after.current.service
    ticket.started_at = ticket.finished_at = None
    ticket.window_id = ticket.window_label = ticket.clerk = None
    ticket.target_window = None
    events.append(
        ticket._event(
            EventType.TICKET_NEXT_SERVICE,
            now,
            from_service=visit.current.service,
            to_service=after.current.service,
            segment=after.index,
            segments=len(after.segments),
        )
    )
    return events, after


# ---- identity ------------------------------------------------------------------------------


def birth_date(id_number: str) -> date:
    """The birth date written in digits 7–14 of a (checked) 18-digit ID number."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        raise InvalidInput("the ID number's birth date is not a date", code="id_number") from None


def age_on(born: date, day: date) -> int:
    """Whole years of age on ``day`` (a 29 February birthday counts on 1 March in other years)."""
    had_birthday = (day.month, day.day) >= (born.month, born.day)
    return day.year - born.year - (0 if had_birthday else 1)


def age_band(age: int) -> str:
    """Ten-year bands (``"30-39"``), ``"70+"`` at the top, ``"0-17"`` for minors."""
    if age < 18:
        return "0-17"
    if age >= 70:
        return "70+"
    if age < 20:
        return "18-19"
    low = age // 10 * 10
    return f"{low}-{low + 9}"


@dataclass(frozen=True)
class Citizen:
    """What the hall keeps of a person: a keyed hash, masks and an age band."""

    hash: str
    masked_id: str
    age: int
    band: str
    masked_name: str | None = None

    @classmethod
    def read(cls, id_number: str, name: str | None, pepper: bytes, today: date) -> Citizen:
        number = check_id_number(id_number)
        age = age_on(birth_date(number), today)
        if age < 0:
            raise InvalidInput("the ID number's birth date is in the future", code="id_number")
        return cls(
            hash=keyed_hash(number, pepper, HASH_PURPOSE),
            masked_id=mask_id_number(number),
            age=age,
            band=age_band(age),
            masked_name=None if name is None else mask_name(check_name(name)),
        )


class IdentityMode(StrEnum):
    """Whether a hall (or one of its services) asks for the citizen's identity at the kiosk."""

    OFF = "off"  # no identity step; a ticket request with an ID number is refused
    OPTIONAL = "optional"  # the kiosk offers it (elderly priority, 一人一号), never needs it
    REQUIRED = "required"  # no ticket without an ID number (422 ``identity_required``)


DEFAULT_ZONE_AGES: Mapping[str, int] = {"老年服务专区": 60}
LIMIT_RANGE = (1, 20)  # per_service and total: at least one ticket, at most twenty
AGE_RANGE = (50, 120)  # the elderly age and a zone's age


@dataclass(frozen=True)
class IdentityRule:
    """A hall's identity rule: off/optional/required (for the hall and per service), 一人一号
    limits and the ages that give the ``elderly`` priority. Set by the hall's admin
    (``rules.identity``); ``IdentityRule()`` is the default of every hall."""

    per_service: int = 1  # active tickets a citizen may hold per service and day
    total: int = 3  # active tickets a citizen may hold in all, per day
    elderly_age: int = 70
    zone_elderly_age: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_ZONE_AGES))
    mode: IdentityMode = IdentityMode.OPTIONAL
    services: Mapping[str, IdentityMode] = field(default_factory=dict)  # a service's own mode

    def __init__(
        self,
        per_service: int = 1,
        total: int = 3,
        elderly_age: int = 70,
        zone_elderly_age: Mapping[str, int] | None = None,
        mode: IdentityMode | str = IdentityMode.OPTIONAL,
        services: Mapping[str, IdentityMode | str] | None = None,
        *,
        required: bool = False,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "per_service", per_service)
        set_(self, "total", total)
        set_(self, "elderly_age", elderly_age)
        zones = DEFAULT_ZONE_AGES if zone_elderly_age is None else zone_elderly_age
        set_(self, "zone_elderly_age", dict(zones))
        set_(self, "mode", IdentityMode.REQUIRED if required else IdentityMode(mode))
        modes = {code: IdentityMode(m) for code, m in (services or {}).items()}
        set_(self, "services", modes)
        self._check()

    def _check(self) -> None:
        low, high = LIMIT_RANGE
        for name in ("per_service", "total"):
            value = getattr(self, name)
            if type(value) is not int or not low <= value <= high:
                raise ValueError(f"{name} is a whole number from {low} to {high}")
        if self.total < self.per_service:
            raise ValueError("total must be at least per_service")
        young, old = AGE_RANGE
        ages = {"elderly_age": self.elderly_age, **self.zone_elderly_age}
        for name, age in ages.items():
            if type(age) is not int or not young <= age <= old:
                raise ValueError(f"the age of {name} is a whole number from {young} to {old}")

    @property
    def required(self) -> bool:
        """The hall's own mode is ``required`` (every service, unless it says otherwise)."""
        return self.mode is IdentityMode.REQUIRED

    def mode_of(self, service: str) -> IdentityMode:
        return self.services.get(service, self.mode)

    def mode_for(self, services: Sequence[str]) -> IdentityMode:
        """A ticket's mode: required when one of its services requires an identity, off when
        every one is off, else optional."""
        modes = {self.mode_of(code) for code in services}
        if IdentityMode.REQUIRED in modes:
            return IdentityMode.REQUIRED
        if modes == {IdentityMode.OFF}:
            return IdentityMode.OFF
        return IdentityMode.OPTIONAL

    def to_mapping(self) -> dict[str, Any]:
        return {
            "mode": str(self.mode),
            "services": {code: str(m) for code, m in sorted(self.services.items())},
            "per_service": self.per_service,
            "total": self.total,
            "elderly_age": self.elderly_age,
            "zone_ages": dict(self.zone_elderly_age),
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> IdentityRule:
        """The rule stored or sent (``to_mapping``'s form; missing keys keep the defaults).
        Raises ``ValueError`` for a value out of range or of the wrong kind."""
        data = dict(data or {})
        unknown = set(data) - {
            "mode",
            "services",
            "per_service",
            "total",
            "elderly_age",
            "zone_ages",
        }
        if unknown:
            raise ValueError(f"unknown identity setting {sorted(unknown)[0]}")
        services = data.get("services") or {}
        zones = data.get("zone_ages", DEFAULT_ZONE_AGES)
        if not isinstance(services, Mapping) or not isinstance(zones, Mapping):
            raise ValueError("services and zone_ages map names to values")
        default = cls()
        return cls(
            per_service=data.get("per_service", default.per_service),
            total=data.get("total", default.total),
            elderly_age=data.get("elderly_age", default.elderly_age),
            zone_elderly_age={str(z): a for z, a in zones.items()},
            mode=data.get("mode", default.mode),
            services={str(c): m for c, m in services.items()},
        )

    def elderly(self, age: int, zones: Sequence[str]) -> bool:
        """Old enough for the ``elderly`` priority, for a ticket of services in ``zones``."""
        thresholds = [self.elderly_age, *(self.zone_elderly_age.get(z, 999) for z in zones)]
        return age >= min(thresholds)

    def check_limits(
        self, held: Sequence[tuple[str, Sequence[str]]], services: Sequence[str]
    ) -> None:
        """Refuse (409 ``already_waiting``) when ``held`` active tickets leave no room.

        ``held`` is the citizen's active tickets today: (number, services of the ticket).
        """
        for code in services:
            holding = [number for number, codes in held if code in codes]
            if len(holding) >= self.per_service:
                raise _already_waiting(holding[0])
        if len(held) >= self.total:
            raise _already_waiting(held[0][0])


def _already_waiting(number: str) -> Conflict:
    return Conflict(
        f"您已取 {number} 号 (you already hold ticket {number})", code="already_waiting"
    )
