"""The appointment and evaluation desks on real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from queue_engine.adapters.orm import AppointmentRow, EventRow, SlotCounterRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import Actor, Role
from queue_engine.domain.appointments import AppointmentSettings, AppointmentStatus
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from queue_engine.domain.model import Channel, TicketStatus
from queue_engine.services.admin import AdminDesk, NewUser
from queue_engine.services.appeals import AppealDesk
from queue_engine.services.appointments import AppointmentDesk
from queue_engine.services.evaluations import EvaluationDesk
from queue_engine.services.tickets import QueueEngine
from tests.helpers.people import id_number, phone

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 26)  # the frozen clock: Thursday 10:00 in the hall


def local(day: date, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def desk(engine: QueueEngine) -> AppointmentDesk:
    return AppointmentDesk(engine, pepper=b"test-pepper-0123456789abcdef")


@pytest.fixture
def ratings(engine: QueueEngine) -> EvaluationDesk:
    return EvaluationDesk(engine, b"test-rating-secret-0123456789")


def book(desk: AppointmentDesk, n: int, hhmm: str = "10:30", day: date = TODAY, **kw: Any) -> Any:
    return desk.book(
        "ZMD", kw.pop("service", "SOCIAL"), day, local(day, hhmm), "张三", phone(n), id_number(n)
    )


def events_of(db: Database, kind: str) -> list[EventRow]:
    with UnitOfWork(db, write=False) as uow:
        return list(uow.session.scalars(select(EventRow).where(EventRow.type == kind)))


def run_concurrently(count: int, action: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * count
    barrier = threading.Barrier(count)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except DomainError as exc:
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_slots_show_capacity_and_what_is_left(desk: AppointmentDesk) -> None:
    book(desk, 1)
    day = desk.slots("ZMD", "SOCIAL", TODAY)
    assert len(day.slots) == 48 and day.bookable_days[0] == TODAY
    by_start = {s.start: s for s in day.slots}
    slot = by_start[local(TODAY, "10:30")]
    assert (slot.capacity, slot.available, slot.bookable) == (5, 4, True)
    assert not by_start[local(TODAY, "09:30")].bookable  # already over
    with pytest.raises(NotFound):
        desk.slots("ZMD", "NOPE", TODAY)


def test_a_booking_stores_only_hashes_and_masked_forms(desk: AppointmentDesk, db: Database) -> None:
    appointment = book(desk, 7)
    assert len(appointment.code) == 10
    assert appointment.phone_masked == "139****0007"
    assert appointment.id_masked == id_number(7)[:4] + "*" * 10 + id_number(7)[-4:]
    assert appointment.name_masked == "张*"
    with UnitOfWork(db, write=False) as uow:
        row = uow.session.scalars(select(AppointmentRow)).one()
        stored = json.dumps([str(getattr(row, c.key)) for c in AppointmentRow.__table__.columns])
    assert id_number(7) not in stored and phone(7) not in stored and "张三" not in stored
    (booked,) = events_of(db, "appointment.booked")
    assert phone(7) not in booked.payload and id_number(7) not in booked.payload


def test_sixty_concurrent_bookings_of_a_five_place_slot_make_exactly_five(
    desk: AppointmentDesk, db: Database
) -> None:
    results = run_concurrently(60, lambda i: book(desk, 100 + i))
    booked = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(booked) == 5
    assert len(refused) == 55 and all(
        isinstance(r, Conflict) and r.code == "slot_full" for r in refused
    )
    with UnitOfWork(db, write=False) as uow:
        assert uow.conn.execute(select(func.count()).select_from(AppointmentRow)).scalar() == 5
        assert uow.conn.execute(select(SlotCounterRow.booked)).scalar() == 5


def test_the_same_person_booking_twice_at_once_gets_one_booking(desk: AppointmentDesk) -> None:
    results = run_concurrently(8, lambda i: book(desk, 5, hhmm=("10:30", "11:00")[i % 2]))
    booked = [r for r in results if not isinstance(r, Exception)]
    assert len(booked) == 1
    assert all(
        isinstance(r, Conflict) and r.code == "duplicate" for r in results if r not in booked
    )
    assert sum(s.available for s in desk.slots("ZMD", "SOCIAL", TODAY).slots[21:23]) == 9


def test_another_service_or_day_is_a_separate_booking(desk: AppointmentDesk) -> None:
    book(desk, 1)
    book(desk, 1, service="MEDICAL")
    book(desk, 1, day=TODAY + timedelta(days=1))
    with pytest.raises(Conflict, match="already"):
        book(desk, 1, hhmm="15:00")


def test_invalid_people_and_slots_are_refused(desk: AppointmentDesk) -> None:
    slot = local(TODAY, "10:30")
    bad_id = id_number(1)[:-1] + ("0" if id_number(1)[-1] != "0" else "1")
    with pytest.raises(InvalidInput):
        desk.book("ZMD", "SOCIAL", TODAY, slot, "张三", phone(1), bad_id)
    with pytest.raises(InvalidInput):
        desk.book("ZMD", "SOCIAL", TODAY, slot, "张三", "12345678901", id_number(1))
    with pytest.raises(InvalidInput):
        desk.book("ZMD", "SOCIAL", TODAY, local(TODAY, "10:10"), "张三", phone(1), id_number(1))
    with pytest.raises(InvalidInput, match="started"):
        book(desk, 1, hhmm="09:30")
    with pytest.raises(InvalidInput, match="working days"):
        book(desk, 1, day=TODAY + timedelta(days=8))


def test_cancelling_frees_the_place_until_the_cut_off(
    desk: AppointmentDesk, clock: FrozenClock
) -> None:
    first = book(desk, 1, hhmm="14:00")
    cancelled = desk.cancel(first.code.lower())
    assert cancelled.status is AppointmentStatus.CANCELLED
    again = book(desk, 1, hhmm="14:00")  # a cancelled booking blocks nothing
    slot = next(s for s in desk.slots("ZMD", "SOCIAL", TODAY).slots if s.start == again.slot_start)
    assert slot.available == 4
    with pytest.raises(Conflict):
        desk.cancel(first.code)
    clock.set(local(TODAY, "12:01"))
    with pytest.raises(Conflict) as late:
        desk.cancel(again.code)
    assert late.value.code == "cancel_cutoff"


def test_check_in_within_the_window_gives_an_appointment_ticket(
    desk: AppointmentDesk, clock: FrozenClock, db: Database
) -> None:
    appointment = book(desk, 1, hhmm="10:30")  # now 10:00: the window opened right now
    checked = desk.check_in(appointment.code, "ZMD")
    assert not checked.late
    assert checked.ticket.channel is Channel.APPOINTMENT
    assert checked.ticket.slot_start == appointment.slot_start
    assert checked.appointment.status is AppointmentStatus.CHECKED_IN
    issued = [e for e in events_of(db, "ticket.issued") if e.ticket_id == checked.ticket.id]
    assert json.loads(issued[0].payload)["slot_start"] == appointment.slot_start.isoformat()
    with pytest.raises(Conflict):
        desk.check_in(appointment.code)


def test_check_in_too_early_is_refused_and_too_late_gives_a_walk_in_ticket(
    desk: AppointmentDesk, clock: FrozenClock
) -> None:
    early = book(desk, 1, hhmm="11:00")
    with pytest.raises(Conflict) as refused:
        desk.check_in(early.code)
    assert refused.value.code == "too_early" and "10:30" in refused.value.message
    clock.set(local(TODAY, "11:15"))
    on_time = desk.check_in(early.code)
    assert not on_time.late

    late = book(desk, 2, hhmm="11:30")
    clock.set(local(TODAY, "11:46"))
    walk_in = desk.check_in(late.code)
    assert walk_in.late and walk_in.ticket.channel is Channel.KIOSK
    assert walk_in.ticket.slot_start is None
    assert walk_in.appointment.status is AppointmentStatus.LATE


def test_check_in_by_phone_and_the_last_id_characters(desk: AppointmentDesk) -> None:
    appointment = book(desk, 3)
    assert desk.find_today("ZMD", phone(3), id_number(3)[-4:]) == appointment.code
    with pytest.raises(NotFound):
        desk.find_today("ZMD", phone(3), "0000" if id_number(3)[-4:] != "0000" else "1111")
    with pytest.raises(NotFound):
        desk.find_today("ZMD", phone(4), id_number(3)[-4:])


def test_unattended_appointments_become_no_shows_and_two_ban_booking(
    desk: AppointmentDesk, clock: FrozenClock, db: Database
) -> None:
    first = book(desk, 9, hhmm="10:30")
    clock.set(local(TODAY, "10:45"))
    assert desk.sweep() == 0  # the window is still open
    clock.set(local(TODAY, "10:46"))
    assert desk.sweep() == 1
    assert desk.appointment(first.code).status is AppointmentStatus.NO_SHOW
    (missed,) = events_of(db, "appointment.no_show")
    assert json.loads(missed.payload)["appointment"] == first.id

    tomorrow = TODAY + timedelta(days=1)
    book(desk, 9, hhmm="10:30", day=tomorrow)
    clock.set(local(tomorrow, "11:00"))
    assert desk.sweep() == 1
    with pytest.raises(Forbidden) as banned:
        book(desk, 9, hhmm="15:00", day=tomorrow)
    assert banned.value.code == "booking_banned"
    assert "2026-12-27" in banned.value.message
    book(desk, 10, hhmm="15:00", day=tomorrow)  # somebody else books as before


def test_a_checked_in_appointment_whose_slot_began_is_called_before_earlier_walk_ins(
    desk: AppointmentDesk, engine: QueueEngine, clock: FrozenClock, db: Database
) -> None:
    appointment = book(desk, 1, hhmm="10:30")
    walk_ins = [engine.issue("ZMD", "SOCIAL").ticket for _ in range(3)]
    clock.advance(minutes=5)
    checked = desk.check_in(appointment.code)
    with UnitOfWork(db, write=False) as uow:
        window = db.hall_config(uow.conn, "ZMD")[1].window_by_number(10).id
    engine.open_window(window, "clerk10")
    first = engine.call_next(window, "clerk10")
    assert first is not None and first.id == walk_ins[0].id  # the slot has not begun yet
    engine.finish(engine.start(first.id).id)
    clock.set(local(TODAY, "10:30"))
    second = engine.call_next(window, "clerk10")
    assert second is not None and second.id == checked.ticket.id


def test_a_rating_is_taken_once_after_finish_and_a_bad_one_opens_a_case(
    engine: QueueEngine, ratings: EvaluationDesk, db: Database, clock: FrozenClock
) -> None:
    AdminDesk(db, clock).seed_users(
        NewUser(name, "zmd-super-2026", Role.SUPERVISOR, "ZMD")
        for name in ("supervisor", "supervisor2")
    )
    with UnitOfWork(db, write=False) as uow:
        window = db.hall_config(uow.conn, "ZMD")[1].window_by_number(10).id
    engine.open_window(window, "clerk10")
    tickets = []
    for _ in range(3):
        ticket = engine.issue("ZMD", "SOCIAL").ticket
        called = engine.call_next(window)
        assert called is not None
        with pytest.raises(Conflict):
            ratings.evaluate(called.id, 5)
        engine.start(called.id)
        clock.advance(minutes=2)
        engine.finish(called.id)
        tickets.append(ticket)
    assert ratings.pending_at_window(window) is not None
    good = ratings.evaluate_window(window, 5, "很好", by=Actor("clerk10", Role.CLERK, "ZMD"))
    assert good.ticket_id == tickets[2].id and good.case_id is None
    with pytest.raises(Conflict):
        ratings.evaluate(tickets[2].id, 4)
    bad = ratings.evaluate(tickets[0].id, 1, "等太久", source="ticket")
    worse = ratings.evaluate(tickets[1].id, 2)
    assert bad.case_id is not None and worse.case_id is not None
    cases = ratings.cases("ZMD")
    assert {c.supervisor for c in cases} == {"supervisor", "supervisor2"}  # least loaded first
    assert cases[0].deadline == date(2026, 12, 17) and not cases[0].overdue
    (rated,) = [e for e in events_of(db, "evaluation") if e.ticket_id == tickets[0].id]
    payload = json.loads(rated.payload)
    assert {k: payload[k] for k in ("score", "comment", "channel")} == {
        "score": 1,
        "comment": "等太久",
        "channel": "ticket",
    }
    with pytest.raises(InvalidInput):
        ratings.evaluate(tickets[0].id, 6)

    case = ratings.act(bad.case_id, "call-back", "supervisor", "已回访")
    case = ratings.act(case.id, "rectify", "supervisor", "已整改")
    case = ratings.act(case.id, "close", "supervisor", rerating=4)
    assert (case.status, case.rerating) == ("closed", 4)
    appeals = AppealDesk(engine)
    with pytest.raises(InvalidInput):
        appeals.file(worse.case_id, Actor("supervisor", Role.SUPERVISOR, "ZMD"), "")
    appeal = appeals.file(
        worse.case_id, Actor("supervisor", Role.SUPERVISOR, "ZMD"), "误评:群众按错"
    )
    appeals.decide(appeal.id, Actor("supervisor2", Role.SUPERVISOR, "ZMD"), "upheld", "录像为证")
    excluded = ratings.case(worse.case_id)
    assert excluded.status == "excluded" and excluded.appeal == "upheld"
    clock.set(clock.now() + timedelta(days=30))
    assert ratings.overdue_cases("ZMD") == []


def test_unfinished_cases_become_overdue_after_the_deadline(
    engine: QueueEngine, ratings: EvaluationDesk, db: Database, clock: FrozenClock
) -> None:
    with UnitOfWork(db, write=False) as uow:
        window = db.hall_config(uow.conn, "ZMD")[1].window_by_number(10).id
    engine.open_window(window, "clerk10")
    engine.issue("ZMD", "SOCIAL")
    ticket = engine.call_next(window)
    assert ticket is not None
    engine.finish(engine.start(ticket.id).id)
    assert ratings.evaluate(ticket.id, 1).case_id is not None
    clock.set(local(date(2026, 12, 18), "09:00"))
    (overdue,) = ratings.overdue_cases("ZMD")
    assert overdue.overdue and overdue.supervisor is None  # no supervisor account exists
    assert ticket.status is not TicketStatus.WAITING
    with pytest.raises(NotFound):
        ratings.act(999, "call-back", "supervisor")
    with pytest.raises(InvalidInput):
        ratings.act(overdue.id, "explode", "supervisor")


def test_settings_are_stored_per_hall(desk: AppointmentDesk) -> None:
    desk.save_settings("ZMD", AppointmentSettings().with_service("SOCIAL", 60, 1))
    assert desk.settings("ZMD").slots_of("SOCIAL").capacity == 1
    assert len(desk.slots("ZMD", "SOCIAL", TODAY).slots) == 24
    book(desk, 1, hhmm="11:00")
    with pytest.raises(Conflict, match="fully booked"):
        book(desk, 2, hhmm="11:00")
