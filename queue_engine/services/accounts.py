"""Staff accounts as the doors see them: who a username is, sign-in, and the audit trail.

Creating and changing accounts is the administration desk's business (``AdminDesk``); this
desk answers the questions every request asks, and records what a request did when no
change of its own did so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text

from queue_engine.adapters import staff_store
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import Actor, AuditEntry
from queue_engine.domain.clock import Clock, SystemClock
from queue_engine.services.desk import Desk


class AccountDesk(Desk):
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()

    def find(self, username: str) -> Actor | None:
        """The active account of that name, or None."""
        with UnitOfWork(self.db, write=False) as uow:
            return staff_store.find_user(uow.conn, username)

    def authenticate(self, username: str, password: str) -> Actor | None:
        """The account if the password matches an active one; None otherwise (same cost)."""
        with UnitOfWork(self.db, write=False) as uow:
            return staff_store.authenticate(uow.conn, username, password)

    def record(self, entry: AuditEntry, detail: dict[str, Any], at: datetime | None = None) -> None:
        """Write an audit record of its own for a request that changed nothing itself."""
        with UnitOfWork(self.db, audit=entry) as uow:
            uow.record_audit(at or self.clock.now(), detail)
            uow.commit()

    def database_ok(self) -> None:
        """Raises the driver's error when the database does not answer."""
        with UnitOfWork(self.db, write=False) as uow:
            uow.conn.execute(text("SELECT 1"))
