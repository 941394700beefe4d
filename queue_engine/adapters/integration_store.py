"""Rows of the integrations (issue 20): API clients, webhook subscriptions, case numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, delete, insert, select, update

from queue_engine.adapters.orm import (
    ApiClientRow,
    CaseNumberRow,
    ServiceRow,
    WebhookSubscriptionRow,
)
from queue_engine.domain.integrations import ApiClient

C: Table = ApiClientRow.__table__  # type: ignore[assignment]
W: Table = WebhookSubscriptionRow.__table__  # type: ignore[assignment]
N: Table = CaseNumberRow.__table__  # type: ignore[assignment]
S: Table = ServiceRow.__table__  # type: ignore[assignment]


def _client(row: Row[Any]) -> ApiClient:
    return ApiClient(
        client_id=row.client_id,
        name=row.name,
        scopes=tuple(row.scopes or ()),
        halls=tuple(row.halls or ()),
        quotas=dict(row.quotas or {}),
        credential_version=row.credential_version,
        created_at=row.created_at,
        rotated_at=row.rotated_at,
        revoked_at=row.revoked_at,
    )


def add_client(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(C).values(**values))


def client(conn: Connection, client_id: str) -> ApiClient | None:
    row = conn.execute(select(C).where(C.c.client_id == client_id)).first()
    return None if row is None else _client(row)


def client_secret_hash(conn: Connection, client_id: str) -> str | None:
    value = conn.scalar(select(C.c.secret_hash).where(C.c.client_id == client_id))
    return None if value is None else str(value)


def clients(conn: Connection) -> list[ApiClient]:
    return [_client(r) for r in conn.execute(select(C).order_by(C.c.id))]


def update_client(conn: Connection, client_id: str, **values: Any) -> bool:
    bump = {"credential_version": C.c.credential_version + 1}
    result = conn.execute(update(C).where(C.c.client_id == client_id).values(**bump, **values))
    return bool(result.rowcount)


# -- webhook subscriptions -------------------------------------------------------------------


def add_subscription(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(W).values(**values).returning(W.c.id)).scalar_one())


def subscription(conn: Connection, sub_id: int) -> Row[Any] | None:
    return conn.execute(select(W).where(W.c.id == sub_id)).first()


def subscriptions(conn: Connection, client_id: str | None = None) -> list[Row[Any]]:
    query = select(W).order_by(W.c.id)
    if client_id is not None:
        query = query.where(W.c.client_id == client_id)
    return list(conn.execute(query))


def active_subscriptions(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(W).where(W.c.active.is_(True)).order_by(W.c.id)))


def update_subscription(conn: Connection, sub_id: int, **values: Any) -> bool:
    return bool(conn.execute(update(W).where(W.c.id == sub_id).values(**values)).rowcount)


def count_failure(conn: Connection, sub_id: int) -> int:
    """One more failed attempt in a row; the run's length."""
    conn.execute(update(W).where(W.c.id == sub_id).values(failures=W.c.failures + 1))
    return int(conn.scalar(select(W.c.failures).where(W.c.id == sub_id)) or 0)


def delete_subscription(conn: Connection, sub_id: int) -> bool:
    return bool(conn.execute(delete(W).where(W.c.id == sub_id)).rowcount)


# -- case numbers ----------------------------------------------------------------------------


def set_case_number(
    conn: Connection,
    *,
    ticket_id: str,
    segment: int,
    hall_id: int,
    case_number: str,
    by: str,
    at: datetime,
) -> str | None:
    """Attach (or replace) the case number of one matter; the one it replaced, if any."""
    where = (N.c.ticket_id == ticket_id) & (N.c.segment == segment)
    before = conn.scalar(select(N.c.case_number).where(where))
    if before is None:
        conn.execute(
            insert(N).values(
                ticket_id=ticket_id,
                segment=segment,
                hall_id=hall_id,
                case_number=case_number,
                set_by=by,
                set_at=at,
            )
        )
    else:
        conn.execute(update(N).where(where).values(case_number=case_number, set_by=by, set_at=at))
    return None if before is None else str(before)


def case_numbers(conn: Connection, ticket_ids: list[str]) -> dict[tuple[str, int], str]:
    """(ticket id, segment) -> case number, for these tickets."""
    if not ticket_ids:
        return {}
    rows = conn.execute(
        select(N.c.ticket_id, N.c.segment, N.c.case_number).where(N.c.ticket_id.in_(ticket_ids))
    )
    return {(r.ticket_id, r.segment): r.case_number for r in rows}


# -- the service catalogue -------------------------------------------------------------------


def service_catalogue(conn: Connection, hall_id: int) -> dict[str, tuple[str | None, str | None]]:
    """Service code -> (catalogue code 实施编码, department) of one hall."""
    rows = conn.execute(
        select(S.c.code, S.c.catalogue_code, S.c.department).where(S.c.hall_id == hall_id)
    )
    return {r.code: (r.catalogue_code, r.department) for r in rows}


def set_service_catalogue(
    conn: Connection, hall_id: int, code: str, catalogue_code: str, department: str
) -> None:
    conn.execute(
        update(S)
        .where((S.c.hall_id == hall_id) & (S.c.code == code))
        .values(catalogue_code=catalogue_code, department=department)
    )
