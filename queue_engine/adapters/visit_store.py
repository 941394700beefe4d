"""The ``ticket_visits`` table: a ticket's matters and its citizen (hash and masks only)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, insert, select, text, update

from queue_engine.adapters.orm import TicketRow, TicketVisitRow
from queue_engine.adapters.prepared import Prepared
from queue_engine.domain.model import TicketStatus, format_number
from queue_engine.domain.visits import Citizen, Visit

V: Table = TicketVisitRow.__table__  # type: ignore[assignment]
_VISIT = Prepared(select(V).where(V.c.ticket_id == bindparam("ticket_id")))  # every answer
T: Table = TicketRow.__table__  # type: ignore[assignment]

LIVE_STATUSES = (
    TicketStatus.WAITING.value,
    TicketStatus.CALLED.value,
    TicketStatus.SERVING.value,
)


@dataclass(frozen=True)
class VisitRecord:
    visit: Visit
    citizen_hash: str | None
    proxy_hash: str | None
    masked_id: str | None
    masked_name: str | None
    age_band: str | None


def insert_visit(
    conn: Connection,
    ticket_id: str,
    hall_id: int,
    day: date,
    visit: Visit,
    citizen: Citizen | None,
    proxy: Citizen | None,
) -> None:
    conn.execute(
        insert(V).values(
            ticket_id=ticket_id,
            hall_id=hall_id,
            business_date=day,
            segments=visit.to_list(),
            segment_index=visit.index,
            citizen_hash=citizen.hash if citizen else None,
            proxy_hash=proxy.hash if proxy else None,
            masked_id=citizen.masked_id if citizen else None,
            masked_name=citizen.masked_name if citizen else None,
            age_band=citizen.band if citizen else None,
        )
    )


def insert_checked_in(
    conn: Connection,
    ticket_id: str,
    hall_id: int,
    day: date,
    service: str,
    id_hash: str,
    masks: tuple[str | None, str | None],
) -> None:
    """The visit of an appointment's check-in: its booking's ID hash and masks (no age known)."""
    conn.execute(
        insert(V).values(
            ticket_id=ticket_id,
            hall_id=hall_id,
            business_date=day,
            segments=Visit.of([service]).to_list(),
            segment_index=0,
            citizen_hash=id_hash,
            masked_id=masks[0],
            masked_name=masks[1],
        )
    )


def save_visit(conn: Connection, ticket_id: str, visit: Visit) -> None:
    conn.execute(
        update(V)
        .where(V.c.ticket_id == ticket_id)
        .values(segments=visit.to_list(), segment_index=visit.index)
    )


def load_visit(conn: Connection, ticket_id: str) -> VisitRecord | None:
    row = _VISIT.first(conn, {"ticket_id": ticket_id})
    return None if row is None else _record(row)


def visits_of(conn: Connection, ticket_ids: Sequence[str]) -> dict[str, VisitRecord]:
    if not ticket_ids:
        return {}
    rows = conn.execute(select(V).where(V.c.ticket_id.in_(list(ticket_ids))))
    return {r.ticket_id: _record(r) for r in rows}


def _record(row: Any) -> VisitRecord:
    return VisitRecord(
        Visit.from_list(row.segments, row.segment_index),
        row.citizen_hash,
        row.proxy_hash,
        row.masked_id,
        row.masked_name,
        row.age_band,
    )


def lock_citizen(conn: Connection, citizen_hash: str) -> None:
    """Serialise the requests of one citizen until this transaction ends.

    PostgreSQL: a transaction-level advisory lock on the hash. SQLite: every write transaction
    already holds the database's write lock (``BEGIN IMMEDIATE``).
    """
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(citizen_hash.encode()).digest()[:8], "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def live_tickets_of(
    conn: Connection, hall_id: int, day: date, citizen_hash: str
) -> list[tuple[str, list[str]]]:
    """The citizen's live tickets today: (number prefix+seq, services not yet done)."""
    rows = conn.execute(
        select(T.c.prefix, T.c.seq, V.c.segments, V.c.segment_index)
        .join(V, V.c.ticket_id == T.c.id)
        .where(
            V.c.hall_id == hall_id,
            V.c.business_date == day,
            V.c.citizen_hash == citizen_hash,
            T.c.status.in_(LIVE_STATUSES),
        )
        .order_by(T.c.issued_at)
    )
    return [
        (format_number(r.prefix, r.seq), [s["service"] for s in r.segments[r.segment_index :]])
        for r in rows
    ]


def ticket_id_by_number(
    conn: Connection, hall_id: int, day: date, prefix: str, seq: int
) -> str | None:
    """Today's ticket of a number (``A023`` → prefix ``A``, seq 23), if any."""
    row = conn.execute(
        select(T.c.id).where(
            T.c.hall_id == hall_id,
            T.c.business_date == day,
            T.c.prefix == prefix,
            T.c.seq == seq,
        )
    ).first()
    return None if row is None else str(row[0])


def service_use(conn: Connection, hall_id: int, since: date) -> dict[str, int]:
    """Tickets issued per service (first service of the visit) since the business day ``since``."""
    rows = conn.execute(
        select(T.c.service, func.count())
        .where(T.c.hall_id == hall_id, T.c.business_date >= since)
        .group_by(T.c.service)
    )
    return {str(service): int(n) for service, n in rows}


def held_at(conn: Connection, window_id: int) -> list[tuple[str, str, str]]:
    """Tickets on hold (挂起) for ``window_id``: (id, number, service), the earliest first."""
    rows = conn.execute(
        select(T.c.id, T.c.prefix, T.c.seq, T.c.service)
        .where(T.c.status == TicketStatus.HELD.value, T.c.target_window_id == window_id)
        .order_by(T.c.issued_at)
    )
    return [(str(r.id), format_number(r.prefix, r.seq), str(r.service)) for r in rows]
