"""What a window clerk does beyond "call next": a chosen ticket, a walk-in, hold and resume.

Like a bank teller who may call a particular customer out of turn (and must say why), serve
somebody who has no ticket (and the visit still counts), or ask a customer to fetch a missing
paper and take them again, at the same counter, when they are back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from queue_engine.domain.errors import InvalidInput, InvalidTransition
from queue_engine.domain.events import DomainEvent, EventType
from queue_engine.domain.model import Ticket, TicketStatus, WindowConfig, WindowStatus
from queue_engine.domain.redaction import mask_personal_data

MAX_REASON = 200


def check_reason(reason: str, action: str) -> str:
    """A clerk's reason: required, at most ``MAX_REASON`` characters, personal data masked."""
    text = mask_personal_data(" ".join(reason.split()))
    if not text:
        raise InvalidInput(f"{action} needs a reason", code="reason")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"a reason is at most {MAX_REASON} characters", code="reason")
    return text


def call_chosen(ticket: Ticket, window: WindowStatus, reason: str, now: datetime) -> DomainEvent:
    """Call this waiting ticket out of turn at ``window`` (``ticket.called`` with ``chosen``)."""
    reason = check_reason(reason, "calling a chosen ticket")
    window.require_ready_to_call()
    if ticket.status is not TicketStatus.WAITING:
        raise InvalidTransition(f"ticket {ticket.number} is {ticket.status}, not waiting")
    eligible = ticket.service in window.config.skills or ticket.target_window == window.config.id
    if not eligible:
        raise InvalidInput(f"window {window.config.number} does not serve {ticket.service}")
    event = ticket.call(window.config, window.clerk, now)
    window.current_ticket = ticket.id
    return _with(event, chosen=True, reason=reason)


def hold(ticket: Ticket, now: datetime) -> DomainEvent:
    """挂起: the citizen leaves to fetch something; the window is free, the ticket remembers it."""
    if ticket.status not in (TicketStatus.CALLED, TicketStatus.SERVING):
        raise InvalidTransition(f"cannot hold ticket {ticket.number}: it is {ticket.status}")
    event = ticket._event(EventType.TICKET_HELD, now, from_status=str(ticket.status))
    ticket.status = TicketStatus.HELD
    ticket.target_window = ticket.window_id
    ticket.window_id = ticket.window_label = None
    return event


def resume(ticket: Ticket, window: WindowStatus, now: datetime) -> DomainEvent:
    """The held citizen is back: called again at the window that held the ticket."""
    if ticket.status is not TicketStatus.HELD:
        raise InvalidTransition(f"ticket {ticket.number} is {ticket.status}, not held")
    if ticket.target_window != window.config.id:
        raise InvalidTransition(f"ticket {ticket.number} was held at another window")
    window.require_ready_to_call()
    ticket.status = TicketStatus.CALLED
    _at(ticket, window.config, window.clerk)
    ticket.called_at = now
    ticket.started_at = None
    window.current_ticket = ticket.id
    return ticket._event(EventType.TICKET_RESUMED, now)


def _at(ticket: Ticket, config: WindowConfig, clerk: str | None) -> None:
    ticket.window_id, ticket.window_label, ticket.clerk = config.id, config.label, clerk
    ticket.target_window = None


def _with(event: DomainEvent, **payload: object) -> DomainEvent:
    return replace(event, payload={**event.payload, **payload})
