"""The engine's commands on a real database (SQLite and PostgreSQL), with a frozen clock."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from queue_engine.adapters.orm import EventRow, HallRow, TicketRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.errors import (
    Forbidden,
    HallClosed,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from queue_engine.domain.model import TicketStatus, WindowState
from queue_engine.services.tickets import QueueEngine


def window_id(db: Database, number: int) -> int:
    with UnitOfWork(db, write=False) as uow:
        return db.hall_config(uow.conn, "ZMD")[1].window_by_number(number).id


def events(db: Database, ticket_id: str | None = None) -> list[EventRow]:
    with UnitOfWork(db, write=False) as uow:
        stmt = select(EventRow).order_by(EventRow.id)
        if ticket_id is not None:
            stmt = stmt.where(EventRow.ticket_id == ticket_id)
        return list(uow.session.scalars(stmt))


def set_hall(db: Database, **values: object) -> None:
    with UnitOfWork(db) as uow:
        uow.conn.execute(
            update(HallRow)
            .where(HallRow.code == "ZMD")
            .values(config_version=HallRow.config_version + 1, **values)
        )
        uow.commit()


@pytest.fixture
def social(engine: QueueEngine, db: Database) -> int:
    """Window 10 (社会保障1: SOCIAL primary, MEDICAL secondary), opened by clerk10."""
    wid = window_id(db, 10)
    engine.open_window(wid, "clerk10")
    return wid


def test_numbers_count_up_per_prefix_and_restart_each_business_day(
    engine: QueueEngine, clock: FrozenClock
) -> None:
    first = engine.issue("ZMD", "SOCIAL").ticket
    second = engine.issue("ZMD", "SOCIAL").ticket
    other = engine.issue("ZMD", "REALTY").ticket
    assert (first.number, second.number, other.number) == ("F001", "F002", "C001")
    clock.advance(hours=15)  # 01:00 the next local day (17:00 UTC)
    next_day = engine.issue("ZMD", "SOCIAL").ticket
    assert next_day.number == "F001"
    assert next_day.business_date == first.business_date + timedelta(days=1)


def test_issue_stores_the_estimate_and_logs_it(engine: QueueEngine, db: Database) -> None:
    ticket = engine.issue("ZMD", "SOCIAL", "kiosk", "elderly").ticket
    assert ticket.estimate is not None
    assert 0 <= ticket.estimate.median_minutes <= ticket.estimate.p90_minutes
    (issued,) = events(db, ticket.id)
    assert issued.type == "ticket.issued"
    assert issued.priority == "elderly" and issued.channel == "kiosk"
    payload = json.loads(issued.payload)
    assert payload["estimated_wait"] == ticket.estimate.to_mapping()
    view = engine.ticket(ticket.id)
    assert view.ticket.estimate == ticket.estimate
    assert view.position == 0


def test_the_same_idempotency_key_returns_the_same_ticket(engine: QueueEngine) -> None:
    a = engine.issue("ZMD", "TAX", idempotency_key="kiosk-3:0001").ticket
    b = engine.issue("ZMD", "TAX", idempotency_key="kiosk-3:0001").ticket
    c = engine.issue("ZMD", "TAX", idempotency_key="kiosk-3:0002").ticket
    assert a.id == b.id and a.number == b.number == "E001"
    assert c.number == "E002"


def test_bad_input_is_a_domain_error(engine: QueueEngine) -> None:
    with pytest.raises(NotFound):
        engine.issue("ZMD", "NOPE")
    with pytest.raises(NotFound):
        engine.issue("XXX", "SOCIAL")
    with pytest.raises(InvalidInput):
        engine.issue("ZMD", "SOCIAL", channel="fax")
    with pytest.raises(InvalidInput):
        engine.issue("ZMD", "SOCIAL", priority="vip")
    with pytest.raises(NotFound):
        engine.ticket("not-a-ticket")
    with pytest.raises(NotFound):
        engine.call_next(99999)


def test_a_closed_hall_issues_no_tickets(db: Database, clock: FrozenClock) -> None:
    set_hall(db, hours={"weekly": {"mon": ["09:00-12:00", "13:00-17:00"]}})
    engine = QueueEngine(db, clock)  # Thursday: closed under these hours
    with pytest.raises(HallClosed):
        engine.issue("ZMD", "SOCIAL")


def test_a_full_visit_walks_the_life_cycle_and_logs_every_step(
    engine: QueueEngine, db: Database, social: int, clock: FrozenClock
) -> None:
    ticket = engine.issue("ZMD", "SOCIAL").ticket
    clock.advance(minutes=3)
    called = engine.call_next(social, "clerk10")
    assert called is not None and called.id == ticket.id
    assert called.status is TicketStatus.CALLED and called.window_label == "10"
    assert engine.window(social).current_ticket == ticket.id
    engine.recall(social, "clerk10")
    clock.advance(minutes=1)
    engine.start(ticket.id, "clerk10")
    clock.advance(minutes=4)
    done = engine.finish(ticket.id, "clerk10")
    assert done.status is TicketStatus.DONE
    assert done.finished_at is not None and done.started_at is not None
    assert done.finished_at - done.started_at == timedelta(minutes=4)
    assert engine.window(social).current_ticket is None
    kinds = [e.type for e in events(db, ticket.id)]
    assert kinds == [
        "ticket.issued",
        "ticket.called",
        "ticket.recalled",
        "ticket.started",
        "ticket.finished",
    ]
    assert {e.window for e in events(db, ticket.id)[1:]} == {"10"}


def test_call_next_on_an_empty_queue_returns_nothing(engine: QueueEngine, social: int) -> None:
    assert engine.call_next(social, "clerk10") is None


def test_call_next_needs_an_open_window_without_an_active_ticket(
    engine: QueueEngine, db: Database, social: int
) -> None:
    engine.issue("ZMD", "SOCIAL")
    engine.issue("ZMD", "SOCIAL")
    engine.call_next(social, "clerk10")
    with pytest.raises(InvalidTransition):
        engine.call_next(social, "clerk10")
    closed = window_id(db, 11)
    with pytest.raises(InvalidTransition):
        engine.call_next(closed)


def test_a_clerk_acts_only_on_the_window_it_opened(engine: QueueEngine, social: int) -> None:
    ticket = engine.issue("ZMD", "SOCIAL").ticket
    with pytest.raises(Forbidden):
        engine.call_next(social, "clerk11")
    engine.call_next(social, "clerk10")
    with pytest.raises(Forbidden):
        engine.start(ticket.id, "clerk11")
    with pytest.raises(Forbidden):
        engine.pause(social, "break", "clerk11")


def test_windows_serve_only_their_skills_primary_first(
    engine: QueueEngine, social: int, clock: FrozenClock
) -> None:
    medical = engine.issue("ZMD", "MEDICAL").ticket  # window 10's secondary skill
    clock.advance(seconds=30)
    engine.issue("ZMD", "TAX")  # not a skill of window 10
    clock.advance(seconds=30)
    social_ticket = engine.issue("ZMD", "SOCIAL").ticket
    first = engine.call_next(social, "clerk10")
    assert first is not None and first.id == social_ticket.id
    engine.start(first.id, "clerk10")
    engine.finish(first.id, "clerk10")
    second = engine.call_next(social, "clerk10")
    assert second is not None and second.id == medical.id
    engine.start(second.id, "clerk10")
    engine.finish(second.id, "clerk10")
    assert engine.call_next(social, "clerk10") is None


def test_priority_tickets_go_first_and_aged_tickets_are_not_starved(
    engine: QueueEngine, social: int, clock: FrozenClock
) -> None:
    regular = engine.issue("ZMD", "SOCIAL").ticket
    clock.advance(minutes=1)
    elderly = engine.issue("ZMD", "SOCIAL", priority="elderly").ticket
    called = engine.call_next(social, "clerk10")
    assert called is not None and called.id == elderly.id
    engine.no_show(elderly.id, "clerk10")
    clock.advance(minutes=25)  # the regular ticket has now waited past the 20-minute guard
    engine.issue("ZMD", "SOCIAL", priority="disabled")
    called = engine.call_next(social, "clerk10")
    assert called is not None and called.id == regular.id


def test_no_show_voids_the_ticket_by_default(
    engine: QueueEngine, social: int, db: Database
) -> None:
    ticket = engine.issue("ZMD", "SOCIAL").ticket
    engine.call_next(social, "clerk10")
    gone = engine.no_show(ticket.id, "clerk10")
    assert gone.status is TicketStatus.NO_SHOW
    assert engine.window(social).current_ticket is None
    assert engine.call_next(social, "clerk10") is None
    assert json.loads(events(db, ticket.id)[-1].payload) == {"requeued": False}


def test_no_show_requeue_puts_the_ticket_behind_k_others_once(
    db: Database, clock: FrozenClock
) -> None:
    set_hall(db, no_show={"mode": "requeue", "behind": 2, "max_requeues": 1})
    engine = QueueEngine(db, clock)
    wid = window_id(db, 10)
    engine.open_window(wid, "clerk10")
    tickets = []
    for _ in range(4):
        tickets.append(engine.issue("ZMD", "SOCIAL").ticket)
        clock.advance(seconds=10)
    first = engine.call_next(wid, "clerk10")
    assert first is not None and first.id == tickets[0].id
    back = engine.no_show(first.id, "clerk10")
    assert back.status is TicketStatus.WAITING and back.requeues == 1
    order = []
    for _ in range(4):
        t = engine.call_next(wid, "clerk10")
        assert t is not None
        order.append(t.id)
        if t.id == first.id:
            final = engine.no_show(t.id, "clerk10")  # second no-show: final
            assert final.status is TicketStatus.NO_SHOW
        else:
            engine.start(t.id, "clerk10")
            engine.finish(t.id, "clerk10")
    assert order == [tickets[1].id, tickets[2].id, first.id, tickets[3].id]


def test_transfer_sends_the_ticket_to_another_service_keeping_its_queue_time(
    engine: QueueEngine, db: Database, social: int, clock: FrozenClock
) -> None:
    ticket = engine.issue("ZMD", "SOCIAL").ticket
    clock.advance(minutes=2)
    later = engine.issue("ZMD", "HPF").ticket
    engine.call_next(social, "clerk10")
    engine.start(ticket.id, "clerk10")
    moved = engine.transfer(ticket.id, "clerk10", service="HPF")
    assert moved.status is TicketStatus.WAITING and moved.service == "HPF"
    assert engine.window(social).current_ticket is None
    transferred = events(db, ticket.id)[-1]
    assert transferred.type == "ticket.transferred" and transferred.service == "SOCIAL"
    assert json.loads(transferred.payload) == {"from_service": "SOCIAL", "to_service": "HPF"}
    hpf = window_id(db, 13)
    engine.open_window(hpf, "clerk13")
    called = engine.call_next(hpf, "clerk13")
    assert called is not None and called.id == ticket.id  # queued before `later`
    assert later.id != called.id


def test_transfer_to_a_window_is_served_only_there(
    engine: QueueEngine, db: Database, social: int
) -> None:
    ticket = engine.issue("ZMD", "SOCIAL").ticket
    engine.call_next(social, "clerk10")
    engine.start(ticket.id, "clerk10")
    target = window_id(db, 11)
    engine.transfer(ticket.id, "clerk10", window=target)
    payload = json.loads(events(db, ticket.id)[-1].payload)
    assert payload["to_window"] == "11"
    assert engine.call_next(social, "clerk10") is None  # not for window 10 any more
    engine.open_window(target, "clerk11")
    called = engine.call_next(target, "clerk11")
    assert called is not None and called.id == ticket.id


def test_transfer_needs_a_real_target(engine: QueueEngine, social: int, db: Database) -> None:
    ticket = engine.issue("ZMD", "SOCIAL").ticket
    engine.call_next(social, "clerk10")
    with pytest.raises(InvalidInput):
        engine.transfer(ticket.id, "clerk10")
    with pytest.raises(NotFound):
        engine.transfer(ticket.id, "clerk10", service="NOPE")
    with pytest.raises(InvalidInput):
        engine.transfer(ticket.id, "clerk10", window=window_id(db, 1))  # no SOCIAL skill
    assert engine.ticket(ticket.id).ticket.status is TicketStatus.CALLED


def test_cancel_only_while_waiting(engine: QueueEngine, social: int) -> None:
    a = engine.issue("ZMD", "SOCIAL").ticket
    b = engine.issue("ZMD", "SOCIAL").ticket
    assert engine.cancel(b.id).status is TicketStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        engine.cancel(b.id)
    engine.call_next(social, "clerk10")
    with pytest.raises(InvalidTransition):
        engine.cancel(a.id)


def test_wrong_state_actions_are_refused_and_change_nothing(
    engine: QueueEngine, social: int, db: Database
) -> None:
    ticket = engine.issue("ZMD", "SOCIAL").ticket
    with pytest.raises(InvalidTransition):
        engine.start(ticket.id, "clerk10")
    engine.call_next(social, "clerk10")
    with pytest.raises(InvalidTransition):
        engine.finish(ticket.id, "clerk10")
    with pytest.raises(InvalidTransition):
        engine.close_window(social, "clerk10")
    assert engine.ticket(ticket.id).ticket.status is TicketStatus.CALLED
    assert [e.type for e in events(db, ticket.id)] == ["ticket.issued", "ticket.called"]


def test_window_pause_resume_close(engine: QueueEngine, social: int, db: Database) -> None:
    with pytest.raises(InvalidInput):
        engine.pause(social, "  ", "clerk10")
    paused = engine.pause(social, "午休", "clerk10")
    assert paused.state is WindowState.PAUSED and paused.paused_reason == "午休"
    engine.issue("ZMD", "SOCIAL")
    with pytest.raises(InvalidTransition):
        engine.call_next(social, "clerk10")
    engine.resume(social, "clerk10")
    closed = engine.close_window(social, "clerk10")
    assert closed.state is WindowState.CLOSED and closed.clerk is None
    kinds = [e.type for e in events(db) if e.window == "10" and e.ticket_id is None]
    assert kinds == ["window.opened", "window.paused", "window.resumed", "window.closed"]
    # row 14: the stored pause carries its category beside the (masked) reason
    assert json.loads(events(db)[1].payload) == {"reason": "午休", "category": "lunch"}


def test_positions_and_queues(engine: QueueEngine, clock: FrozenClock) -> None:
    tickets = [engine.issue("ZMD", "SOCIAL").ticket for _ in range(3)]
    clock.advance(minutes=5)
    vip = engine.issue("ZMD", "SOCIAL", priority="military").ticket
    assert [engine.ticket(t.id).position for t in tickets] == [1, 2, 3]
    assert engine.ticket(vip.id).position == 0
    queues = {q.code: q for q in engine.queues("ZMD")}
    assert queues["SOCIAL"].waiting == 4
    assert queues["SOCIAL"].longest_wait_minutes == 5.0
    assert queues["TAX"].waiting == 0


def test_several_tickets_at_once_read_like_one_at_a_time(
    engine: QueueEngine, clock: FrozenClock, social: int
) -> None:
    """The live refresher's batch read gives every ticket what ``ticket`` alone would."""
    waiting = [engine.issue("ZMD", service).ticket for service in ("SOCIAL", "TAX", "SOCIAL")]
    clock.advance(minutes=3)
    vip = engine.issue("ZMD", "SOCIAL", priority="military").ticket
    called = engine.issue("ZMD", "REALTY").ticket
    engine.open_window(window_id(engine.db, 4), "clerk04")
    assert engine.call_next(window_id(engine.db, 4), "clerk04").id == called.id
    ids = [t.id for t in (*waiting, vip, called)]
    views = engine.tickets([*ids, "not-a-ticket", "0" * 32])
    assert list(views) == ids  # unknown ids are left out, the order is kept
    assert views == {i: engine.ticket(i) for i in ids}
    assert [views[t.id].position for t in waiting] == [1, 0, 2]
    assert views[vip.id].position == 0
    assert views[called.id].position is None and views[called.id].estimate is None
    assert engine.tickets([]) == {}


def test_events_are_written_only_when_the_command_commits(
    engine: QueueEngine, db: Database, social: int
) -> None:
    published: list[str] = []
    engine.bus.subscribe(lambda stored: published.extend(str(s.event.type) for s in stored))
    ticket = engine.issue("ZMD", "SOCIAL").ticket
    with pytest.raises(InvalidTransition):
        engine.finish(ticket.id, "clerk10")
    assert published == ["ticket.issued"]
    assert [e.type for e in events(db, ticket.id)] == ["ticket.issued"]


def test_a_failing_subscriber_does_not_undo_the_command(engine: QueueEngine, db: Database) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("socket down")

    engine.bus.subscribe(broken)
    ticket = engine.issue("ZMD", "SOCIAL").ticket
    assert engine.ticket(ticket.id).ticket.number == "F001"


def test_ticket_rows_store_utc_aware_times(engine: QueueEngine, db: Database) -> None:
    ticket = engine.issue("ZMD", "SOCIAL").ticket
    with UnitOfWork(db, write=False) as uow:
        row = uow.session.get(TicketRow, ticket.id)
        assert row is not None
        assert row.issued_at == ticket.issued_at
        assert row.issued_at.utcoffset() == timedelta(0)
