"""The ``push_subscriptions`` table: one browser subscription per ticket or appointment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table, delete, insert, select

from queue_engine.adapters.orm import PushSubscriptionRow

P: Table = PushSubscriptionRow.__table__  # type: ignore[assignment]


def save(
    conn: Connection, kind: str, owner_id: str, hall: str, subscription: str, now: datetime
) -> None:
    """Store ``subscription`` for the owner, replacing an earlier one (the latest opt-in wins)."""
    conn.execute(delete(P).where(P.c.owner_kind == kind, P.c.owner_id == owner_id))
    conn.execute(
        insert(P).values(
            owner_kind=kind, owner_id=owner_id, hall=hall, subscription=subscription, created_at=now
        )
    )


def find(conn: Connection, kind: str, owner_id: str) -> str | None:
    row = conn.execute(
        select(P.c.subscription).where(P.c.owner_kind == kind, P.c.owner_id == owner_id)
    ).first()
    return None if row is None else str(row[0])


def remove(conn: Connection, kind: str, owner_id: str) -> bool:
    result = conn.execute(delete(P).where(P.c.owner_kind == kind, P.c.owner_id == owner_id))
    return bool(result.rowcount)
