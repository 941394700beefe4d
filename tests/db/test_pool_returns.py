"""Connections go back to the pool: after failed, lost and retried commands none stays out.

The concurrency test ran out of pool connections under load (issue 16's engine, twice): a
call-next that kept losing its claim to other windows read the lines deeper and deeper while
holding its connection, and the pool let threads that had just given a connection back take it
again before the threads waiting for one. These tests hold the engine to: a lost claim costs
a fixed number of statements, a call that finds every pick taken lets go of its connection
between tries, and whatever fails (a command, the pipelined commit) returns its connection
and its place at the gate.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from queue_engine.adapters import repository as repo
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.errors import Busy, InvalidTransition, NotFound
from queue_engine.services import tickets
from queue_engine.services.tickets import QueueEngine
from tests.db.test_engine_statements import CALL_STATEMENTS, counting

# A call whose pick another window holds: the claim lost, the heads read deeper, one statement
# locking the first free of the next picks, and that ticket's save in place of the claim.
LOST_CALL_STATEMENTS = CALL_STATEMENTS + 3


def checked_out(db: Database) -> int:
    return int(db.engine.pool.checkedout())  # type: ignore[attr-defined]


def assert_all_returned(db: Database, held_elsewhere: int = 0) -> None:
    assert checked_out(db) == held_elsewhere
    if db.pool_gate is not None:
        assert db.pool_gate.free == 20 and db.pool_gate.waiting == 0


@contextmanager
def another_window_claiming(db: Database, ticket_ids: list[str]) -> Iterator[Connection]:
    """Hold the row locks of ``ticket_ids`` in another transaction, as a claiming window does."""
    with db.engine.connect() as other, other.begin():
        locked = other.execute(
            text("SELECT id FROM tickets WHERE id = ANY(:ids) FOR UPDATE"), {"ids": ticket_ids}
        ).all()
        assert len(locked) == len(ticket_ids)
        yield other


def row_locks_or_skip(db: Database) -> None:
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no row locks: its write transactions are serialised")


def window_10(db: Database) -> int:
    with UnitOfWork(db, write=False) as uow:
        return db.hall_config(uow.conn, "ZMD")[1].window_by_number(10).id


def test_a_lost_claim_costs_a_fixed_number_of_statements_however_many_are_taken(
    engine: QueueEngine, db: Database
) -> None:
    row_locks_or_skip(db)
    window = window_10(db)
    engine.open_window(window, "c1")
    issued = [engine.issue("ZMD", "SOCIAL").ticket.id for _ in range(12)]
    for taken in (1, 5):
        with another_window_claiming(db, issued[:taken]):
            with counting(db) as seen:
                ticket = engine.call_next(window, "c1")
                statements, commits = seen()
            assert ticket is not None and ticket.id == issued[taken]  # the first free one
            assert (statements, commits) == (LOST_CALL_STATEMENTS, 1)
            assert_all_returned(db, held_elsewhere=1)
        engine.start(ticket.id, "c1")
        engine.finish(ticket.id, "c1")
        issued.remove(ticket.id)
    assert_all_returned(db)


def test_a_call_that_finds_every_pick_taken_lets_go_of_its_connection_between_tries(
    engine: QueueEngine, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    row_locks_or_skip(db)
    window = window_10(db)
    engine.open_window(window, "c1")
    issued = [engine.issue("ZMD", "SOCIAL").ticket.id for _ in range(3)]
    monkeypatch.setattr(tickets, "CALL_RETRIES", 5)
    out_between: list[int] = []
    sleep = tickets.time.sleep
    monkeypatch.setattr(
        tickets.time, "sleep", lambda s: (out_between.append(checked_out(db)), sleep(s))
    )
    with another_window_claiming(db, issued), counting(db) as seen:
        with pytest.raises(Busy):
            engine.call_next(window, "c1")
        statements = seen()[0]
    assert out_between == [1] * 5  # only the other window's connection while pausing
    assert statements <= 5 * 5  # window, heads, claim, deeper heads, lock: per try
    assert_all_returned(db)
    assert engine.call_next(window, "c1") is not None  # free again: called at once


def test_failed_commands_return_their_connections(engine: QueueEngine, db: Database) -> None:
    window = window_10(db)
    with pytest.raises(NotFound):
        engine.start("0" * 32, "c1")
    with pytest.raises(InvalidTransition):
        engine.call_next(window, "c1")  # the window is closed
    ticket = engine.issue("ZMD", "SOCIAL").ticket
    with pytest.raises(InvalidTransition):
        engine.finish(ticket.id, "c1")  # not at a window
    if db.pool_gate is not None:
        assert_all_returned(db)


def test_a_failed_pipelined_commit_returns_its_connection_and_the_next_command_works(
    engine: QueueEngine, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = engine.issue("ZMD", "SOCIAL").ticket
    # The next ticket's id collides with the first one's: its insert, sent with the COMMIT
    # (``UnitOfWork.defer``), fails at the commit.
    monkeypatch.setattr(repo, "new_id", lambda: first.id)
    for _ in range(3):
        with pytest.raises(IntegrityError):
            engine.issue("ZMD", "SOCIAL")
    monkeypatch.undo()
    if db.pool_gate is not None:
        assert_all_returned(db)
    second = engine.issue("ZMD", "SOCIAL").ticket
    assert second.seq == first.seq + 1  # the failed issues burnt no number
    assert engine.ticket(second.id).position == 1  # the first one is ahead
