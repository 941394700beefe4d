"""The visit desk on SQLite and PostgreSQL: one person one ticket, services in order, outcomes."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select

from queue_engine.adapters.orm import EventRow, TicketVisitRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.errors import Conflict, DomainError, InvalidInput
from queue_engine.domain.identity import id_check_char
from queue_engine.domain.model import TicketStatus
from queue_engine.services.tickets import QueueEngine
from queue_engine.services.visits import VisitDesk


def synthetic_id(born: date, serial: str = "123") -> str:
    first17 = f"410102{born:%Y%m%d}{serial}"
    return first17 + id_check_char(first17)


ADULT = synthetic_id(date(1990, 1, 1))
PEPPER = b"test-pepper-0123456789abcdef"


def window_id(db: Database, number: int) -> int:
    with UnitOfWork(db, write=False) as uow:
        return db.hall_config(uow.conn, "ZMD")[1].window_by_number(number).id


@pytest.fixture
def desk(engine: QueueEngine) -> VisitDesk:
    return VisitDesk(engine, PEPPER)


def test_a_three_service_ticket_is_served_in_order_and_keeps_its_place(
    desk: VisitDesk, engine: QueueEngine, db: Database, clock: FrozenClock
) -> None:
    w10, w13 = window_id(db, 10), window_id(db, 13)
    engine.open_window(w10, "clerk10")
    engine.open_window(w13, "clerk13")
    multi = desk.issue("ZMD", ["SOCIAL", "HPF", "MEDICAL"]).ticket
    clock.advance(minutes=1)
    later_hpf = engine.issue("ZMD", "HPF").ticket
    called = engine.call_next(w10, "clerk10")
    assert called is not None and called.id == multi.id
    assert engine.call_next(w13, "clerk13").id == later_hpf.id  # type: ignore[union-attr]
    engine.start(later_hpf.id, "clerk13")
    engine.finish(later_hpf.id, "clerk13")
    engine.start(multi.id, "clerk10")
    with pytest.raises(InvalidInput):
        desk.finish(multi.id, "clerk10")  # the outcome is required
    after = desk.finish(multi.id, "clerk10", "completed")
    assert (after.status, after.service) == (TicketStatus.WAITING, "HPF")
    assert engine.window(w10).current_ticket is None
    clock.advance(minutes=1)
    newer_hpf = engine.issue("ZMD", "HPF").ticket
    again = engine.call_next(w13, "clerk13")
    assert again is not None and again.id == multi.id  # ahead of the newer HPF ticket
    engine.start(multi.id, "clerk13")
    desk.finish(multi.id, "clerk13", "needs_documents", "ID-COPY")
    view = desk.view(engine.ticket(multi.id).ticket)
    assert [s.service for s in view.segments] == ["SOCIAL", "HPF", "MEDICAL"]
    assert view.index == 2
    assert engine.call_next(w10, "clerk10").id == multi.id  # type: ignore[union-attr]
    engine.start(multi.id, "clerk10")
    done = desk.finish(multi.id, "clerk10", "accepted")
    assert done.status is TicketStatus.DONE
    with UnitOfWork(db, write=False) as uow:
        rows = list(
            uow.session.scalars(
                select(EventRow).where(EventRow.ticket_id == multi.id).order_by(EventRow.id)
            )
        )
        visit = uow.session.get(TicketVisitRow, multi.id)
    kinds = [r.type for r in rows]
    assert kinds.count("ticket.finished") == 3 and kinds.count("ticket.next_service") == 2
    assert [s["outcome"] for s in visit.segments] == ["completed", "needs_documents", "accepted"]  # type: ignore[union-attr]
    assert newer_hpf.id != multi.id


def test_an_elderly_identity_gets_the_elderly_priority_and_nothing_personal_is_stored(
    desk: VisitDesk, db: Database, clock: FrozenClock
) -> None:
    today = clock.now().date()
    elder = synthetic_id(today.replace(year=today.year - 70))
    view = desk.issue("ZMD", ["SOCIAL"], id_number=elder, name="王小明")
    assert str(view.ticket.priority) == "elderly"
    young = desk.issue("ZMD", ["SOCIAL"], id_number=ADULT, proxy_id_number=elder)
    assert str(young.ticket.priority) == "none"
    with UnitOfWork(db, write=False) as uow:
        dump = repr([tuple(r) for r in uow.conn.execute(select(TicketVisitRow.__table__))])
        dump += repr([tuple(r) for r in uow.conn.execute(select(EventRow.__table__))])
    assert elder not in dump and ADULT not in dump and "王小明" not in dump
    assert "王**" in dump


def test_a_second_ticket_for_the_same_service_is_refused_with_the_first_number(
    desk: VisitDesk, engine: QueueEngine
) -> None:
    first = desk.issue("ZMD", ["SOCIAL", "MEDICAL"], id_number=ADULT).ticket
    with pytest.raises(Conflict) as error:
        desk.issue("ZMD", ["MEDICAL"], id_number=ADULT.lower())
    assert error.value.code == "already_waiting" and first.number in error.value.message
    desk.issue("ZMD", ["TAX"], id_number=ADULT)
    desk.issue("ZMD", ["REALTY"], id_number=ADULT)
    with pytest.raises(Conflict):
        desk.issue("ZMD", ["ENT"], id_number=ADULT)  # three in all
    engine.cancel(first.id)
    desk.issue("ZMD", ["SOCIAL"], id_number=ADULT)  # a cancelled ticket no longer counts


def test_sixteen_kiosks_with_the_same_id_get_exactly_one_ticket(
    desk: VisitDesk, db: Database
) -> None:
    results: list[str] = []
    barrier = threading.Barrier(16)

    def kiosk() -> None:
        barrier.wait()
        try:
            desk.issue("ZMD", ["SOCIAL"], id_number=ADULT)
            results.append("ok")
        except DomainError as error:
            results.append(error.code)

    threads = [threading.Thread(target=kiosk) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already_waiting"] * 15 + ["ok"]
    with UnitOfWork(db, write=False) as uow:
        assert len(list(uow.session.scalars(select(TicketVisitRow)))) == 1


def test_an_appointment_check_in_counts_as_the_same_citizen(
    engine: QueueEngine, desk: VisitDesk
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from queue_engine.services.appointments import AppointmentDesk

    appointments = AppointmentDesk(engine, pepper=PEPPER)
    slot = datetime(2026, 11, 26, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    booked = appointments.book("ZMD", "SOCIAL", slot.date(), slot, "张三", "13800138000", ADULT)
    checked = appointments.check_in(booked.code, "ZMD")
    with pytest.raises(Conflict) as error:
        desk.issue("ZMD", ["SOCIAL"], id_number=ADULT)
    assert checked.ticket.number in error.value.message


def test_chosen_calls_of_a_window_are_counted_for_the_supervision_alert(
    engine: QueueEngine, db: Database
) -> None:
    from queue_engine.adapters.alert_store import picture
    from queue_engine.services.counter import CounterDesk

    counter = CounterDesk(engine)
    w10 = window_id(db, 10)
    engine.open_window(w10, "clerk10")
    for _ in range(2):
        ticket = engine.issue("ZMD", "SOCIAL").ticket
        engine.issue("ZMD", "SOCIAL")
        counter.call(w10, ticket.id, "急事", "clerk10")
        engine.start(ticket.id, "clerk10")
        engine.finish(ticket.id, "clerk10")
    engine.call_next(w10, "clerk10")
    with UnitOfWork(db, write=False) as uow:
        hall_id, config = db.hall_config(uow.conn, "ZMD")
        seen = picture(uow.conn, hall_id, config, engine.clock.now())
    assert seen.window_days[10].chosen == 2 and seen.window_days[10].calls == 3
