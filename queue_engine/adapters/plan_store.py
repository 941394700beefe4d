"""The planner's kept plans (``planner_plans``, issue 21)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, insert, select

from queue_engine.adapters.orm import PlannerPlanRow

P: Table = PlannerPlanRow.__table__  # type: ignore[assignment]


def insert_plan(
    conn: Connection,
    hall_id: int,
    first_day: date,
    last_day: date,
    minutes: int,
    source: str,
    created_by: str,
    created_at: datetime,
    plan: dict[str, Any],
) -> int:
    values = {
        "hall_id": hall_id,
        "first_day": first_day,
        "last_day": last_day,
        "interval_minutes": minutes,
        "source": source,
        "created_by": created_by,
        "created_at": created_at,
        "plan": plan,
    }
    return int(conn.execute(insert(P).values(**values).returning(P.c.id)).scalar_one())


HEAD = (P.c.id, P.c.first_day, P.c.last_day, P.c.interval_minutes, P.c.source, P.c.created_by,
        P.c.created_at)  # fmt: skip


def plans_of(conn: Connection, hall_id: int, limit: int) -> list[Row[Any]]:
    """A hall's plans, newest first (without their documents)."""
    stmt = select(*HEAD).where(P.c.hall_id == hall_id).order_by(P.c.id.desc()).limit(limit)
    return list(conn.execute(stmt))


def plan_of(conn: Connection, hall_id: int, plan_id: int) -> Row[Any] | None:
    stmt = select(P).where(P.c.hall_id == hall_id, P.c.id == plan_id)
    return conn.execute(stmt).first()
