"""The planner's plans, kept (issue 21): each plan the planner computes is stored with its
hall and days, so that once the days are over it can be set against what happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from queue_engine.adapters import plan_store as store
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import Clock
from queue_engine.domain.errors import NotFound
from queue_engine.services.desk import Desk


@dataclass(frozen=True)
class KeptPlan:
    id: int
    hall: str
    first_day: date
    last_day: date
    interval_minutes: int
    source: str
    created_by: str
    created_at: datetime
    plan: dict[str, Any] | None = None  # the API's answer (only when one plan is read)


class PlanBook(Desk):
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def keep(
        self,
        hall: str,
        first_day: date,
        last_day: date,
        minutes: int,
        source: str,
        created_by: str,
        plan: dict[str, Any],
    ) -> int:
        """Store a plan; its id."""
        with self.unit() as uow:
            hall_id, _ = self.db.hall_config(uow.conn, hall)
            plan_id = store.insert_plan(
                uow.conn, hall_id, first_day, last_day, minutes, source, created_by[:64],
                self.clock.now(), plan,
            )  # fmt: skip
            uow.record_audit(self.clock.now(), {"planner_plan": plan_id})
            uow.commit()
        return plan_id

    def plans(self, hall: str, limit: int = 50) -> list[KeptPlan]:
        """The hall's plans, newest first."""
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            rows = store.plans_of(uow.conn, hall_id, limit)
        return [KeptPlan(r.id, config.code, *tuple(r)[1:]) for r in rows]

    def plan(self, hall: str, plan_id: int) -> KeptPlan:
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            row = store.plan_of(uow.conn, hall_id, plan_id)
        if row is None:
            raise NotFound(f"no plan {plan_id} of hall {hall}")
        return KeptPlan(
            row.id, config.code, row.first_day, row.last_day, row.interval_minutes, row.source,
            row.created_by, row.created_at, row.plan,
        )  # fmt: skip
