"""Staff accounts as the doors see them: who a username is, sign-in, and the audit trail.

Creating and changing accounts is the administration desk's business (``AdminDesk``); this
desk answers the questions every request asks, and records what a request did when no
change of its own did so.

Each account has a credential version, like the lock cylinder of a door: every token and
page session is cut for the version current when it was issued. Changing the cylinder
(a password reset, a disable, a sign-out) makes every key cut before it useless at once,
without a list of the keys handed out.
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

    def credential(self, username: str) -> tuple[Actor, int] | None:
        """The active account of that name and its current credential version, or None."""
        with UnitOfWork(self.db, write=False) as uow:
            return staff_store.find_credential(uow.conn, username)

    def badge(self, username: str, version: int) -> Actor | None:
        """The active account, if a credential of ``version`` is still good for it."""
        found = self.credential(username)
        if found is None or found[1] != version:
            return None
        return found[0]

    def revoke(self, username: str, entry: AuditEntry) -> None:
        """End every token and page session of ``username`` (signing out everywhere), audited."""
        with UnitOfWork(self.db, audit=entry) as uow:
            staff_store.revoke_credentials(uow.conn, username)
            uow.record_audit(self.clock.now(), {"credentials": "revoked"})
            uow.commit()

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
