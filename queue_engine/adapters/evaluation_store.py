"""好差评 rules, appeals, invitations, 效能监察 cards, black flags and 约谈, with SQLAlchemy Core.

The ratings and cases themselves live in ``citizen_records`` (as since the first version);
this module keeps what the national rules added around them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, and_, delete, func, insert, or_, select, update

from queue_engine.adapters.orm import (
    AppealRow,
    BlackFlagRow,
    EfficiencyCardRow,
    EvaluationRow,
    EvaluationRulesRow,
    EventRow,
    FollowUpCaseRow,
    InterviewRow,
    RatingInvitationRow,
    TicketVisitRow,
)
from queue_engine.adapters.repository import T
from queue_engine.domain.evaluation_rules import EvaluationRules

R: Table = EvaluationRulesRow.__table__  # type: ignore[assignment]
P: Table = AppealRow.__table__  # type: ignore[assignment]
INV: Table = RatingInvitationRow.__table__  # type: ignore[assignment]
K: Table = EfficiencyCardRow.__table__  # type: ignore[assignment]
B: Table = BlackFlagRow.__table__  # type: ignore[assignment]
IR: Table = InterviewRow.__table__  # type: ignore[assignment]
V: Table = EvaluationRow.__table__  # type: ignore[assignment]
EV: Table = EventRow.__table__  # type: ignore[assignment]
F: Table = FollowUpCaseRow.__table__  # type: ignore[assignment]
TV: Table = TicketVisitRow.__table__  # type: ignore[assignment]


# ---- rules ---------------------------------------------------------------------------------


def rules(conn: Connection, hall_id: int) -> EvaluationRules:
    data = conn.execute(select(R.c.rules).where(R.c.hall_id == hall_id)).scalar()
    return EvaluationRules.from_mapping(data)


def save_rules(
    conn: Connection, hall_id: int, value: EvaluationRules, by: str, now: datetime
) -> None:
    values = {"rules": value.to_mapping(), "updated_at": now, "updated_by": by}
    changed = conn.execute(update(R).where(R.c.hall_id == hall_id).values(**values)).rowcount
    if not changed:
        conn.execute(insert(R).values(hall_id=hall_id, **values))


# ---- ratings -------------------------------------------------------------------------------


def evaluation_by_id(
    conn: Connection, evaluation_id: int, *, lock: bool = False
) -> Row[Any] | None:
    stmt = select(V).where(V.c.id == evaluation_id)
    return conn.execute(stmt.with_for_update() if lock else stmt).first()


def save_follow_up(conn: Connection, evaluation_id: int, comment: str, now: datetime) -> bool:
    """追评 once: only a rating without one takes it (the WHERE makes two racing ones one)."""
    result = conn.execute(
        update(V)
        .where(V.c.id == evaluation_id, V.c.follow_up_at.is_(None))
        .values(follow_up_comment=comment, follow_up_at=now)
    )
    return bool(result.rowcount == 1)


def case_of_evaluation(conn: Connection, evaluation_id: int) -> Row[Any] | None:
    return conn.execute(select(F).where(F.c.evaluation_id == evaluation_id)).first()


def ratings_between(
    conn: Connection, hall_id: int, start: datetime, end: datetime
) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(V).where(V.c.hall_id == hall_id, V.c.created_at >= start, V.c.created_at < end)
        )
    )


@dataclass(frozen=True)
class FinishedCount:
    """Services finished on a business date, of a service, at a window (by id, or by its
    label for the services of a visit of several, from their ``ticket.finished``)."""

    business_date: date
    service: str
    window_id: int | None
    n: int
    window: str | None = None


def finished_between(
    conn: Connection, hall_id: int, first: date, last: date
) -> list[FinishedCount]:
    """Finished services per business date, service and window (the 主动评价率's denominator):
    a plain ticket counts once when done; a visit of several services once per service it
    finished (一次一评), at the window that finished that service, whatever became of the
    ticket afterwards."""
    visits = conn.execute(
        select(TV.c.ticket_id, TV.c.business_date, TV.c.segments).where(
            TV.c.hall_id == hall_id, TV.c.business_date >= first, TV.c.business_date <= last
        )
    )
    several = {v.ticket_id: v for v in visits if len(v.segments or ()) > 1}
    plain = conn.execute(
        select(T.c.business_date, T.c.service, T.c.window_id, func.count().label("n"))
        .where(
            T.c.hall_id == hall_id,
            T.c.status == "done",
            T.c.business_date >= first,
            T.c.business_date <= last,
            T.c.id.not_in(list(several)),
        )
        .group_by(T.c.business_date, T.c.service, T.c.window_id)
    )
    counts = [FinishedCount(r.business_date, r.service, r.window_id, r.n) for r in plain]
    windows: dict[tuple[str, int], str | None] = {}
    if several:
        rows = conn.execute(
            select(EV.c.ticket_id, EV.c.payload, EV.c.window, EV.c.clerk, EV.c.ts)
            .where(EV.c.ticket_id.in_(list(several)), EV.c.type == "ticket.finished")
            .order_by(EV.c.id)
        )
        windows = {(f.ticket_id, f.segment): f.window for f in map(_finish, rows)}
    for ticket_id, visit in several.items():
        for index, segment in enumerate(visit.segments):
            if segment.get("status") == "done":
                window = windows.get((ticket_id, index))
                counts.append(
                    FinishedCount(visit.business_date, str(segment["service"]), None, 1, window)
                )
    return counts


def cases_of_evaluations(conn: Connection, evaluation_ids: Iterable[int]) -> dict[int, Row[Any]]:
    ids = list(evaluation_ids)
    if not ids:
        return {}
    rows = conn.execute(select(F).where(F.c.evaluation_id.in_(ids)))
    return {r.evaluation_id: r for r in rows}


def cases_of_ratings_between(
    conn: Connection, hall_id: int, start: datetime, end: datetime
) -> dict[int, Row[Any]]:
    """The cases of the ratings made in [start, end), by evaluation id."""
    rows = conn.execute(
        select(F)
        .join(V, V.c.id == F.c.evaluation_id)
        .where(V.c.hall_id == hall_id, V.c.created_at >= start, V.c.created_at < end)
    )
    return {r.evaluation_id: r for r in rows}


def moved_between(conn: Connection, hall_id: int, start: datetime, end: datetime) -> list[Row[Any]]:
    """Ratings made in [start, end) or whose case changed then (the day's export)."""
    changed = select(F.c.evaluation_id).where(
        F.c.hall_id == hall_id, F.c.updated_at >= start, F.c.updated_at < end
    )
    return list(
        conn.execute(
            select(V)
            .where(
                V.c.hall_id == hall_id,
                or_(
                    and_(V.c.created_at >= start, V.c.created_at < end),
                    V.c.follow_up_at.between(start, end),
                    V.c.id.in_(changed),
                ),
            )
            .order_by(V.c.id)
        )
    )


# ---- invitations -----------------------------------------------------------------------------


def invitation(conn: Connection, ticket_id: str, segment: int) -> Row[Any] | None:
    return conn.execute(
        select(INV).where(INV.c.ticket_id == ticket_id, INV.c.segment == segment)
    ).first()


def invitation_by_key_hash(conn: Connection, key_hash: str) -> Row[Any] | None:
    return conn.execute(select(INV).where(INV.c.key_hash == key_hash).limit(1)).first()


def insert_invitation(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(INV).values(**values))


def mark_left(conn: Connection, ticket_id: str, segment: int, at: datetime) -> bool:
    """The clerk's "rate later" on a visit already invited by SMS: off the evaluator now."""
    result = conn.execute(
        update(INV)
        .where(INV.c.ticket_id == ticket_id, INV.c.segment == segment, INV.c.left_at.is_(None))
        .values(left_at=at)
    )
    return bool(result.rowcount == 1)


# ---- appeals --------------------------------------------------------------------------------


def appeals_of(conn: Connection, case_id: int) -> list[Row[Any]]:
    return list(conn.execute(select(P).where(P.c.case_id == case_id).order_by(P.c.id)))


def appeal_by_id(conn: Connection, appeal_id: int, *, lock: bool = False) -> Row[Any] | None:
    stmt = select(P).where(P.c.id == appeal_id)
    return conn.execute(stmt.with_for_update() if lock else stmt).first()


def insert_appeal(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(P).values(**values, version=1).returning(P.c.id)).scalar_one())


def save_appeal(conn: Connection, appeal_id: int, version: int, **values: Any) -> bool:
    result = conn.execute(
        update(P)
        .where(P.c.id == appeal_id, P.c.version == version)
        .values(version=version + 1, **values)
    )
    return bool(result.rowcount == 1)


def latest_appeals(conn: Connection, case_ids: Iterable[int]) -> dict[int, str]:
    ids = list(case_ids)
    if not ids:
        return {}
    rows = conn.execute(
        select(P.c.case_id, P.c.status).where(P.c.case_id.in_(ids)).order_by(P.c.id)
    )
    return {case_id: status for case_id, status in rows}


# ---- cards ----------------------------------------------------------------------------------


def card_keys(conn: Connection, hall_id: int) -> set[tuple[int, str, str]]:
    rows = conn.execute(select(K.c.case_id, K.c.colour, K.c.reason).where(K.c.hall_id == hall_id))
    return {(r.case_id, r.colour, r.reason) for r in rows}


def insert_card(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(K).values(**values).returning(K.c.id)).scalar_one())


def set_notice(conn: Connection, card_id: int, number: str, pdf: bytes) -> None:
    conn.execute(update(K).where(K.c.id == card_id).values(notice_number=number, notice_pdf=pdf))


_CARD_COLUMNS = [c for c in K.c if c.name != "notice_pdf"]


def cards(conn: Connection, hall_id: int, month: str | None = None) -> list[Row[Any]]:
    stmt = select(*_CARD_COLUMNS).where(K.c.hall_id == hall_id).order_by(K.c.id)
    if month is not None:
        stmt = stmt.where(K.c.month == month)
    return list(conn.execute(stmt))


def cards_of_case(conn: Connection, case_id: int) -> list[Row[Any]]:
    return list(conn.execute(select(*_CARD_COLUMNS).where(K.c.case_id == case_id).order_by(K.c.id)))


def notice_of(conn: Connection, card_id: int) -> Row[Any] | None:
    row: Row[Any] | None = conn.execute(select(K).where(K.c.id == card_id)).first()
    return row


# ---- black flags and 约谈 -------------------------------------------------------------------


def save_black_flags(
    conn: Connection, hall_id: int, month: str, flags: dict[str, str], now: datetime
) -> None:
    """The month's black flags as the ranking gave them: {window: department}, replacing any."""
    conn.execute(delete(B).where(B.c.hall_id == hall_id, B.c.month == month))
    for window, department in flags.items():
        conn.execute(
            insert(B).values(
                hall_id=hall_id, month=month, window=window, department=department, recorded_at=now
            )
        )


def black_flags(conn: Connection, hall_id: int, months: Iterable[str]) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(B)
            .where(B.c.hall_id == hall_id, B.c.month.in_(list(months)))
            .order_by(B.c.window)
        )
    )


def interview_exists(conn: Connection, hall_id: int, department: str, month: str) -> bool:
    return (
        conn.execute(
            select(IR.c.id).where(
                IR.c.hall_id == hall_id, IR.c.department == department, IR.c.month == month
            )
        ).first()
        is not None
    )


def insert_interview(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(IR).values(**values).returning(IR.c.id)).scalar_one())


def interviews(conn: Connection, hall_id: int) -> list[Row[Any]]:
    return list(conn.execute(select(IR).where(IR.c.hall_id == hall_id).order_by(IR.c.id)))


# -- service segments (一次一评, issue 19) ------------------------------------------------------


@dataclass(frozen=True)
class SegmentFinish:
    """Where and when one service segment of a ticket was finished (its ``ticket.finished``)."""

    ticket_id: str
    segment: int
    window: str | None
    clerk: str | None
    ts: datetime


def _finish(row: Any) -> SegmentFinish:
    payload = row.payload if isinstance(row.payload, dict) else json.loads(row.payload or "{}")
    segment = payload.get("segment", 0)
    return SegmentFinish(
        row.ticket_id, segment if isinstance(segment, int) else 0, row.window, row.clerk, row.ts
    )


def segment_finishes(conn: Connection, ticket_id: str) -> dict[int, SegmentFinish]:
    """Each finished segment of a ticket by index (the last finish of each wins)."""
    rows = conn.execute(
        select(EV.c.ticket_id, EV.c.payload, EV.c.window, EV.c.clerk, EV.c.ts)
        .where(EV.c.ticket_id == ticket_id, EV.c.type == "ticket.finished")
        .order_by(EV.c.id)
    )
    return {f.segment: f for f in map(_finish, rows)}


def latest_finish_at_window(
    conn: Connection, hall: str, window: str, since: datetime
) -> SegmentFinish | None:
    """The service segment a window finished last (since ``since``), from the event log: a
    multi-service ticket leaves the window at once for its next service."""
    row = conn.execute(
        select(EV.c.ticket_id, EV.c.payload, EV.c.window, EV.c.clerk, EV.c.ts)
        .where(
            EV.c.hall == hall,
            EV.c.window == window,
            EV.c.type == "ticket.finished",
            EV.c.ts >= since,
        )
        .order_by(EV.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _finish(row)
