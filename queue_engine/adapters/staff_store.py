"""Staff accounts and the audit log."""

from __future__ import annotations

import functools
import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from queue_engine.adapters.orm import AuditRow, HallRow, UserRow
from queue_engine.domain.accounts import Role, hash_password, verify_password


@dataclass(frozen=True)
class StaffUser:
    username: str
    role: Role
    hall: str | None
    display_name: str


@functools.cache
def _dummy_hash() -> str:
    """Hashed on first need, not at import: every ``hall`` command imports this module."""
    return hash_password("not a real password 0", salt=b"0" * 16)


def find_user(conn: Connection, username: str) -> StaffUser | None:
    """An active user by name."""
    row = conn.execute(
        select(UserRow.username, UserRow.role, HallRow.code, UserRow.display_name)
        .outerjoin(HallRow, HallRow.id == UserRow.hall_id)
        .where(UserRow.username == username, UserRow.active.is_(True))
    ).first()
    if row is None:
        return None
    return StaffUser(row[0], Role(row[1]), row[2], row[3] or row[0])


def authenticate(conn: Connection, username: str, password: str) -> StaffUser | None:
    """The user if the password matches an active account; None otherwise."""
    row = conn.execute(
        select(UserRow.password_hash).where(UserRow.username == username, UserRow.active.is_(True))
    ).first()
    if row is None:
        verify_password(password, _dummy_hash())  # same work for unknown names: no timing oracle
        return None
    if not verify_password(password, row[0]):
        return None
    return find_user(conn, username)


@dataclass
class AuditEntry:
    """The staff action behind the current request; written with the change it makes."""

    actor: str
    role: str
    action: str
    target: str
    remote_addr: str
    recorded: bool = False


# Set by the web layer for a staff request; a unit of work that commits a change records it
# in the same transaction, so the audit trail and the change cannot disagree.
CURRENT_AUDIT: ContextVar[AuditEntry | None] = ContextVar("hall_audit", default=None)


def record_pending_audit(conn: Connection, ts: datetime, detail: dict[str, Any]) -> None:
    entry = CURRENT_AUDIT.get()
    if entry is None or entry.recorded:
        return
    record_audit(
        conn, ts, entry.actor, entry.role, entry.action, entry.target, detail, entry.remote_addr
    )
    entry.recorded = True


def record_audit(
    conn: Connection,
    ts: datetime,
    actor: str,
    role: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    remote_addr: str = "",
) -> None:
    conn.execute(
        insert(AuditRow),
        {
            "ts": ts,
            "actor": actor,
            "role": role,
            "action": action,
            "target": target[:100],
            "detail": json.dumps(detail or {}, ensure_ascii=False, default=str),
            "remote_addr": remote_addr[:64],
        },
    )
