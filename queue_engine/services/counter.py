"""The window's own actions: call a chosen ticket, serve a walk-in, hold and resume, look up.

Each is one command in one transaction, with the same window checks as the engine's (the
clerk's own window, open, no active ticket) and the audit entry of the request.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from queue_engine.adapters import repository as repo
from queue_engine.adapters import visit_store as store
from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.domain import counter
from queue_engine.domain.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from queue_engine.domain.events import EventType
from queue_engine.domain.model import Channel, Ticket, TicketStatus
from queue_engine.services.desk import Desk
from queue_engine.services.queries import TicketView
from queue_engine.services.tickets import QueueEngine, _check_clerk


class CounterDesk(Desk):
    """Clerk actions beyond the queue's "call next" (the engine keeps the queue)."""

    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine
        self.db = engine.db

    def acting(self, entry: Any) -> CounterDesk:
        clone = super().acting(entry)
        clone.engine = self.engine.acting(entry)
        return clone

    def call(self, window_id: int, ticket_id: str, reason: str, clerk: str | None) -> Ticket:
        """Call a chosen waiting ticket out of turn, with a reason (audited, in the event)."""
        engine = self.engine
        with engine.unit() as uow:
            hall_id, config, window = engine._window(uow, window_id)
            _check_clerk(window, clerk)
            row = repo.get_ticket_row(uow.conn, ticket_id)
            now = engine.clock.now()
            if row.hall_id != hall_id:
                raise NotFound("no such ticket in this hall")
            if row.business_date != config.business_date(now):
                raise InvalidTransition("the ticket is not of today")
            if (
                row.status == TicketStatus.WAITING
                and repo.lock_waiting_ticket(uow.conn, row.id) is None
            ):
                raise Conflict("another window is calling this ticket right now")
            ticket = repo.ticket_from_row(row, config)
            uow.record(counter.call_chosen(ticket, window, reason, now))
            repo.save_ticket_or_conflict(uow.conn, ticket, row.version)
            repo.save_window(uow.conn, window)
            engine.bus.commit(uow)
            return ticket

    def serve_walk_in(self, window_id: int, service: str, reason: str, clerk: str | None) -> Ticket:
        """无号办件: the window makes a ticket (channel ``window``) and has it called at once."""
        engine = self.engine
        text = counter.check_reason(reason, "serving without a ticket")
        with engine.unit() as uow:
            hall_id, config, window = engine._window(uow, window_id)
            _check_clerk(window, clerk)
            window.require_ready_to_call()
            if service not in window.config.skills:
                raise InvalidInput(f"window {window.config.number} does not serve {service}")
            ticket = engine.issue_in(
                uow, hall_id, config, service, Channel.WINDOW, check_hours=False
            )
            issued = uow._events[-1]
            assert issued.type is EventType.TICKET_ISSUED
            uow._events[-1] = replace(
                issued, payload={**issued.payload, "walk_in": True, "reason": text}
            )
            uow.record(ticket.call(window.config, window.clerk, engine.clock.now()))
            repo.save_ticket_or_conflict(uow.conn, ticket, 1)
            window.current_ticket = ticket.id
            repo.save_window(uow.conn, window)
            engine.bus.commit(uow)
            return ticket

    def hold(self, ticket_id: str, clerk: str | None) -> Ticket:
        """挂起 the window's ticket: the window is free; the ticket waits for this window."""

        def act(uow: UnitOfWork, hall: Any, ticket: Ticket) -> None:
            uow.record(counter.hold(ticket, self.engine.clock.now()))

        return self.engine._ticket_command(ticket_id, clerk, act)

    def resume(self, ticket_id: str, clerk: str | None) -> Ticket:
        """The held citizen is back: called again at the window that held the ticket."""
        engine = self.engine
        with engine.unit() as uow:
            row = repo.get_ticket_row(uow.conn, ticket_id)
            if row.status != TicketStatus.HELD or row.target_window_id is None:
                raise InvalidTransition(f"the ticket is {row.status}, not held")
            _, config, window = engine._window(uow, row.target_window_id)
            _check_clerk(window, clerk)
            ticket = repo.ticket_from_row(row, config)
            uow.record(counter.resume(ticket, window, engine.clock.now()))
            repo.save_ticket_or_conflict(uow.conn, ticket, row.version)
            repo.save_window(uow.conn, window)
            engine.bus.commit(uow)
            return ticket

    def held_at(self, window_id: int) -> list[tuple[str, str, str]]:
        """The tickets this window has on hold: (id, number, service), for its resume buttons."""
        with UnitOfWork(self.db, write=False) as uow:
            return store.held_at(uow.conn, window_id)

    def find(self, hall: str, number: str) -> TicketView:
        """Today's ticket of a number (``F023``), for the clerk's look-up and reprint."""
        text = number.strip().upper()
        if not (2 <= len(text) <= 8 and text[0].isalpha() and text[1:].isdigit()):
            raise InvalidInput("a ticket number is a letter and digits, e.g. F023")
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            day = config.business_date(self.engine.clock.now())
            found = store.ticket_id_by_number(uow.conn, hall_id, day, text[0], int(text[1:]))
        if found is None:
            raise NotFound(f"no ticket {text} today")
        return self.engine.ticket(found)
