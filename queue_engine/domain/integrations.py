"""Integrations (issue 20): other systems as API clients, and the events they may receive.

Like a hall's partner offices: the city app's back office, the approval system, the hotline
each get a badge with their own name, the doors it opens (scopes) and the halls it may enter;
what they are told of the hall's day is what their badge allows, never a citizen's name,
phone or ID number.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from queue_engine.domain.errors import InvalidInput

# The doors a client's badge may open.
SCOPES: Mapping[str, str] = {
    "book": "book appointment slots for citizens",
    "tickets:remote": "take remote tickets for citizens",
    "queues:read": "read the halls' queues",
    "events:subscribe": "receive the halls' events by webhook",
    "cases:link": "attach case numbers (办件编号) to tickets",
}
# The event types a webhook may subscribe to (a group: "ticket.*").
WEBHOOK_EVENTS: tuple[str, ...] = (
    "ticket.issued",
    "ticket.called",
    "ticket.recalled",
    "ticket.started",
    "ticket.finished",
    "ticket.no_show",
    "ticket.transferred",
    "ticket.cancelled",
    "ticket.next_service",
    "ticket.case_number",
    "window.opened",
    "window.paused",
    "window.resumed",
    "window.closed",
    "appointment.booked",
    "appointment.cancelled",
    "appointment.checked_in",
    "appointment.no_show",
    "evaluation",
    "case.opened",
    "case.changed",
)
# Payload keys that may leave (everything else stays home: comments, reasons, codes...).
PAYLOAD_KEYS = frozenset(
    {
        "estimated_wait",
        "slot_start",
        "from_service",
        "to_service",
        "to_window",
        "score",
        "outcome",
        "category",
        "case_number",
        "segment",
        "by",
        "date",
        "status",
    }
)
CASE_NUMBER = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-_.]{0,63}$")
CLIENT_NAME_MAX = 100


@dataclass(frozen=True)
class ApiClient:
    """A registered integration as the rest of the system sees it (never its secret)."""

    client_id: str
    name: str
    scopes: tuple[str, ...]
    halls: tuple[str, ...] = ()  # empty: every hall
    quotas: Mapping[str, str] = field(default_factory=dict)
    credential_version: int = 0
    created_at: datetime | None = None
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def may(self, scope: str, hall: str | None = None) -> bool:
        """Whether this badge opens ``scope`` (in ``hall``, when one is named)."""
        if not self.active or scope not in self.scopes:
            return False
        return hall is None or not self.halls or hall in self.halls


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Known scopes, each once, in the order of ``SCOPES``; unknown ones are 422."""
    wanted = {s.strip() for s in scopes if s.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise InvalidInput(
            f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}", code="scope"
        )
    if not wanted:
        raise InvalidInput("give the client at least one scope", code="scope")
    return tuple(s for s in SCOPES if s in wanted)


def check_events(events: Iterable[str]) -> tuple[str, ...]:
    """Webhook event types or groups (``ticket.*``); unknown ones are 422."""
    chosen: list[str] = []
    for name in events:
        name = name.strip()
        group = name[:-2] if name.endswith(".*") else None
        known = name in WEBHOOK_EVENTS or (
            group is not None and any(e.startswith(group + ".") for e in WEBHOOK_EVENTS)
        )
        if not known:
            raise InvalidInput(f"unknown event type {name!r}", code="events")
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise InvalidInput("subscribe to at least one event type", code="events")
    return tuple(chosen)


def wants(events: Sequence[str], event_type: str) -> bool:
    """Whether a subscription to ``events`` receives an event of ``event_type``."""
    for name in events:
        if name == event_type or (
            name.endswith(".*") and event_type.startswith(name[:-1]) and event_type != name[:-2]
        ):
            return True
    return False


def check_case_number(value: str) -> str:
    """A 办件编号: 1-64 letters, digits, ``-``, ``_`` or ``.``, starting with a letter or digit."""
    value = value.strip()
    if not CASE_NUMBER.match(value):
        raise InvalidInput(
            "a case number is 1 to 64 letters, digits, '-', '_' or '.'", code="case_number"
        )
    return value


def secret_hash(secret: str) -> str:
    """The stored form of a client secret.

    The secrets are 256 random bits made here, not passwords a person chose: no dictionary
    helps a thief of the table, so one SHA-256 is as good as a slow hash and keeps each token
    request cheap.
    """
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored)


def webhook_payload(
    event_id: str,
    event_type: str,
    hall: str,
    ts: str,
    columns: Mapping[str, Any],
    payload: Mapping[str, Any],
    *,
    with_ticket_id: bool,
) -> dict[str, Any]:
    """The body of a webhook: the event's public columns and its allowed payload keys.

    No clerk usernames, comments, pause reasons, appointment codes or identity fields. The
    ticket id (a holder's key to the ticket) goes only to a client allowed to link cases.
    """
    data = {k: v for k, v in payload.items() if k in PAYLOAD_KEYS}
    body: dict[str, Any] = {
        "id": event_id,
        "type": event_type,
        "hall": hall,
        "timestamp": ts,
        "data": {
            "ticket_number": columns.get("ticket_number"),
            "service": columns.get("service"),
            "window": columns.get("window"),
            "channel": columns.get("channel"),
            "priority": columns.get("priority"),
            **data,
        },
    }
    if with_ticket_id and columns.get("ticket_id"):
        body["data"]["ticket_id"] = columns["ticket_id"]
    return body
