"""The message bus: committed events go to the handlers registered for their type.

Like the hall's announcement system: a desk finishes its work and writes it in the ledger
(the unit of work commits); only then is it announced, and each listener hears the kinds of
announcement it signed up for. A listener that fails is logged and never undoes the work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.domain.events import DomainEvent, EventType, StoredEvent

log = logging.getLogger(__name__)

Handler = Callable[[Sequence[StoredEvent]], None]
Within = Callable[[UnitOfWork, Sequence[DomainEvent]], None]
Wants = Callable[[UnitOfWork, Sequence[DomainEvent]], bool]


class MessageBus:
    """Handlers by event type; each gets a command's events of its types, in commit order."""

    def __init__(self) -> None:
        self._handlers: list[tuple[frozenset[EventType] | None, Handler]] = []
        self._within: list[tuple[frozenset[EventType] | None, Wants | None, Within]] = []

    def within(self, handler: Within, *types: EventType, when: Wants | None = None) -> None:
        """Call ``handler`` inside the command's transaction, just before it commits.

        For writes that must stand or fall with the change (outbox rows, issue 17). It runs in
        a savepoint: a failing handler loses its own writes and is logged, the command commits.
        With ``types`` it runs only for commands with events of those types, and with ``when``
        only when ``when(uow, events)`` says it has something to do (no savepoint, no round
        trips otherwise: issue 16).
        """
        self._within.append((frozenset(types) if types else None, when, handler))

    def subscribe(self, handler: Handler, *types: EventType) -> None:
        """Call ``handler`` with the committed events of ``types`` (no types: of every type)."""
        self._handlers.append((frozenset(types) if types else None, handler))

    def publish(self, stored: Sequence[StoredEvent]) -> None:
        if not stored:
            return
        for types, handler in self._handlers:
            mine = stored if types is None else [s for s in stored if s.event.type in types]
            if not mine:
                continue
            try:
                handler(mine)
            except Exception:  # a broken listener must never undo a committed change
                log.exception("event handler %r failed", handler)

    def commit(self, uow: UnitOfWork) -> None:
        """Commit now; publish once the unit has let go of its connection and write lock."""
        pending = uow.pending()
        for types, when, handler in self._within if pending else ():
            if types is not None and not any(e.type in types for e in pending):
                continue
            try:
                if when is not None and not when(uow, pending):
                    continue
                with uow.savepoint():
                    handler(uow, pending)
            except Exception:
                if uow.conn.invalidated:  # the connection is gone: the command fails (503)
                    raise
                log.exception("in-transaction handler %r failed", handler)
        stored = uow.commit()
        uow.after_exit(lambda: self.publish(stored))
