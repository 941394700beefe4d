"""The bus's in-transaction handlers: a failing one loses only its own writes, unless the
connection itself is gone, when the whole command fails (and the API answers 503, not 500)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from queue_engine.adapters.staff_store import record_audit
from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.bootstrap import HallServices, bootstrap
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.events import DomainEvent


@pytest.fixture
def services(db_url: str, db: object, clock: FrozenClock) -> HallServices:
    built = bootstrap(db_url, pepper=b"test-pepper-0123456789abcdef", clock=clock)
    yield built  # type: ignore[misc]
    built.close()


def _tickets(services: HallServices) -> int:
    with UnitOfWork(services.db, write=False) as uow:
        return int(uow.conn.execute(text("SELECT count(*) FROM tickets")).scalar_one())


def test_a_broken_handler_is_logged_and_the_ticket_stands(services: HallServices) -> None:
    def broken(uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
        raise RuntimeError("a bug in a notice template")

    services.bus.within(broken)
    before = _tickets(services)
    services.engine.issue("ZMD", "RESIDENCE")
    assert _tickets(services) == before + 1


def test_a_lost_connection_in_a_handler_fails_the_command(services: HallServices) -> None:
    def lost(uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
        error = OperationalError("INSERT INTO outbox", {}, Exception("server closed"))
        uow.conn.invalidate(error.orig)  # what SQLAlchemy does on a disconnect
        raise error

    services.bus.within(lost)
    before = _tickets(services)
    with pytest.raises(OperationalError):
        services.engine.issue("ZMD", "RESIDENCE")
    assert _tickets(services) == before


def _audit_rows(services: HallServices, action: str) -> int:
    with UnitOfWork(services.db, write=False) as uow:
        return int(
            uow.conn.execute(
                text("SELECT count(*) FROM audit_log WHERE action = :a"), {"a": action}
            ).scalar_one()
        )


def test_a_broken_handler_loses_only_its_own_writes(services: HallServices) -> None:
    def writes(action: str, fail: bool):
        def handler(uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
            record_audit(uow.conn, services.clock.now(), "bus-test", "admin", action)
            if fail:
                raise RuntimeError("after its write")

        return handler

    services.bus.within(writes("bus.kept", fail=False))
    services.bus.within(writes("bus.undone", fail=True))
    services.bus.within(writes("bus.after", fail=False))
    services.engine.issue("ZMD", "RESIDENCE")
    assert _audit_rows(services, "bus.kept") == 1
    assert _audit_rows(services, "bus.undone") == 0
    assert _audit_rows(services, "bus.after") == 1


def test_a_handler_with_nothing_to_do_costs_no_savepoint(services: HallServices) -> None:
    called: list[int] = []
    statements: list[str] = []

    def handler(uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
        called.append(len(events))

    def seen(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        statements.append(sql)

    services.engine.issue("ZMD", "RESIDENCE")  # the webhooks' subscriptions read and cached
    services.bus.within(handler, when=lambda uow, events: False)
    event.listen(services.db.engine, "before_cursor_execute", seen)
    try:
        services.engine.issue("ZMD", "RESIDENCE")
    finally:
        event.remove(services.db.engine, "before_cursor_execute", seen)
    assert called == []
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]
    services.bus.within(handler, when=lambda uow, events: True)
    services.engine.issue("ZMD", "RESIDENCE")
    assert called == [1]
