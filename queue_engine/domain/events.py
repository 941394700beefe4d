"""The event schema: one definition for the live log, the CSV file, analytics and simulation.

Every change in a hall is a line in an append-only ledger. The columns below are the contract
of SPEC §5; ``payload`` carries what the columns cannot, as JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "hall",
    "ts",
    "type",
    "ticket_id",
    "ticket_number",
    "service",
    "window",
    "clerk",
    "channel",
    "priority",
    "payload",
)


class EventType(StrEnum):
    TICKET_ISSUED = "ticket.issued"
    TICKET_CALLED = "ticket.called"
    TICKET_RECALLED = "ticket.recalled"
    TICKET_STARTED = "ticket.started"
    TICKET_FINISHED = "ticket.finished"
    TICKET_NO_SHOW = "ticket.no_show"
    TICKET_TRANSFERRED = "ticket.transferred"
    TICKET_CANCELLED = "ticket.cancelled"
    TICKET_NEXT_SERVICE = "ticket.next_service"  # a multi-service ticket moves on
    TICKET_HELD = "ticket.held"  # 挂起 at a window
    TICKET_RESUMED = "ticket.resumed"  # back at the window that held it
    TICKET_SERVICES_CHANGED = "ticket.services_changed"  # the clerk added/removed services
    TICKET_CASE_NUMBER = "ticket.case_number"  # 办件编号 attached to a matter (issue 20)
    WINDOW_OPENED = "window.opened"
    WINDOW_PAUSED = "window.paused"
    WINDOW_RESUMED = "window.resumed"
    WINDOW_CLOSED = "window.closed"
    EVALUATION = "evaluation"
    APPOINTMENT_BOOKED = "appointment.booked"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    APPOINTMENT_CHECKED_IN = "appointment.checked_in"
    APPOINTMENT_LATE = "appointment.late"
    APPOINTMENT_NO_SHOW = "appointment.no_show"
    CASE_OPENED = "case.opened"
    CASE_CHANGED = "case.changed"
    CARD_ISSUED = "card.issued"  # 效能监察: a yellow or red card (issue 19)
    INTERVIEW_RECORDED = "interview.recorded"  # 约谈 after two black flags in a row
    ALERT_RAISED = "alert.raised"
    ALERT_CLEARED = "alert.cleared"
    ALERT_ACKNOWLEDGED = "alert.acknowledged"


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened; persisted in the same transaction as the change itself."""

    type: EventType
    hall: str
    ts: datetime
    ticket_id: str | None = None
    ticket_number: str | None = None
    service: str | None = None
    window: str | None = None
    clerk: str | None = None
    channel: str | None = None
    priority: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ts.tzinfo is None:
            raise ValueError("event timestamps must be timezone-aware")

    def to_row(self, event_id: str, zone: Any = None) -> dict[str, str]:
        """The CSV row of this event; ``ts`` in ISO 8601 with offset (the hall's, if given)."""
        ts = self.ts.astimezone(zone) if zone is not None else self.ts
        return {
            "event_id": event_id,
            "hall": self.hall,
            "ts": ts.isoformat(),
            "type": str(self.type),
            "ticket_id": self.ticket_id or "",
            "ticket_number": self.ticket_number or "",
            "service": self.service or "",
            "window": self.window or "",
            "clerk": self.clerk or "",
            "channel": self.channel or "",
            "priority": self.priority or "",
            "payload": dump_payload(self.payload),
        }


@dataclass(frozen=True)
class StoredEvent:
    """A domain event as the log recorded it: with the id it was stored under."""

    event_id: str
    event: DomainEvent


def dump_payload(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
