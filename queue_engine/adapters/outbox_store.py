"""The outbox table: idempotent inserts, claims with leases, outcomes checked by claim token.

A claim is a numbered cloakroom ticket: the worker that took a row holds its ``claim_token``
until ``lease_until``; only that token can settle the row (sent, failed, dead). A worker that
died leaves its lease to run out, and the next claim takes the row back, with the same key.
On PostgreSQL workers claim with ``FOR UPDATE SKIP LOCKED`` so that several never block on or
take one row; SQLite has a single writer, so the guarded UPDATE alone is enough.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from queue_engine.adapters.orm import AppointmentRow, ContactRow, OutboxRow
from queue_engine.adapters.prepared import Prepared
from queue_engine.domain.outbox import OutboxStatus

T: Table = OutboxRow.__table__  # type: ignore[assignment]
C: Table = ContactRow.__table__  # type: ignore[assignment]
A: Table = AppointmentRow.__table__  # type: ignore[assignment]
S = OutboxStatus


@dataclass(frozen=True)
class OutboxEntry:
    """A row as the worker and the delivery log see it (the address still sealed)."""

    id: int
    hall: str
    channel: str
    kind: str
    key: str
    text: str
    params: dict[str, Any]
    urgent: bool
    status: str
    attempts: int
    due_at: datetime
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    phone_hash: str | None
    claim_token: str | None
    first_tried_at: datetime | None
    to_ciphertext: bytes | None = None
    key_id: str | None = None
    to_plain: str | None = None


def _entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        hall=row.hall,
        channel=row.channel,
        kind=row.kind,
        key=row.key,
        text=row.text,
        params=dict(row.params or {}),
        urgent=bool(row.urgent),
        status=row.status,
        attempts=row.attempts,
        due_at=row.due_at,
        created_at=row.created_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
        phone_hash=row.phone_hash,
        claim_token=row.claim_token,
        first_tried_at=row.first_tried_at,
        to_ciphertext=row.to_ciphertext,
        key_id=row.key_id,
        to_plain=row.to_plain,
    )


def _insert_ignoring(conn: Connection, table: Any, values: dict[str, Any], key: list[str]) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return conn.execute(
        dialect.insert(table).values(**values).on_conflict_do_nothing(index_elements=key)
    )


def insert(conn: Connection, values: dict[str, Any]) -> int:
    """Insert a row once per ``key``; the id of the row holding that key (new or earlier)."""
    _insert_ignoring(conn, T, values, ["key"])
    found = conn.execute(select(T.c.id).where(T.c.key == values["key"])).scalar_one()
    return int(found)


def _claimable(now: datetime) -> Any:
    due = and_(T.c.status.in_([S.PENDING.value, S.FAILED.value]), T.c.due_at <= now)
    expired = and_(T.c.status == S.SENDING.value, T.c.lease_until < now)
    return or_(due, expired)


def claim(
    conn: Connection, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[OutboxEntry]:
    """Take up to ``limit`` due rows (and rows whose lease ran out) for ``worker``."""
    pick = select(T.c.id).where(_claimable(now)).order_by(T.c.due_at, T.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    ids = list(conn.execute(pick).scalars())
    if not ids:
        return []
    token = secrets.token_hex(8)
    conn.execute(
        update(T)
        .where(T.c.id.in_(ids), _claimable(now))  # guarded: a row settled meanwhile stays
        .values(
            status=S.SENDING.value,
            claimed_by=worker[:64],
            claim_token=token,
            lease_until=lease_until,
            attempts=T.c.attempts + 1,
            first_tried_at=func.coalesce(T.c.first_tried_at, now),
        )
    )
    rows = conn.execute(select(T).where(T.c.id.in_(ids), T.c.claim_token == token))
    return sorted((_entry(r) for r in rows), key=lambda e: (e.due_at, e.id))


def _settle(conn: Connection, row_id: int, token: str, **values: Any) -> bool:
    done = conn.execute(
        update(T)
        .where(T.c.id == row_id, T.c.claim_token == token, T.c.status == S.SENDING.value)
        .values(claim_token=None, lease_until=None, **values)
    )
    return done.rowcount == 1


def mark_sent(conn: Connection, row_id: int, token: str, now: datetime) -> bool:
    return _settle(conn, row_id, token, status=S.SENT.value, sent_at=now, last_error=None)


def mark_failed(conn: Connection, row_id: int, token: str, due_at: datetime, reason: str) -> bool:
    return _settle(
        conn, row_id, token, status=S.FAILED.value, due_at=due_at, last_error=reason[:500]
    )


def mark_dead(conn: Connection, row_id: int, token: str, reason: str) -> bool:
    return _settle(conn, row_id, token, status=S.DEAD.value, last_error=reason[:500])


def postpone(conn: Connection, row_id: int, token: str, due_at: datetime, reason: str) -> bool:
    """Hand a claimed row back unsent (quiet hours, rate limit): the attempt does not count."""
    return _settle(
        conn,
        row_id,
        token,
        status=S.PENDING.value,
        due_at=due_at,
        attempts=T.c.attempts - 1,
        last_error=reason[:500],
    )


def sent_to_phone_since(conn: Connection, phone_hash: str, since: datetime) -> list[datetime]:
    """When notices to this phone were handed over since ``since``, oldest first."""
    rows = conn.execute(
        select(T.c.sent_at)
        .where(T.c.phone_hash == phone_hash, T.c.sent_at >= since, T.c.status == S.SENT.value)
        .order_by(T.c.sent_at)
    )
    return [r for r in rows.scalars() if r is not None]


def deliveries(
    conn: Connection,
    *,
    hall: str | None = None,
    channel: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[OutboxEntry]:
    """The delivery log, newest first, filtered by hall, channel, status and kind."""
    q = select(T)
    for column, value in ((T.c.hall, hall), (T.c.channel, channel), (T.c.status, status)):
        if value is not None:
            q = q.where(column == value)
    if kind is not None:
        q = q.where(T.c.kind == kind)
    if before_id is not None:
        q = q.where(T.c.id < before_id)
    return [_entry(r) for r in conn.execute(q.order_by(T.c.id.desc()).limit(limit))]


def entry(conn: Connection, row_id: int) -> OutboxEntry | None:
    row = conn.execute(select(T).where(T.c.id == row_id)).first()
    return None if row is None else _entry(row)


def requeue(conn: Connection, row_id: int, now: datetime) -> bool:
    """Replay a row: due now, attempts and age from zero (an admin's retry of a dead letter)."""
    done = conn.execute(
        update(T)
        .where(T.c.id == row_id, T.c.status != S.SENDING.value)
        .values(
            status=S.PENDING.value,
            due_at=now,
            attempts=0,
            first_tried_at=None,
            claim_token=None,
            lease_until=None,
            sent_at=None,
        )
    )
    return done.rowcount == 1


def counts(conn: Connection) -> dict[str, int]:
    """Rows per status (for the metrics gauge)."""
    rows = conn.execute(select(T.c.status, func.count()).group_by(T.c.status))
    return {status: int(n) for status, n in rows}


def oldest_due(conn: Connection, now: datetime) -> datetime | None:
    q = select(func.min(T.c.due_at)).where(T.c.status.in_([S.PENDING.value, S.FAILED.value]))
    return conn.execute(q).scalar()


# -- contacts ----------------------------------------------------------------------------


def save_contact(conn: Connection, values: dict[str, Any]) -> None:
    """Keep (or replace) how to reach the citizen of one appointment or ticket."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(C).values(**values)
    keep = {k: stmt.excluded[k] for k in ("ciphertext", "key_id", "phone_hash", "purge_after")}
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["subject", "ref", "channel"], set_=keep)
    )


_CONTACTS = Prepared(
    select(C).where(
        C.c.subject == bindparam("subject"),
        C.c.ref == bindparam("ref"),
        C.c.ciphertext.is_not(None),
    )
)


def contacts(conn: Connection, subject: str, ref: str) -> Sequence[Any]:
    """Every address kept for an appointment or a ticket (purged ones have no ciphertext).

    Read for every ticket event with a notice (issue 16: compiled once); rows are read by
    attribute, like ``Row`` objects.
    """
    return _CONTACTS.rows(conn, {"subject": subject, "ref": ref})


def move_contacts(conn: Connection, subject: str, ref: str, to_subject: str, to_ref: str) -> None:
    """An appointment checked in becomes a ticket: its addresses follow (copied, not moved)."""
    for row in contacts(conn, subject, ref):
        values = {k: getattr(row, k) for k in ("hall", "channel", "ciphertext", "key_id")}
        values |= {"phone_hash": row.phone_hash, "lang": row.lang, "created_at": row.created_at}
        values |= {"purge_after": row.purge_after, "subject": to_subject, "ref": to_ref}
        save_contact(conn, values)


def purge(conn: Connection, now: datetime) -> int:
    """Drop ciphertexts whose time is up (contacts and settled outbox rows); hashes stay."""
    gone = conn.execute(
        update(C)
        .where(C.c.purge_after <= now, C.c.ciphertext.is_not(None))
        .values(ciphertext=None, key_id=None)
    ).rowcount
    gone += conn.execute(
        update(T)
        .where(
            T.c.purge_after <= now,
            T.c.to_ciphertext.is_not(None),
            T.c.status.in_([S.SENT.value, S.DEAD.value]),
        )
        .values(to_ciphertext=None, key_id=None)
    ).rowcount
    return int(gone)


def booked_starting_between(conn: Connection, after: datetime, until: datetime) -> list[Any]:
    """Bookings still held whose slot starts in (after, until]: the day-before reminders."""
    q = select(A.c.code, A.c.hall_id, A.c.service, A.c.slot_start).where(
        A.c.status == "booked", A.c.slot_start > after, A.c.slot_start <= until
    )
    return list(conn.execute(q))


def booked_on(conn: Connection, hall_id: int, day: Any) -> list[Any]:
    """Bookings still held for ``day`` in a hall (the hall closes that day), locked on PG."""
    q = select(A).where(A.c.hall_id == hall_id, A.c.business_date == day, A.c.status == "booked")
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    return list(conn.execute(q.order_by(A.c.slot_start)))


def remove_contact(conn: Connection, subject: str, ref: str, channel: str) -> bool:
    """Forget one address of an owner; whether there was one."""
    gone = conn.execute(
        delete(C).where(C.c.subject == subject, C.c.ref == ref, C.c.channel == channel)
    )
    return bool(gone.rowcount)
