"""好差评 commands: rate a finished ticket, and work the follow-up case of a bad review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from queue_engine.adapters import citizen_records as bookings
from queue_engine.adapters import repository as repo
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.errors import Conflict, NotFound
from queue_engine.domain.evaluations import (
    CaseStatus,
    CaseView,
    check_comment,
    check_score,
    choose_supervisor,
    follow_up_deadline,
    is_bad_review,
    is_overdue,
    next_status,
    parse_action,
)
from queue_engine.domain.events import DomainEvent, EventType
from queue_engine.domain.model import HallConfig, Ticket, TicketStatus, format_number
from queue_engine.services.desk import Desk
from queue_engine.services.tickets import QueueEngine

EVALUATOR_MINUTES = 15  # how long after finishing the window's evaluator still offers a rating
SOURCES = frozenset({"evaluator", "ticket", "api"})


@dataclass(frozen=True)
class Evaluation:
    id: int
    ticket_id: str
    ticket_number: str
    score: int
    comment: str
    case_id: int | None


class EvaluationDesk(Desk):
    """Ratings and follow-up cases of every hall in one database."""

    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine
        self.db: Database = engine.db

    # -- rating ------------------------------------------------------------------------------

    def evaluate(
        self, ticket_id: str, score: int, comment: str | None = None, source: str = "api"
    ) -> Evaluation:
        """Rate a finished ticket, once; a rating of 1 or 2 opens a follow-up case."""
        score, text = check_score(score), check_comment(comment)
        try:
            with self.unit() as uow:
                row = repo.get_ticket_row(uow.conn, ticket_id)
                config = self.db.hall_config_by_id(uow.conn, row.hall_id)
                result = self._rate(uow, row.hall_id, config, row, score, text, source)
                self.engine.bus.commit(uow)
                return result
        except IntegrityError:
            raise Conflict("this visit has already been rated", code="already_rated") from None

    def is_rated(self, ticket_id: str) -> bool:
        with UnitOfWork(self.db, write=False) as uow:
            return bookings.evaluation_of(uow.conn, ticket_id) is not None

    def evaluate_window(self, window_id: int, score: int, comment: str | None = None) -> Evaluation:
        """Rate the ticket just finished at a window (the window's evaluator screen)."""
        with UnitOfWork(self.db, write=False) as uow:
            ticket_id = self._pending_at(uow, window_id)
        if ticket_id is None:
            raise Conflict("no finished visit to rate at this window", code="nothing_to_rate")
        return self.evaluate(ticket_id, score, comment, source="evaluator")

    def pending_at_window(self, window_id: int) -> Ticket | None:
        """The window's recently finished ticket that still waits for a rating, if any."""
        with UnitOfWork(self.db, write=False) as uow:
            record = repo.load_window(uow.conn, window_id, lock=False)
            ticket_id = self._pending_at(uow, window_id)
            if ticket_id is None:
                return None
            config = self.db.hall_config_by_id(uow.conn, record.hall_id)
            return repo.ticket_from_row(repo.get_ticket_row(uow.conn, ticket_id), config)

    def _pending_at(self, uow: UnitOfWork, window_id: int) -> str | None:
        repo.load_window(uow.conn, window_id, lock=False)  # 404 for unknown windows
        since = self.engine.clock.now() - timedelta(minutes=EVALUATOR_MINUTES)
        row = bookings.last_finished_at_window(uow.conn, window_id, since)
        return None if row is None else str(row.id)

    def _rate(
        self,
        uow: UnitOfWork,
        hall_id: int,
        config: HallConfig,
        row: Row[Any],
        score: int,
        comment: str,
        source: str,
    ) -> Evaluation:
        now = self.engine.clock.now()
        ticket = repo.ticket_from_row(row, config)
        if ticket.status is not TicketStatus.DONE:
            raise Conflict("only a finished visit can be rated", code="not_finished")
        if bookings.evaluation_of(uow.conn, ticket.id) is not None:
            raise Conflict("this visit has already been rated", code="already_rated")
        uow.record(ticket.evaluated_event(score, comment, now))
        evaluation_id = bookings.insert_evaluation(
            uow.conn,
            {
                "ticket_id": ticket.id,
                "hall_id": hall_id,
                "service": ticket.service,
                "window": ticket.window_label,
                "clerk": ticket.clerk,
                "score": score,
                "comment": comment,
                "source": source if source in SOURCES else "api",
                "created_at": now,
                "excluded": False,
            },
        )
        case_id = None
        if is_bad_review(score):
            case_id = self._open_case(uow, hall_id, config, ticket, evaluation_id, now)
        return Evaluation(evaluation_id, ticket.id, ticket.number, score, comment, case_id)

    def _open_case(
        self,
        uow: UnitOfWork,
        hall_id: int,
        config: HallConfig,
        ticket: Ticket,
        evaluation_id: int,
        now: datetime,
    ) -> int:
        rules = bookings.settings(uow.conn, hall_id)
        deadline = follow_up_deadline(config.business_date(now), rules.follow_up_working_days)
        supervisor = choose_supervisor(bookings.supervisor_loads(uow.conn, hall_id))
        case_id = bookings.insert_case(
            uow.conn,
            {
                "hall_id": hall_id,
                "evaluation_id": evaluation_id,
                "status": CaseStatus.OPEN.value,
                "supervisor": supervisor,
                "opened_at": now,
                "deadline": deadline,
                "updated_at": now,
                "note": "",
            },
        )
        uow.record(
            _case_event(
                EventType.CASE_OPENED,
                config.code,
                ticket,
                now,
                case=case_id,
                deadline=deadline.isoformat(),
                supervisor=supervisor,
            )
        )
        return case_id

    # -- follow-up cases ---------------------------------------------------------------------

    def cases(self, hall: str, *, include_final: bool = True) -> list[CaseView]:
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            rows = bookings.cases(uow.conn, hall_id, include_final)
            return [self._case_view(r, config) for r in rows]

    def overdue_cases(self, hall: str) -> list[CaseView]:
        return [c for c in self.cases(hall, include_final=False) if c.overdue]

    def case(self, case_id: int) -> CaseView:
        with UnitOfWork(self.db, write=False) as uow:
            row = bookings.case_by_id(uow.conn, case_id) if 0 < case_id < 2**31 else None
            if row is None:
                raise NotFound(f"no case {case_id}")
            return self._case_view(row, self.db.hall_config_by_id(uow.conn, row.hall_id))

    def act(
        self,
        case_id: int,
        action: str,
        actor: str,
        note: str = "",
        rerating: int | None = None,
    ) -> CaseView:
        """Move a case on: call-back, rectify, close (with the re-rating), or appeal (excluded)."""
        kind = parse_action(action)
        now = self.engine.clock.now()
        with self.unit() as uow:
            row = bookings.case_by_id(uow.conn, case_id, lock=True) if 0 < case_id < 2**31 else None
            if row is None:
                raise NotFound(f"no case {case_id}")
            config = self.db.hall_config_by_id(uow.conn, row.hall_id)
            status = next_status(CaseStatus(row.status), kind, note, rerating)
            local = now.astimezone(config.zone)  # notes are read by people in the hall
            notes = row.note + (
                f"\n[{local:%Y-%m-%d %H:%M}] {actor}: {note.strip()}" if note else ""
            )
            values: dict[str, Any] = {"status": status.value, "updated_at": now, "note": notes}
            if rerating is not None:
                values["rerating"] = rerating
            if not bookings.save_case(uow.conn, case_id, row.version, **values):
                raise Conflict("the case was changed meanwhile; reload it")
            if status is CaseStatus.EXCLUDED:
                bookings.exclude_evaluation(uow.conn, row.evaluation_id)
            ticket = repo.ticket_from_row(repo.get_ticket_row(uow.conn, row.ticket_id), config)
            payload: dict[str, Any] = {"case": case_id, "from": row.status, "to": status.value}
            if kind.value == "appeal":
                payload["reason"] = note.strip()
            if rerating is not None:
                payload["rerating"] = rerating
            uow.record(_case_event(EventType.CASE_CHANGED, config.code, ticket, now, **payload))
            self.engine.bus.commit(uow)
        return self.case(case_id)

    def _case_view(self, row: Row[Any], config: HallConfig) -> CaseView:
        status = CaseStatus(row.status)
        today = config.business_date(self.engine.clock.now())
        return CaseView(
            id=row.id,
            hall=config.code,
            ticket_number=format_number(row.prefix, row.seq),
            service=row.service,
            window=row.window,
            score=row.score,
            comment=row.comment,
            status=status,
            supervisor=row.supervisor,
            opened_at=row.opened_at,
            deadline=row.deadline,
            overdue=is_overdue(status, row.deadline, today),
            note=row.note,
            rerating=row.rerating,
        )


def _case_event(
    kind: EventType, hall: str, ticket: Ticket, now: datetime, **payload: Any
) -> DomainEvent:
    return DomainEvent(
        type=kind,
        hall=hall,
        ts=now,
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        service=ticket.service,
        window=ticket.window_label,
        payload=payload,
    )
