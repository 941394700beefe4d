"""One open window per clerk holds under concurrency, on SQLite and on PostgreSQL.

Threads stand for browser tabs of one clerk opening different windows at the same moment:
exactly one wins, the others get ``Conflict`` (``clerk_has_window``), and the database never
holds two open windows of that clerk.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update

from queue_engine.adapters.orm import HallRow, WindowRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.errors import Conflict
from queue_engine.services.tickets import QueueEngine

TABS = 8


def _open_at_once(engine: QueueEngine, windows: list[int], clerk: str) -> list[object]:
    barrier = threading.Barrier(len(windows))
    results: list[object] = [None] * len(windows)

    def tab(i: int) -> None:
        barrier.wait()
        try:
            results[i] = engine.open_window(windows[i], clerk)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(len(windows))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _open_windows_of(db: Database, clerk: str) -> int:
    with UnitOfWork(db, write=False) as uow:
        return int(
            uow.conn.execute(
                select(func.count())
                .select_from(WindowRow)
                .where(WindowRow.clerk == clerk, WindowRow.state != "closed")
            ).scalar_one()
        )


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_opens_by_one_clerk_leave_one_window_open(
    db: Database, engine: QueueEngine, round_: int
) -> None:
    windows = [w.id for w in engine.hall_config("ZMD").windows][:TABS]
    results = _open_at_once(engine, windows, "clerk01")
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(refused) == TABS - 1, results
    assert all(r.code == "clerk_has_window" for r in refused)
    assert _open_windows_of(db, "clerk01") == 1


def test_concurrent_opens_are_all_allowed_when_the_hall_allows_it(
    db: Database, engine: QueueEngine
) -> None:
    with UnitOfWork(db) as uow:
        uow.conn.execute(
            update(HallRow)
            .where(HallRow.code == "ZMD")
            .values(clerk_many_windows=True, config_version=HallRow.config_version + 1)
        )
        uow.commit()
    windows = [w.id for w in engine.hall_config("ZMD").windows][:TABS]
    results = _open_at_once(engine, windows, "clerk01")
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert _open_windows_of(db, "clerk01") == TABS
