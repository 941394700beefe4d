"""Issue and call-next send the database a fixed number of statements, whatever the queue.

Every statement on the connection passes SQLAlchemy's ``before_cursor_execute`` event (the
prepared hot-path statements too); commits pass ``commit``. A pair is counted with an empty
hall and again with 300 tickets waiting (issue 16): the counts must be the same and small, on
SQLite and on PostgreSQL. Caches that refresh on a timer (window states every second,
handling statistics every 30 s) may add a statement to one command, never one per ticket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.services.tickets import QueueEngine

# Statements of an issue: hall version, number counter upsert, the lines' counts (one
# statement for a regular ticket), ticket insert, event insert.
ISSUE_STATEMENTS = 5
# Of a call: window with its hall version, heads of the window's lines, the claim (update with
# its version and SKIP LOCKED check), window update, event insert.
CALL_STATEMENTS = 5
TIMED_CACHES = 2  # window states, handling statistics


@contextmanager
def counting(db: Database) -> Iterator[Callable[[], tuple[int, int]]]:
    """(statements, commits) sent through ``db``'s engine since the block began."""
    seen = [0, 0]

    def statement(*_args: Any) -> None:
        seen[0] += 1

    def commit(*_args: Any) -> None:
        seen[1] += 1

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        yield lambda: (seen[0], seen[1])
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)


def counted(db: Database, act: Callable[[], object]) -> tuple[int, int]:
    with counting(db) as seen:
        act()
        return seen()


def pair_counts(engine: QueueEngine, db: Database, window: int) -> list[tuple[int, int]]:
    """(issue statements, call statements) of three pairs; each called ticket is finished."""
    pairs = []
    for _ in range(3):
        issued, issue_commits = counted(db, lambda: engine.issue("ZMD", "SOCIAL"))
        with counting(db) as seen:
            ticket = engine.call_next(window, "c1")
            called, call_commits = seen()
        assert ticket is not None
        assert issue_commits == call_commits == 1
        engine.start(ticket.id, "c1")
        engine.finish(ticket.id, "c1")
        pairs.append((issued, called))
    return pairs


def test_a_pair_costs_the_same_statements_with_300_waiting_as_with_none(
    engine: QueueEngine, db: Database
) -> None:
    with UnitOfWork(db, write=False) as uow:
        window = db.hall_config(uow.conn, "ZMD")[1].window_by_number(10).id
    engine.open_window(window, "c1")
    empty = pair_counts(engine, db, window)
    for _ in range(300):
        engine.issue("ZMD", "SOCIAL")
    full = pair_counts(engine, db, window)
    steady_empty = (min(i for i, _ in empty), min(c for _, c in empty))
    steady_full = (min(i for i, _ in full), min(c for _, c in full))
    assert steady_full == steady_empty == (ISSUE_STATEMENTS, CALL_STATEMENTS)
    for issued, called in empty + full:
        assert issued <= ISSUE_STATEMENTS + TIMED_CACHES
        assert called <= CALL_STATEMENTS + TIMED_CACHES
