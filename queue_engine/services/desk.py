"""What every desk of the service layer shares: its database and the staff action it serves.

A desk is a counter of the service layer (tickets and windows, administration, appointments,
ratings, supervision): each command loads, acts through the domain, and commits. The web
layer gives a desk the audit entry of the request explicitly (``desk.acting(entry)``), and the
desk's write units record it with the change, in the same transaction.
"""

from __future__ import annotations

import copy
from typing import Self

from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import AuditEntry


class Desk:
    db: Database
    audit: AuditEntry | None = None

    def acting(self, entry: AuditEntry | None) -> Self:
        """This desk, writing ``entry`` into the audit log with each change it commits."""
        if entry is None:
            return self
        clone = copy.copy(self)  # shares the database, caches and bus: only the entry differs
        clone.audit = entry
        return clone

    def unit(self) -> UnitOfWork:
        """A write unit of work carrying this desk's audit entry."""
        return UnitOfWork(self.db, audit=self.audit)
