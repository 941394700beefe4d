"""Staff account rows (with their credential version) and the audit log rows."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from queue_engine.adapters.orm import AuditRow, HallRow, UserRow
from queue_engine.adapters.prepared import Prepared
from queue_engine.domain.access import Actor, Role
from queue_engine.domain.accounts import hash_password, verify_password


@functools.cache
def _dummy_hash() -> str:
    """Hashed on first need, not at import: every ``hall`` command imports this module."""
    return hash_password("not a real password 0", salt=b"0" * 16)


def find_user(conn: Connection, username: str) -> Actor | None:
    """An active user by name."""
    found = find_credential(conn, username)
    return found[0] if found is not None else None


_U: Table = UserRow.__table__  # type: ignore[assignment]
_H: Table = HallRow.__table__  # type: ignore[assignment]
_AUDIT: Table = AuditRow.__table__  # type: ignore[assignment]
# Every staff request checks its credential: compiled once (issue 16).
_CREDENTIAL = Prepared(
    select(_U.c.username, _U.c.role, _H.c.code, _U.c.display_name, _U.c.credential_version)
    .select_from(_U.outerjoin(_H, _H.c.id == _U.c.hall_id))
    .where(_U.c.username == bindparam("username"), _U.c.active.is_(True))
)
_INSERT_AUDIT = Prepared(
    insert(_AUDIT).values(
        {
            name: bindparam(name)
            for name in ("ts", "actor", "role", "action", "target", "detail", "remote_addr")
        }
    )
)


def find_credential(conn: Connection, username: str) -> tuple[Actor, int] | None:
    """An active user by name, with the version its tokens and sessions must carry."""
    row = _CREDENTIAL.first(conn, {"username": username})
    if row is None:
        return None
    return Actor(row[0], Role(row[1]), row[2], row[3] or row[0]), row[4]


def revoke_credentials(conn: Connection, username: str) -> None:
    """Every token and page session issued to ``username`` so far stops working."""
    conn.execute(
        update(UserRow)
        .where(UserRow.username == username)
        .values(credential_version=UserRow.credential_version + 1)
    )


def authenticate(conn: Connection, username: str, password: str) -> Actor | None:
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
    _INSERT_AUDIT.rowcount(
        conn,
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


# -- who hears of an escalation card (issue 19) ------------------------------------------------


def department_heads(conn: Connection, hall: str, department: str) -> list[str]:
    """Active accounts of the hall (or of every hall) that head ``department``."""
    rows = conn.execute(
        select(UserRow.username)
        .outerjoin(HallRow, HallRow.id == UserRow.hall_id)
        .where(
            UserRow.heads_department == department,
            UserRow.active.is_(True),
            (HallRow.code == hall) | UserRow.hall_id.is_(None),
        )
        .order_by(UserRow.username)
    )
    return list(rows.scalars())


def supervisors(conn: Connection, hall: str) -> list[str]:
    """The hall's active supervisors (those bound to it; else those of every hall)."""
    rows = conn.execute(
        select(UserRow.username, HallRow.code)
        .outerjoin(HallRow, HallRow.id == UserRow.hall_id)
        .where(UserRow.role == Role.SUPERVISOR.value, UserRow.active.is_(True))
        .order_by(UserRow.username)
    ).all()
    own = [r[0] for r in rows if r[1] == hall]
    return own or [r[0] for r in rows if r[1] is None]


def heads_department(conn: Connection, username: str) -> str | None:
    return conn.execute(
        select(UserRow.heads_department).where(UserRow.username == username)
    ).scalar()


def set_heads_department(conn: Connection, username: str, department: str | None) -> None:
    conn.execute(
        update(UserRow).where(UserRow.username == username).values(heads_department=department)
    )
