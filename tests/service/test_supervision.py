"""Alerts raised, escalated, cleared and acknowledged on a real database, with a frozen clock."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from queue_engine.adapters.orm import AuditRow, EventRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.errors import Conflict, InvalidInput
from queue_engine.services.evaluations import EvaluationDesk
from queue_engine.services.supervision import SupervisionDesk
from queue_engine.services.tickets import QueueEngine


@pytest.fixture
def supervision(engine: QueueEngine) -> SupervisionDesk:
    return SupervisionDesk(engine)


def wid(db: Database, number: int) -> int:
    with UnitOfWork(db, write=False) as uow:
        return db.hall_config(uow.conn, "ZMD")[1].window_by_number(number).id


def open_keys(s: SupervisionDesk) -> dict[str, str]:
    s.evaluate("ZMD")
    return {a.key: a.severity for a in s.open_alerts("ZMD")}


def alert_events(db: Database) -> list[tuple[str, dict[str, object]]]:
    with UnitOfWork(db, write=False) as uow:
        rows = uow.session.scalars(
            select(EventRow).where(EventRow.type.like("alert.%")).order_by(EventRow.id)
        )
        return [(r.type, json.loads(r.payload)) for r in rows]


def test_waiting_too_long_raises_escalates_and_clears(
    supervision: SupervisionDesk, engine: QueueEngine, clock: FrozenClock, db: Database
) -> None:
    w1 = wid(db, 1)
    engine.open_window(w1, "clerk01")
    engine.issue("ZMD", "ENT")
    engine.call_next(w1, "clerk01")  # busy: the next one waits
    engine.issue("ZMD", "ENT")
    clock.advance(minutes=14, seconds=59)
    assert "wait_long:ENT" not in open_keys(supervision)
    clock.advance(seconds=1)
    assert open_keys(supervision)["wait_long:ENT"] == "yellow"
    clock.advance(minutes=15)
    assert open_keys(supervision)["wait_long:ENT"] == "red"
    current = engine.current_ticket(w1)
    assert current is not None
    engine.start(current.id, "clerk01")
    engine.finish(current.id, "clerk01")
    engine.call_next(w1, "clerk01")
    assert "wait_long:ENT" not in open_keys(supervision)
    kinds = [(t, p["kind"], p["severity"]) for t, p in alert_events(db)]
    assert ("alert.raised", "wait_long", "yellow") in kinds
    assert ("alert.raised", "wait_long", "red") in kinds  # the escalation
    assert kinds[-1][:2] == ("alert.cleared", "wait_long")


def test_handling_too_long(
    supervision: SupervisionDesk, engine: QueueEngine, clock: FrozenClock, db: Database
) -> None:
    w1 = wid(db, 1)
    engine.open_window(w1, "clerk01")
    ticket = engine.issue("ZMD", "ENT").ticket  # ENT standard: 12 minutes
    engine.call_next(w1, "clerk01")
    engine.start(ticket.id, "clerk01")
    clock.advance(minutes=23, seconds=59)
    assert not any(k.startswith("handling_long") for k in open_keys(supervision))
    clock.advance(seconds=1)
    assert f"handling_long:1:{ticket.number}" in open_keys(supervision)
    engine.finish(ticket.id, "clerk01")
    assert not any(k.startswith("handling_long") for k in open_keys(supervision))


def test_paused_too_long(
    supervision: SupervisionDesk, engine: QueueEngine, clock: FrozenClock, db: Database
) -> None:
    w1 = wid(db, 1)
    engine.open_window(w1, "clerk01")
    engine.pause(w1, "午餐", "clerk01")
    clock.advance(minutes=14, seconds=59)
    assert "paused_long:1" not in open_keys(supervision)
    clock.advance(seconds=1)
    assert "paused_long:1" in open_keys(supervision)
    engine.resume(w1, "clerk01")
    assert "paused_long:1" not in open_keys(supervision)


def test_idle_window_with_eligible_tickets_then_queue_too_long(
    supervision: SupervisionDesk, engine: QueueEngine, clock: FrozenClock, db: Database
) -> None:
    w1 = wid(db, 1)
    engine.open_window(w1, "clerk01")
    for _ in range(9):
        engine.issue("ZMD", "ENT")
    clock.advance(minutes=4, seconds=59)
    found = open_keys(supervision)
    assert "idle_with_queue:1" not in found
    assert "queue_long:ENT" in found  # 9 waiting for one open window (limit 8 per window)
    [queue] = [a for a in supervision.open_alerts("ZMD") if a.kind == "queue_long"]
    assert queue.data["suggest_windows"] == [2, 3]  # closed windows with the ENT skill
    assert "建议开启具备「企业开办」技能的弹性窗口" in queue.message()
    clock.advance(seconds=1)
    assert "idle_with_queue:1" in open_keys(supervision)
    engine.call_next(w1, "clerk01")
    found = open_keys(supervision)
    assert "idle_with_queue:1" not in found and "queue_long:ENT" not in found


def test_scheduled_window_not_open_and_threshold_change_audited(
    supervision: SupervisionDesk, engine: QueueEngine, db: Database
) -> None:
    assert not any(k.startswith("not_open") for k in open_keys(supervision))
    supervision.update_settings("ZMD", {"hall": {"scheduled_windows": [3]}}, "admin")
    assert "not_open:3" in open_keys(supervision)  # the always-open hall opened at midnight
    engine.open_window(wid(db, 3), "clerk03")
    assert "not_open:3" not in open_keys(supervision)
    with UnitOfWork(db, write=False) as uow:
        audit = uow.session.scalars(
            select(AuditRow).where(AuditRow.action == "alert_settings.update")
        ).one()
    detail = json.loads(audit.detail)
    assert detail["before"]["hall"]["scheduled_windows"] == []
    assert detail["after"]["hall"]["scheduled_windows"] == [3]
    with pytest.raises(InvalidInput, match="no window"):
        supervision.update_settings("ZMD", {"hall": {"scheduled_windows": [99]}}, "admin")


def test_bad_review_then_overdue_case(
    supervision: SupervisionDesk, engine: QueueEngine, clock: FrozenClock, db: Database
) -> None:
    w1 = wid(db, 1)
    engine.open_window(w1, "clerk01")
    ticket = engine.issue("ZMD", "ENT").ticket
    engine.call_next(w1, "clerk01")
    engine.start(ticket.id, "clerk01")
    engine.finish(ticket.id, "clerk01")
    desk = EvaluationDesk(engine, b"test-rating-secret-0123456789")
    rating = desk.evaluate(ticket.id, 1, "太慢")
    assert rating.case_id is not None
    assert open_keys(supervision) == {f"bad_review:{rating.case_id}": "red"}
    desk.act(rating.case_id, "call-back", "supervisor", "已回访")
    assert open_keys(supervision) == {}
    clock.advance(days=40)
    assert open_keys(supervision) == {f"case_overdue:{rating.case_id}": "red"}


def test_window_day_counts_calls_no_shows_and_recalls(
    supervision: SupervisionDesk, engine: QueueEngine, db: Database
) -> None:
    w1 = wid(db, 1)
    engine.open_window(w1, "clerk01")
    for _ in range(2):
        engine.issue("ZMD", "ENT")
    first = engine.call_next(w1, "clerk01")
    assert first is not None
    engine.recall(w1, "clerk01")
    engine.no_show(first.id, "clerk01")
    engine.call_next(w1, "clerk01")
    picture, _ = supervision.picture("ZMD")
    day = picture.window_days[1]
    assert (day.calls, day.no_shows, day.recalls) == (2, 1, 1)


def test_acknowledge_with_a_note(
    supervision: SupervisionDesk, engine: QueueEngine, clock: FrozenClock, db: Database
) -> None:
    w1 = wid(db, 1)
    engine.open_window(w1, "clerk01")
    engine.pause(w1, "培训", "clerk01")
    clock.advance(minutes=20)
    supervision.evaluate("ZMD")
    [alert] = supervision.open_alerts("ZMD")
    with pytest.raises(InvalidInput):
        supervision.acknowledge(alert.id, "supervisor", "  ")
    acked = supervision.acknowledge(alert.id, "supervisor", "已电话联系窗口")
    assert (acked.acknowledged_by, acked.note, acked.open) == ("supervisor", "已电话联系窗口", True)
    assert acked.acknowledged_at == clock.now()
    with pytest.raises(Conflict):
        supervision.acknowledge(alert.id, "supervisor", "again")
    engine.resume(w1, "clerk01")
    supervision.evaluate("ZMD")
    assert not supervision.alert(alert.id).open
    types = [t for t, _ in alert_events(db)]
    assert types == ["alert.raised", "alert.acknowledged", "alert.cleared"]
    assert supervision.evaluate("ZMD").raised == []  # nothing changes, nothing is written
