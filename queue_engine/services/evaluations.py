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
from queue_engine.domain.access import Actor
from queue_engine.domain.errors import Conflict, NotFound
from queue_engine.domain.evaluations import (
    HANDOVER_CHANNEL,
    KEY_CHANNELS,
    CaseStatus,
    CaseView,
    RatingChannel,
    check_comment,
    check_score,
    choose_supervisor,
    follow_up_deadline,
    is_bad_review,
    is_overdue,
    key_channel,
    may_rate_visit,
    next_status,
    parse_action,
    rating_key,
    require_evaluator,
    window_rating_channel,
)
from queue_engine.domain.events import DomainEvent, EventType
from queue_engine.domain.model import HallConfig, Ticket, TicketStatus, format_number
from queue_engine.services.desk import Desk
from queue_engine.services.tickets import QueueEngine

EVALUATOR_MINUTES = 15  # how long after finishing the window's evaluator still offers a rating
VISIT_LOOKBACK = timedelta(days=1)  # a window's current visit was called within the last day
SOURCES = frozenset(RatingChannel) | {"ticket", "api"}  # "ticket", "api": ratings of old


@dataclass(frozen=True)
class Evaluation:
    id: int
    ticket_id: str
    ticket_number: str
    score: int
    comment: str
    case_id: int | None
    channel: str = "api"


class EvaluationDesk(Desk):
    """Ratings and follow-up cases of every hall in one database.

    ``secret`` keys the tickets' rating keys (``domain.evaluations.rating_key``); every process
    of a deployment must hold the same one (bootstrap derives it from the PII pepper).
    """

    def __init__(self, engine: QueueEngine, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the rating secret must be at least 16 bytes")
        self.engine = engine
        self.db: Database = engine.db
        self.secret = secret

    # -- rating keys -------------------------------------------------------------------------

    def rating_key(self, ticket_id: str, channel: RatingChannel) -> str:
        """The key the citizen gets with the ticket (the slip's QR code, an online answer)."""
        if channel not in KEY_CHANNELS:
            raise ValueError(f"no rating key is made for the channel {channel}")
        return rating_key(self.secret, ticket_id, channel)

    def holder_key(self, ticket_id: str, ticket_channel: str) -> str:
        """The key for the holder of a ticket taken by ``ticket_channel`` (kiosk, app, …)."""
        return self.rating_key(ticket_id, HANDOVER_CHANNEL.get(ticket_channel, RatingChannel.APP))

    def key_channel(self, ticket_id: str, key: str | None) -> RatingChannel:
        """Which hand-over's key this is (``Forbidden`` for a wrong or missing key)."""
        return key_channel(self.secret, ticket_id, key)

    # -- rating ------------------------------------------------------------------------------

    def evaluate(
        self, ticket_id: str, score: int, comment: str | None = None, source: str = "api"
    ) -> Evaluation:
        """Rate a finished ticket, once; a rating of 1 or 2 opens a follow-up case.

        The caller has checked who rates: ``evaluate_with_key`` and ``evaluate_window`` are
        the doors of the web; this is the desk behind them (and the CLI's and the tests').
        """
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

    def evaluate_with_key(
        self, ticket_id: str, key: str | None, score: int, comment: str | None = None
    ) -> Evaluation:
        """The citizen's rating with the ticket's rating key; the key tells the channel."""
        with UnitOfWork(self.db, write=False) as uow:
            repo.get_ticket_row(uow.conn, ticket_id)  # 404 before anything is said of keys
        channel = self.key_channel(ticket_id, key)
        return self.evaluate(ticket_id, score, comment, source=channel)

    def is_rated(self, ticket_id: str) -> bool:
        with UnitOfWork(self.db, write=False) as uow:
            return bookings.evaluation_of(uow.conn, ticket_id) is not None

    def evaluate_window(
        self, window_id: int, score: int, comment: str | None = None, *, by: Actor
    ) -> Evaluation:
        """Rate the window's current visit from its evaluator screen (``by`` is the session).

        The window's row is locked while the visit is chosen and rated, so a call at the
        window cannot slip in between and make an older visit look current.
        """
        score, text = check_score(score), check_comment(comment)
        try:
            with self.unit() as uow:
                record = repo.load_window(uow.conn, window_id, lock=True)
                device, window_clerk = record.row.evaluator_device, record.row.clerk
                require_evaluator(by, device, window_clerk)
                row = self._current_visit(uow, record)
                if row is None:
                    raise Conflict(
                        "no finished visit to rate at this window", code="nothing_to_rate"
                    )
                channel = window_rating_channel(by, device, window_clerk, row.clerk)
                config = self.db.hall_config_by_id(uow.conn, record.hall_id)
                result = self._rate(uow, record.hall_id, config, row, score, text, channel)
                self.engine.bus.commit(uow)
                return result
        except IntegrityError:
            raise Conflict("this visit has already been rated", code="already_rated") from None

    def pending_at_window(self, window_id: int, by: Actor | None = None) -> Ticket | None:
        """The window's current visit that waits for a rating, if any (and if ``by``, the
        session asking, may rate it: other sessions see nothing to rate)."""
        with UnitOfWork(self.db, write=False) as uow:
            record = repo.load_window(uow.conn, window_id, lock=False)
            row = self._current_visit(uow, record)
            if row is None:
                return None
            device, window_clerk = record.row.evaluator_device, record.row.clerk
            if by is not None and may_rate_visit(by, device, window_clerk, row.clerk) is None:
                return None
            config = self.db.hall_config_by_id(uow.conn, record.hall_id)
            return repo.ticket_from_row(row, config)

    def _current_visit(self, uow: UnitOfWork, record: repo.WindowRecord) -> Row[Any] | None:
        """The visit the window has just finished, if nobody has been called there since,
        it ended within ``EVALUATOR_MINUTES`` and nobody has rated it yet."""
        if record.row.current_ticket_id is not None:
            return None  # somebody is at the window (called or being served) now
        now = self.engine.clock.now()
        row = bookings.latest_visit_at_window(uow.conn, record.row.id, now - VISIT_LOOKBACK)
        if row is None or row.status != TicketStatus.DONE.value:
            return None
        if row.finished_at < now - timedelta(minutes=EVALUATOR_MINUTES):
            return None
        return None if bookings.evaluation_of(uow.conn, row.id) is not None else row

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
        channel = source if source in SOURCES else "api"
        uow.record(ticket.evaluated_event(score, comment, now, channel))
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
                "source": channel,
                "created_at": now,
                "excluded": False,
            },
        )
        case_id = None
        if is_bad_review(score):
            case_id = self._open_case(uow, hall_id, config, ticket, evaluation_id, now)
        return Evaluation(evaluation_id, ticket.id, ticket.number, score, comment, case_id, channel)

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
