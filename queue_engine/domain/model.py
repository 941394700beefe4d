"""Halls, services, windows and tickets, with the ticket's life cycle as a state machine.

A ticket moves ``waiting → called → serving → done``; a called citizen who does not come is a
``no_show`` (or goes back to ``waiting`` behind a few others, per the hall's rule); a ticket being
served can be transferred back to ``waiting`` for another service or window; a waiting ticket can
be ``cancelled``. Each transition returns the ``DomainEvent`` that records it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from queue_engine.domain.errors import InvalidInput, InvalidTransition, NotFound
from queue_engine.domain.events import DomainEvent, EventType
from queue_engine.domain.hours import OpeningHours, business_date, local_time
from queue_engine.domain.policy import DispatchRules, WindowView
from queue_engine.domain.redaction import mask_personal_data


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    HELD = "held"  # 挂起: the citizen fetches a document; resumed at the same window


ACTIVE_STATUSES = frozenset({TicketStatus.CALLED, TicketStatus.SERVING})
FINAL_STATUSES = frozenset({TicketStatus.DONE, TicketStatus.NO_SHOW, TicketStatus.CANCELLED})


class Channel(StrEnum):
    KIOSK = "kiosk"
    APP = "app"
    WEB = "web"
    APPOINTMENT = "appointment"
    WINDOW = "window"  # 无号办件: created by the window for a citizen without a ticket


class Priority(StrEnum):
    """Priority reasons offered at the kiosk; every reason but ``none`` is the priority class."""

    NONE = "none"
    ELDERLY = "elderly"
    DISABLED = "disabled"
    MILITARY = "military"
    PREGNANT = "pregnant"

    @property
    def is_priority(self) -> bool:
        return self is not Priority.NONE


class WindowState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


class PauseCategory(StrEnum):
    """Why a window is paused, as a public screen may say it: a fixed list, never typed text.

    The clerk's own words (masked) are for staff; the board and the window's screen show only
    the category's label, so nothing a clerk types ever reaches a public screen.
    """

    LUNCH = "lunch"
    MEETING = "meeting"
    AWAY = "away"
    SYSTEM = "system"
    OTHER = "other"

    @property
    def label_zh(self) -> str:
        return _PAUSE_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _PAUSE_LABELS[self][1]

    @classmethod
    def parse(cls, value: str) -> PauseCategory:
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(cls)
            raise InvalidInput(f"unknown pause category {value!r}; use one of {known}") from None

    @classmethod
    def of_reason(cls, reason: str) -> PauseCategory:
        """The category a typed reason begins with (``午休 …`` → lunch), else ``other``."""
        text = reason.strip().casefold()
        for category in cls:
            if category is not cls.OTHER and any(
                text.startswith(word.casefold())
                for word in (category.label_zh, category.label_en, category.value)
            ):
                return category
        return cls.OTHER


_PAUSE_LABELS: dict[PauseCategory, tuple[str, str]] = {
    PauseCategory.LUNCH: ("午休", "Lunch break"),
    PauseCategory.MEETING: ("会议", "Meeting"),
    PauseCategory.AWAY: ("临时离开", "Away for a moment"),
    PauseCategory.SYSTEM: ("系统故障", "System fault"),
    PauseCategory.OTHER: ("其他", "Other"),
}


@dataclass(frozen=True)
class Service:
    code: str
    prefix: str
    name_zh: str
    name_en: str
    zone: str
    standard_minutes: float
    active: bool = True
    daily_cap: int | None = None  # tickets a business day (appointments not counted)

    def __post_init__(self) -> None:
        if not (len(self.prefix) == 1 and self.prefix.isascii() and self.prefix.isupper()):
            raise InvalidInput(f"prefix must be one capital letter, not {self.prefix!r}")
        if self.standard_minutes <= 0:
            raise InvalidInput("standard handling time must be positive")


@dataclass(frozen=True)
class WindowConfig:
    """A window's fixed description; its skills map service code → primary (True) or not."""

    id: int
    number: int
    name: str
    zone: str
    skills: Mapping[str, bool]

    @property
    def label(self) -> str:
        return str(self.number)

    def view(self, cycle_position: int = 0) -> WindowView:
        return WindowView(self.id, self.skills, cycle_position)


class NoShowMode(StrEnum):
    VOID = "void"
    REQUEUE = "requeue"


@dataclass(frozen=True)
class NoShowRule:
    """What happens when a called citizen does not come: void the ticket, or requeue it."""

    mode: NoShowMode = NoShowMode.VOID
    behind: int = 3  # requeue: back into the queue behind this many waiting tickets
    max_requeues: int = 1  # after this many requeues a no-show is final

    def __post_init__(self) -> None:
        if self.behind < 0 or self.max_requeues < 0:
            raise InvalidInput("no-show rule numbers cannot be negative")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> NoShowRule:
        """From the stored form (``halls.no_show``); missing keys take the defaults."""
        return cls(
            mode=NoShowMode(data.get("mode", cls.mode)),
            behind=int(data.get("behind", cls.behind)),
            max_requeues=int(data.get("max_requeues", cls.max_requeues)),
        )

    def to_mapping(self) -> dict[str, Any]:
        return {"mode": str(self.mode), "behind": self.behind, "max_requeues": self.max_requeues}


@dataclass(frozen=True)
class HallConfig:
    """Everything about a hall that changes only when an administrator changes it."""

    code: str
    name_zh: str
    name_en: str
    timezone: str
    hours: OpeningHours
    services: tuple[Service, ...]
    windows: tuple[WindowConfig, ...]
    dispatch: DispatchRules = field(default_factory=DispatchRules)
    no_show: NoShowRule = field(default_factory=NoShowRule)
    version: int = 1
    notice: str = ""
    clerk_many_windows: bool = False  # a clerk may keep several windows open at once
    # 无声叫号 (issue 17): in these zones the board neither shows nor speaks a call; the
    # citizen hears of it by SMS, WeChat or push (the ``called`` notice) and the phone page.
    silent_zones: frozenset[str] = frozenset()
    # issue 18: the admin's identity rule as stored (``visits.IdentityRule.from_mapping``);
    # None: the defaults of ``IdentityRule()``
    identity: Mapping[str, Any] | None = None

    def silent_window(self, label: str | int | None) -> bool:
        """Whether a call to this window (its number) is a silent one."""
        if not self.silent_zones or label is None:
            return False
        found = next((w for w in self.windows if w.label == str(label)), None)
        return found is not None and found.zone in self.silent_zones

    @property
    def zones(self) -> list[str]:
        """Every zone of the hall's services and windows, in the order they come."""
        return list(dict.fromkeys([s.zone for s in self.services] + [w.zone for w in self.windows]))

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _services(self) -> dict[str, Service]:
        return {s.code: s for s in self.services}

    @cached_property
    def _windows(self) -> dict[int, WindowConfig]:
        return {w.id: w for w in self.windows}

    def service(self, code: str) -> Service:
        try:
            return self._services[code]
        except KeyError:
            raise NotFound(f"hall {self.code} has no service {code!r}") from None

    def window(self, window_id: int) -> WindowConfig:
        try:
            return self._windows[window_id]
        except KeyError:
            raise NotFound(f"hall {self.code} has no window {window_id}") from None

    def window_by_number(self, number: int) -> WindowConfig:
        for w in self.windows:
            if w.number == number:
                return w
        raise NotFound(f"hall {self.code} has no window number {number}")

    def business_date(self, moment: datetime) -> date:
        return business_date(moment, self.zone)

    def is_open(self, moment: datetime) -> bool:
        return self.hours.is_open(local_time(moment, self.zone))


@dataclass(frozen=True)
class WaitEstimate:
    """A typical (median) and a pessimistic (90th percentile) wait, in minutes."""

    median_minutes: float
    p90_minutes: float

    def to_mapping(self) -> dict[str, float]:
        return {"median_minutes": self.median_minutes, "p90_minutes": self.p90_minutes}


def format_number(prefix: str, seq: int) -> str:
    """``("A", 23)`` → ``"A023"``: at least three digits, as hall displays show them."""
    return f"{prefix}{seq:03d}"


@dataclass
class Ticket:
    """One citizen's place in the hall, from issue to its final state."""

    id: str
    hall: str
    service: str
    prefix: str
    seq: int
    business_date: date
    channel: Channel
    priority: Priority
    issued_at: datetime
    queued_at: datetime
    status: TicketStatus = TicketStatus.WAITING
    estimate: WaitEstimate | None = None
    slot_start: datetime | None = None
    called_at: datetime | None = None
    first_called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    window_id: int | None = None
    window_label: str | None = None
    clerk: str | None = None
    target_window: int | None = None
    recalls: int = 0
    requeues: int = 0
    transfers: int = 0
    position: int | None = field(default=None, compare=False)  # people ahead at issue

    @property
    def number(self) -> str:
        return format_number(self.prefix, self.seq)

    def _event(self, kind: EventType, now: datetime, **payload: Any) -> DomainEvent:
        return DomainEvent(
            type=kind,
            hall=self.hall,
            ts=now,
            ticket_id=self.id,
            ticket_number=self.number,
            service=self.service,
            window=self.window_label,
            clerk=self.clerk,
            channel=str(self.channel),
            priority=str(self.priority),
            payload=payload,
        )

    def _require(self, action: str, *allowed: TicketStatus) -> None:
        if self.status not in allowed:
            raise InvalidTransition(f"cannot {action} ticket {self.number}: it is {self.status}")

    def issued_event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "estimated_wait": self.estimate.to_mapping() if self.estimate else None
        }
        if self.slot_start is not None:
            payload["slot_start"] = self.slot_start.isoformat()
        return self._event(EventType.TICKET_ISSUED, self.issued_at, **payload)

    def evaluated_event(
        self,
        score: int,
        comment: str,
        now: datetime,
        channel: str | None = None,
        *,
        segment_done: bool = False,
    ) -> DomainEvent:
        """The 好差评 rating of this finished visit (SPEC §5: payload ``score``, ``comment``;
        also the ``channel`` it came in by, when known). ``segment_done``: a finished service
        of a visit whose next service is still to come (一次一评)."""
        if not segment_done:
            self._require("rate", TicketStatus.DONE)
        extra = {} if channel is None else {"channel": channel}
        return self._event(EventType.EVALUATION, now, score=score, comment=comment, **extra)

    def call(self, window: WindowConfig, clerk: str | None, now: datetime) -> DomainEvent:
        self._require("call", TicketStatus.WAITING)
        self.status = TicketStatus.CALLED
        self.window_id, self.window_label, self.clerk = window.id, window.label, clerk
        self.called_at = now
        if self.first_called_at is None:
            self.first_called_at = now
        self.target_window = None
        return self._event(EventType.TICKET_CALLED, now)

    def recall(self, now: datetime) -> DomainEvent:
        self._require("recall", TicketStatus.CALLED)
        self.recalls += 1
        return self._event(EventType.TICKET_RECALLED, now, recalls=self.recalls)

    def start(self, now: datetime) -> DomainEvent:
        self._require("start", TicketStatus.CALLED)
        self.status = TicketStatus.SERVING
        self.started_at = now
        return self._event(EventType.TICKET_STARTED, now)

    def finish(self, now: datetime) -> DomainEvent:
        self._require("finish", TicketStatus.SERVING)
        self.status = TicketStatus.DONE
        self.finished_at = now
        return self._event(EventType.TICKET_FINISHED, now)

    def no_show(
        self, rule: NoShowRule, now: datetime, requeue_at: datetime | None = None
    ) -> DomainEvent:
        """Mark a called citizen absent: final, or back in the queue at ``requeue_at``."""
        self._require("mark as no-show", TicketStatus.CALLED)
        requeue = (
            rule.mode is NoShowMode.REQUEUE
            and self.requeues < rule.max_requeues
            and requeue_at is not None
        )
        event = self._event(EventType.TICKET_NO_SHOW, now, requeued=requeue)
        if requeue:
            assert requeue_at is not None
            self.status = TicketStatus.WAITING
            self.requeues += 1
            self.queued_at = requeue_at
            self._leave_window()
        else:
            self.status = TicketStatus.NO_SHOW
            self.finished_at = now
        return event

    def transfer(
        self, to_service: Service, to_window: WindowConfig | None, now: datetime
    ) -> DomainEvent:
        """Send the citizen back to waiting, for another service and/or one window.

        Allowed from ``serving`` (SPEC §3) and also from ``called``: a clerk who sees at once
        that the citizen came to the wrong window need not start the visit first. The ticket
        keeps its original queue time, so a transferred citizen is not sent to the back of a
        second queue.
        """
        self._require("transfer", TicketStatus.CALLED, TicketStatus.SERVING)
        if to_service.code == self.service and to_window is None:
            raise InvalidInput("a transfer needs another service or a target window")
        if not to_service.active:
            raise InvalidInput(f"service {to_service.code} is not accepting tickets")
        if to_window is not None and to_service.code not in to_window.skills:
            raise InvalidInput(f"window {to_window.number} does not serve {to_service.code}")
        payload: dict[str, Any] = {"from_service": self.service, "to_service": to_service.code}
        if to_window is not None:
            payload["to_window"] = to_window.label
        event = self._event(EventType.TICKET_TRANSFERRED, now, **payload)
        self.status = TicketStatus.WAITING
        self.service = to_service.code
        self.transfers += 1
        self.started_at = None
        self._leave_window()
        self.target_window = to_window.id if to_window is not None else None
        return event

    def cancel(self, now: datetime, by: str = "holder") -> DomainEvent:
        self._require("cancel", TicketStatus.WAITING)
        self.status = TicketStatus.CANCELLED
        self.finished_at = now
        return self._event(EventType.TICKET_CANCELLED, now, by=by)

    def _leave_window(self) -> None:
        self.window_id = self.window_label = self.clerk = None


@dataclass
class WindowStatus:
    """A window's live state: closed, open (idle or with a ticket) or paused."""

    hall: str
    config: WindowConfig
    state: WindowState = WindowState.CLOSED
    clerk: str | None = None
    current_ticket: str | None = None
    paused_reason: str | None = None  # the clerk's words, personal data masked: staff only
    since: datetime | None = None
    cycle_position: int = 0
    pause_category: PauseCategory | None = None  # what public screens show of a pause

    def _event(self, kind: EventType, now: datetime, **payload: Any) -> DomainEvent:
        return DomainEvent(
            type=kind,
            hall=self.hall,
            ts=now,
            window=self.config.label,
            clerk=self.clerk,
            payload=payload,
        )

    def _fail(self, action: str) -> InvalidTransition:
        return InvalidTransition(f"cannot {action} window {self.config.number}: it is {self.state}")

    def open(self, clerk: str, now: datetime) -> DomainEvent:
        if self.state is not WindowState.CLOSED:
            raise self._fail("open")
        self.state, self.clerk, self.since = WindowState.OPEN, clerk, now
        self._unpause()
        return self._event(EventType.WINDOW_OPENED, now)

    def pause(
        self, reason: str, now: datetime, category: PauseCategory | str | None = None
    ) -> DomainEvent:
        """Pause with the clerk's reason (kept masked) and its category (what screens show).

        Without a ``category`` it is the one the reason begins with (``PauseCategory.of_reason``).
        """
        reason = mask_personal_data(reason.strip())
        if not reason:
            raise InvalidInput("a pause needs a reason")
        kind = (
            PauseCategory.of_reason(reason) if category is None else PauseCategory.parse(category)
        )
        if self.state is not WindowState.OPEN:
            raise self._fail("pause")
        if self.current_ticket is not None:
            raise InvalidTransition("finish or hand over the current ticket before pausing")
        self.state, self.paused_reason, self.since = WindowState.PAUSED, reason, now
        self.pause_category = kind
        return self._event(EventType.WINDOW_PAUSED, now, reason=reason, category=str(kind))

    def resume(self, now: datetime) -> DomainEvent:
        if self.state is not WindowState.PAUSED:
            raise self._fail("resume")
        self.state, self.since = WindowState.OPEN, now
        self._unpause()
        return self._event(EventType.WINDOW_RESUMED, now)

    def close(self, now: datetime) -> DomainEvent:
        if self.state is WindowState.CLOSED:
            raise self._fail("close")
        if self.current_ticket is not None:
            raise InvalidTransition("finish or hand over the current ticket before closing")
        event = self._event(EventType.WINDOW_CLOSED, now)
        self.state, self.clerk, self.since = WindowState.CLOSED, None, now
        self._unpause()
        return event

    def _unpause(self) -> None:
        self.paused_reason, self.pause_category = None, None

    def require_ready_to_call(self) -> None:
        if self.state is not WindowState.OPEN:
            raise InvalidTransition(f"window {self.config.number} is {self.state}, not open")
        if self.current_ticket is not None:
            raise InvalidTransition(
                f"window {self.config.number} still has an active ticket; finish it first"
            )
