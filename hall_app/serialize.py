"""JSON shapes of tickets, windows, queues and live events (public ones carry no personal data)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from queue_engine.domain.events import EventType, StoredEvent
from queue_engine.domain.model import (
    HallConfig,
    PauseCategory,
    Ticket,
    WaitEstimate,
    WindowStatus,
)
from queue_engine.services.queries import ServiceQueue, TicketView
from queue_engine.services.supervision import AlertView


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def estimate_json(estimate: WaitEstimate | None) -> dict[str, float] | None:
    return estimate.to_mapping() if estimate is not None else None


def ticket_json(
    ticket: Ticket,
    config: HallConfig,
    position: int | None = None,
    estimate: WaitEstimate | None = None,
) -> dict[str, Any]:
    service = config.service(ticket.service)
    window = config.window(ticket.window_id) if ticket.window_id is not None else None
    return {
        "id": ticket.id,
        "number": ticket.number,
        "hall": ticket.hall,
        "service": ticket.service,
        "service_name": service.name_zh,
        "service_name_en": service.name_en,
        "status": str(ticket.status),
        "channel": str(ticket.channel),
        "priority": str(ticket.priority),
        "business_date": ticket.business_date.isoformat(),
        "issued_at": iso(ticket.issued_at),
        "called_at": iso(ticket.called_at),
        "started_at": iso(ticket.started_at),
        "finished_at": iso(ticket.finished_at),
        "window": window.label if window else None,
        "window_name": window.name if window else None,
        "position": position,
        "estimated_wait": estimate_json(estimate),
        "estimate_at_issue": estimate_json(ticket.estimate),
        "recalls": ticket.recalls,
    }


def view_json(view: TicketView, config: HallConfig) -> dict[str, Any]:
    return ticket_json(view.ticket, config, view.position, view.estimate)


def window_json(
    window: WindowStatus, current: Ticket | None = None, *, staff: bool = False
) -> dict[str, Any]:
    """A window; its clerk's account name and the clerk's pause reason only for staff.

    Public screens never name staff, and of a pause they get its category (and the category's
    label as ``paused_reason``), never the words a clerk typed.
    """
    return {
        "id": window.config.id,
        "number": window.config.number,
        "name": window.config.name,
        "zone": window.config.zone,
        "state": str(window.state),
        "clerk": window.clerk if staff else None,
        "paused_reason": window.paused_reason if staff else pause_label(window.pause_category),
        "pause_category": str(window.pause_category) if window.pause_category else None,
        "since": iso(window.since),
        "skills": [{"service": s, "primary": p} for s, p in window.config.skills.items()],
        "current_ticket": (
            {"number": current.number, "service": current.service, "status": str(current.status)}
            if current is not None
            else None
        ),
    }


def queue_json(queue: ServiceQueue, config: HallConfig) -> dict[str, Any]:
    service = config.service(queue.code)
    return {
        "code": service.code,
        "prefix": service.prefix,
        "name_zh": service.name_zh,
        "name_en": service.name_en,
        "zone": service.zone,
        "standard_minutes": service.standard_minutes,
        "active": service.active,
        "waiting": queue.waiting,
        "longest_wait_minutes": queue.longest_wait_minutes,
        "estimated_wait": estimate_json(queue.estimate),
    }


def pause_label(category: PauseCategory | None) -> str | None:
    """What a public screen says of a pause: the category's label (``午休``), or nothing."""
    return category.label_zh if category is not None else None


PRIVATE_PAYLOAD_KEYS = frozenset({"estimated_wait", "comment", "supervisor", "note"})
# A citizen's hash and age band, and the clerk's words about a ticket (a chosen call, a
# walk-in, an outcome's reason code): staff business, never on a board or a phone.
PRIVATE_TICKET_KEYS = frozenset({"citizen", "proxy", "age_band", "reason"})


def public_event(stored: StoredEvent) -> dict[str, Any]:
    """A live event for public rooms (boards, phones): numbers only, never the ticket id."""
    e = stored.event
    hidden = PRIVATE_PAYLOAD_KEYS | (PRIVATE_TICKET_KEYS if e.ticket_id else frozenset())
    payload = {k: v for k, v in e.payload.items() if k not in hidden}
    if "by" in payload:  # who cancelled: "holder" or "staff", never which staff member
        payload["by"] = "staff" if str(payload["by"]).startswith("staff") else "holder"
    if e.type == EventType.WINDOW_PAUSED:  # its category's label, never the clerk's words
        category = _category(payload.get("category"), str(payload.get("reason", "")))
        payload["reason"], payload["category"] = pause_label(category), str(category)
    return {
        "event_id": stored.event_id,
        "type": str(e.type),
        "ts": e.ts.isoformat(),
        "hall": e.hall,
        "ticket_number": e.ticket_number,
        "service": e.service,
        "window": e.window,
        "priority": e.priority,
        "payload": json.loads(json.dumps(payload, default=str)),
    }


def _category(stored: Any, reason: str) -> PauseCategory:
    """A logged pause's category (events from before categories: the one its reason names)."""
    try:
        return PauseCategory(stored)
    except ValueError:
        return PauseCategory.of_reason(reason)


def alert_json(alert: AlertView) -> dict[str, Any]:
    return {
        "id": alert.id,
        "hall": alert.hall,
        "key": alert.key,
        "kind": alert.kind,
        "severity": alert.severity,
        "level": alert.severity,
        "subject": alert.subject,
        "window": alert.window,
        "service": alert.service,
        "message": alert.message("zh"),
        "message_en": alert.message("en"),
        "data": alert.data,
        "case": alert.data.get("case"),
        "open": alert.open,
        "raised_at": iso(alert.raised_at),
        "updated_at": iso(alert.updated_at),
        "cleared_at": iso(alert.cleared_at),
        "acknowledged_at": iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
        "note": alert.note,
    }
