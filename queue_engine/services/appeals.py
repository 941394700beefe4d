"""申诉复核 commands: file an appeal against a bad review, add evidence, decide it (a second
person: never the rated clerk, never the appellant). Upheld, the review leaves every figure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row

from queue_engine.adapters import citizen_records as bookings
from queue_engine.adapters import evaluation_store as store
from queue_engine.adapters import repository as repo
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import Actor
from queue_engine.domain.appeals import (
    AppealStatus,
    AppealView,
    EvidenceNote,
    check_can_file,
    check_evidence_room,
    check_note,
    check_pending,
    may_add_evidence,
    may_decide,
    may_file,
    parse_decision,
)
from queue_engine.domain.errors import Conflict, InvalidTransition, NotFound
from queue_engine.domain.evaluations import APPEALABLE, CaseStatus
from queue_engine.domain.events import EventType
from queue_engine.services.desk import Desk
from queue_engine.services.evaluations import case_event
from queue_engine.services.tickets import QueueEngine


class AppealDesk(Desk):
    """Appeals of every hall's bad reviews; each step a ``case.changed`` event and audited."""

    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine
        self.db: Database = engine.db

    def appeals(self, case_id: int) -> list[AppealView]:
        with UnitOfWork(self.db, write=False) as uow:
            self._case(uow, case_id)
            return [_view(r) for r in store.appeals_of(uow.conn, case_id)]

    def hall_of_case(self, case_id: int) -> str:
        with UnitOfWork(self.db, write=False) as uow:
            row = self._case(uow, case_id)
            return self.db.hall_config_by_id(uow.conn, row.hall_id).code

    def hall_of_appeal(self, appeal_id: int) -> str:
        with UnitOfWork(self.db, write=False) as uow:
            appeal = self._appeal(uow, appeal_id, lock=False)
            row = self._case(uow, appeal.case_id)
            return self.db.hall_config_by_id(uow.conn, row.hall_id).code

    def file(self, case_id: int, by: Actor, reason: str | None) -> AppealView:
        text = check_note(reason, "an appeal")
        now = self.engine.clock.now()
        with self.unit() as uow:
            case = self._case(uow, case_id, lock=True)
            may_file(by, case.clerk)
            if CaseStatus(case.status) not in APPEALABLE:
                raise InvalidTransition(f"a case that is {case.status} cannot be appealed")
            earlier = store.appeals_of(uow.conn, case_id)
            pending = any(a.status == AppealStatus.PENDING.value for a in earlier)
            check_can_file(pending, sum(a.status != AppealStatus.PENDING.value for a in earlier))
            appeal_id = store.insert_appeal(
                uow.conn,
                {
                    "case_id": case_id,
                    "status": AppealStatus.PENDING.value,
                    "filed_by": by.username,
                    "filed_at": now,
                    "reason": text,
                    "evidence": [],
                    "decision_note": "",
                },
            )
            self._record(uow, case, now, appeal=appeal_id, step="filed", reason=text)
            self.engine.bus.commit(uow)
        return self.appeal(appeal_id)

    def add_evidence(self, appeal_id: int, by: Actor, text: str | None) -> AppealView:
        note = check_note(text, "an evidence note")
        now = self.engine.clock.now()
        with self.unit() as uow:
            appeal = self._appeal(uow, appeal_id, lock=True)
            case = self._case(uow, appeal.case_id)
            check_pending(AppealStatus(appeal.status))
            may_add_evidence(by, appeal.filed_by, case.clerk)
            check_evidence_room(len(appeal.evidence))
            entry = {"by": by.username, "at": now.isoformat(), "text": note}
            if not store.save_appeal(
                uow.conn, appeal_id, appeal.version, evidence=[*appeal.evidence, entry]
            ):
                raise Conflict("the appeal was changed meanwhile; reload it")
            self._record(uow, case, now, appeal=appeal_id, step="evidence")
            self.engine.bus.commit(uow)
        return self.appeal(appeal_id)

    def decide(self, appeal_id: int, by: Actor, decision: str, note: str | None) -> AppealView:
        """Upheld: the review and its case are excluded from every figure; rejected: they stay."""
        outcome = parse_decision(decision)
        text = check_note(note, "a decision")
        now = self.engine.clock.now()
        with self.unit() as uow:
            appeal = self._appeal(uow, appeal_id, lock=True)
            case = self._case(uow, appeal.case_id, lock=True)
            check_pending(AppealStatus(appeal.status))
            may_decide(by, appeal.filed_by, case.clerk)
            values = {"status": outcome.value, "decided_by": by.username, "decided_at": now}
            if not store.save_appeal(
                uow.conn, appeal_id, appeal.version, decision_note=text, **values
            ):
                raise Conflict("the appeal was changed meanwhile; reload it")
            if outcome is AppealStatus.UPHELD:
                if not bookings.save_case(
                    uow.conn,
                    case.id,
                    case.version,
                    status=CaseStatus.EXCLUDED.value,
                    updated_at=now,
                ):
                    raise Conflict("the case was changed meanwhile; reload it")
                bookings.exclude_evaluation(uow.conn, case.evaluation_id)
            self._record(
                uow,
                case,
                now,
                appeal=appeal_id,
                step=outcome.value,
                reason=text,
                **(
                    {"from": case.status, "to": CaseStatus.EXCLUDED.value}
                    if outcome is AppealStatus.UPHELD
                    else {}
                ),
            )
            self.engine.bus.commit(uow)
        return self.appeal(appeal_id)

    def appeal(self, appeal_id: int) -> AppealView:
        with UnitOfWork(self.db, write=False) as uow:
            return _view(self._appeal(uow, appeal_id, lock=False))

    # -- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _case(uow: UnitOfWork, case_id: int, lock: bool = False) -> Row[Any]:
        row = bookings.case_by_id(uow.conn, case_id, lock=lock) if 0 < case_id < 2**31 else None
        if row is None:
            raise NotFound(f"no case {case_id}")
        return row

    @staticmethod
    def _appeal(uow: UnitOfWork, appeal_id: int, lock: bool) -> Row[Any]:
        row = store.appeal_by_id(uow.conn, appeal_id, lock=lock) if 0 < appeal_id < 2**31 else None
        if row is None:
            raise NotFound(f"no appeal {appeal_id}")
        return row

    def _record(self, uow: UnitOfWork, case: Row[Any], now: datetime, **payload: Any) -> None:
        config = self.db.hall_config_by_id(uow.conn, case.hall_id)
        ticket = repo.ticket_from_row(repo.get_ticket_row(uow.conn, case.ticket_id), config)
        kind = EventType.CASE_CHANGED
        uow.record(case_event(kind, config.code, ticket, now, case=case.id, **payload))


def _view(row: Row[Any]) -> AppealView:
    return AppealView(
        id=row.id,
        case_id=row.case_id,
        status=AppealStatus(row.status),
        filed_by=row.filed_by,
        filed_at=row.filed_at,
        reason=row.reason,
        evidence=tuple(
            EvidenceNote(e["by"], datetime.fromisoformat(e["at"]), e["text"]) for e in row.evidence
        ),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_note=row.decision_note,
    )
