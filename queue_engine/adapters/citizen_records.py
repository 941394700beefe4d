"""Appointments, slot counters, evaluations and follow-up cases, with SQLAlchemy Core.

A slot never overfills because a booking raises its slot's counter with one conditional
``UPDATE … SET booked = booked + 1 WHERE booked < capacity`` in the same transaction as the
booking's insert: on PostgreSQL the row lock makes concurrent bookings of one slot take turns
(and re-check the condition), on SQLite every write transaction holds the database lock.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, and_, bindparam, func, insert, select, update

from queue_engine.adapters.orm import (
    AppointmentRow,
    EvaluationRow,
    FollowUpCaseRow,
    HallSettingsRow,
    SlotCounterRow,
    UserRow,
)
from queue_engine.adapters.prepared import Prepared
from queue_engine.adapters.repository import T
from queue_engine.domain.appointments import AppointmentSettings, AppointmentStatus, MissedBooking
from queue_engine.domain.evaluations import CaseStatus

A: Table = AppointmentRow.__table__  # type: ignore[assignment]
C: Table = SlotCounterRow.__table__  # type: ignore[assignment]
V: Table = EvaluationRow.__table__  # type: ignore[assignment]
F: Table = FollowUpCaseRow.__table__  # type: ignore[assignment]
S: Table = HallSettingsRow.__table__  # type: ignore[assignment]
U: Table = UserRow.__table__  # type: ignore[assignment]


_SETTINGS = Prepared(select(S.c.appointments).where(S.c.hall_id == bindparam("hall_id")))
_BOOKING_OF_TICKET = Prepared(select(A).where(A.c.ticket_id == bindparam("ticket_id")))


def settings(conn: Connection, hall_id: int) -> AppointmentSettings:
    row = _SETTINGS.first(conn, {"hall_id": hall_id})
    return AppointmentSettings.from_mapping(None if row is None else row[0])


def save_settings(conn: Connection, hall_id: int, value: AppointmentSettings) -> None:
    data = value.to_mapping()
    if conn.execute(update(S).where(S.c.hall_id == hall_id).values(appointments=data)).rowcount:
        return
    conn.execute(insert(S).values(hall_id=hall_id, appointments=data))


# ---- slots ---------------------------------------------------------------------------------


def _ensure_counter(conn: Connection, hall_id: int, service: str, start: datetime) -> None:
    dialect: Any = importlib.import_module(f"sqlalchemy.dialects.{conn.dialect.name}")
    conn.execute(
        dialect.insert(C)
        .values(hall_id=hall_id, service=service, slot_start=start, booked=0)
        .on_conflict_do_nothing(index_elements=["hall_id", "service", "slot_start"])
    )


def take_place(
    conn: Connection, hall_id: int, service: str, start: datetime, capacity: int
) -> bool:
    """Hold one place of a slot if one is free (row-locked until the transaction ends)."""
    _ensure_counter(conn, hall_id, service, start)
    result = conn.execute(
        update(C)
        .where(
            C.c.hall_id == hall_id,
            C.c.service == service,
            C.c.slot_start == start,
            C.c.booked < capacity,
        )
        .values(booked=C.c.booked + 1)
    )
    return bool(result.rowcount == 1)


def release_place(conn: Connection, hall_id: int, service: str, start: datetime) -> None:
    conn.execute(
        update(C)
        .where(
            C.c.hall_id == hall_id, C.c.service == service, C.c.slot_start == start, C.c.booked > 0
        )
        .values(booked=C.c.booked - 1)
    )


def booked_counts(
    conn: Connection, hall_id: int, service: str, starts: Iterable[datetime]
) -> dict[datetime, int]:
    wanted = list(starts)
    if not wanted:
        return {}
    rows = conn.execute(
        select(C.c.slot_start, C.c.booked).where(
            C.c.hall_id == hall_id,
            C.c.service == service,
            C.c.slot_start.between(min(wanted), max(wanted)),
        )
    )
    return {r[0]: r[1] for r in rows}


# ---- appointments --------------------------------------------------------------------------


def insert_appointment(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(A).values(**values, version=1))


def by_code(conn: Connection, code: str, *, lock: bool = False) -> Row[Any] | None:
    stmt = select(A).where(A.c.code == code)
    if lock:
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first()


def holding_booking(
    conn: Connection, hall_id: int, service: str, day: date, person: str
) -> Row[Any] | None:
    return conn.execute(
        select(A.c.id).where(
            A.c.hall_id == hall_id,
            A.c.service == service,
            A.c.business_date == day,
            A.c.person_key == person,
        )
    ).first()


def no_show_history(conn: Connection, id_hash: str, since: datetime) -> list[MissedBooking]:
    """The no-shows under an ID number since ``since``, with their phones and verification."""
    rows = conn.execute(
        select(A.c.no_show_at, A.c.phone_hash, A.c.verified_at).where(
            A.c.id_hash == id_hash,
            A.c.status == AppointmentStatus.NO_SHOW.value,
            A.c.no_show_at >= since,
        )
    )
    return [MissedBooking(r[0], r[1], r[2] is not None) for r in rows]


def verified_phones(conn: Connection, id_hash: str) -> dict[str, datetime]:
    """The phones (hashes) of an ID number's verified bookings: phone → first verified."""
    rows = conn.execute(
        select(A.c.phone_hash, func.min(A.c.verified_at))
        .where(A.c.id_hash == id_hash, A.c.verified_at.is_not(None))
        .group_by(A.c.phone_hash)
    )
    return {r[0]: r[1] for r in rows}


def held_under(conn: Connection, hall_id: int, id_hash: str, since: date) -> list[Row[Any]]:
    """Every booking of a hall made under an ID number for ``since`` or later, by slot."""
    return list(
        conn.execute(
            select(A)
            .where(A.c.hall_id == hall_id, A.c.id_hash == id_hash, A.c.business_date >= since)
            .order_by(A.c.slot_start, A.c.booked_at)
        )
    )


def for_phone_on(conn: Connection, hall_id: int, phone_hash: str, day: date) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(A)
            .where(
                A.c.hall_id == hall_id,
                A.c.phone_hash == phone_hash,
                A.c.business_date == day,
                A.c.status == AppointmentStatus.BOOKED.value,
            )
            .order_by(A.c.slot_start)
        )
    )


def save_appointment(conn: Connection, appointment_id: str, version: int, **values: Any) -> bool:
    result = conn.execute(
        update(A)
        .where(A.c.id == appointment_id, A.c.version == version)
        .values(version=version + 1, **values)
    )
    return bool(result.rowcount == 1)


def unattended(conn: Connection, slot_started_before: datetime, limit: int) -> list[Row[Any]]:
    """Booked, never checked-in appointments whose slot started before the given moment."""
    return list(
        conn.execute(
            select(A)
            .where(
                A.c.status == AppointmentStatus.BOOKED.value,
                A.c.slot_start < slot_started_before,
            )
            .order_by(A.c.slot_start)
            .limit(limit)
        )
    )


def booked_between(conn: Connection, hall_id: int, first: date, last: date) -> list[Row[Any]]:
    """The (slot start, service) of every booking of a hall for business dates ``first`` to
    ``last`` that was not cancelled (the planner's known arrivals)."""
    return list(
        conn.execute(
            select(A.c.slot_start, A.c.service).where(
                A.c.hall_id == hall_id,
                A.c.business_date.between(first, last),
                A.c.status != AppointmentStatus.CANCELLED.value,
            )
        )
    )


def by_ticket(conn: Connection, ticket_id: str) -> Any | None:
    """The booking a ticket was checked in from (read by attribute, like a ``Row``), or None."""
    return _BOOKING_OF_TICKET.first(conn, {"ticket_id": ticket_id})


# ---- evaluations and cases -----------------------------------------------------------------


def evaluation_of(conn: Connection, ticket_id: str, segment: int = 0) -> Row[Any] | None:
    """The rating of one service segment of a ticket (segment 0: its first or only service)."""
    return conn.execute(select(V).where(V.c.ticket_id == ticket_id, V.c.segment == segment)).first()


def insert_evaluation(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(V).values(**values).returning(V.c.id)).scalar_one())


def supervisor_loads(conn: Connection, hall_id: int) -> dict[str, int]:
    """Active supervisors of a hall with their number of unfinished cases."""
    names = conn.execute(
        select(U.c.username).where(
            U.c.hall_id == hall_id, U.c.role == "supervisor", U.c.active.is_(True)
        )
    ).scalars()
    loads = dict.fromkeys(names, 0)
    rows = conn.execute(
        select(F.c.supervisor, func.count())
        .where(
            F.c.hall_id == hall_id,
            F.c.status.not_in([CaseStatus.CLOSED.value, CaseStatus.EXCLUDED.value]),
        )
        .group_by(F.c.supervisor)
    )
    for name, count in rows:
        if name in loads:
            loads[name] = count
    return loads


def insert_case(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(F).values(**values, version=1).returning(F.c.id)).scalar_one())


_CASE_COLUMNS = (
    F,
    T.c.prefix,
    T.c.seq,
    V.c.ticket_id,
    V.c.service,
    V.c.window,
    V.c.score,
    V.c.comment,
    V.c.clerk,
    V.c.reasons,
    V.c.segment,
    V.c.excluded,
    V.c.created_at.label("rated_at"),
)


def cases(conn: Connection, hall_id: int, include_final: bool = True) -> list[Row[Any]]:
    stmt = (
        select(*_CASE_COLUMNS)
        .join(V, V.c.id == F.c.evaluation_id)
        .join(T, T.c.id == V.c.ticket_id)
        .where(F.c.hall_id == hall_id)
        .order_by(F.c.deadline, F.c.id)
    )
    if not include_final:
        stmt = stmt.where(F.c.status.not_in([CaseStatus.CLOSED.value, CaseStatus.EXCLUDED.value]))
    return list(conn.execute(stmt))


def case_by_id(conn: Connection, case_id: int, *, lock: bool = False) -> Row[Any] | None:
    stmt = (
        select(*_CASE_COLUMNS)
        .join(V, V.c.id == F.c.evaluation_id)
        .join(T, T.c.id == V.c.ticket_id)
        .where(F.c.id == case_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=F)
    return conn.execute(stmt).first()


def save_case(conn: Connection, case_id: int, version: int, **values: Any) -> bool:
    result = conn.execute(
        update(F)
        .where(and_(F.c.id == case_id, F.c.version == version))
        .values(version=version + 1, **values)
    )
    return bool(result.rowcount == 1)


def exclude_evaluation(conn: Connection, evaluation_id: int) -> None:
    conn.execute(update(V).where(V.c.id == evaluation_id).values(excluded=True))


def to_remind(conn: Connection, starting_before: datetime, now: datetime) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(A).where(
                A.c.status == AppointmentStatus.BOOKED.value,
                A.c.reminded_at.is_(None),
                A.c.slot_start > now,
                A.c.slot_start <= starting_before,
            )
        )
    )


def latest_visit_at_window(conn: Connection, window_id: int, since: datetime) -> Row[Any] | None:
    """The ticket a window called last (since ``since``) and has finished with: done or absent.

    A ticket still called or being served is the window's current ticket; one sent on by a
    transfer has left the window.
    """
    return conn.execute(
        select(T)
        .where(
            T.c.window_id == window_id,
            T.c.status.in_(("done", "no_show")),
            T.c.called_at >= since,
        )
        .order_by(T.c.called_at.desc(), T.c.finished_at.desc())
        .limit(1)
    ).first()
