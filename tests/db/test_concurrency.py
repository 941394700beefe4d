"""Concurrency on real databases: many kiosks and clerks at once, and a worker killed mid-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import time as clock_time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from queue_engine.adapters.orm import EventRow, TicketRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.hours import OpeningHours
from queue_engine.domain.model import Service
from queue_engine.seed import HallSpec, WindowSpec
from queue_engine.services.admin import AdminDesk
from queue_engine.services.tickets import QueueEngine
from tests.helpers.consistency import assert_consistent

WINDOWS = 16
ISSUERS = 8
TICKETS = 2000


def busy_hall(db: Database) -> list[int]:
    """Hall ``CONC``: services A and B, 16 windows that serve both (half of them A first)."""
    spec = HallSpec(
        code="CONC",
        name_zh="并发测试大厅",
        name_en="Concurrency hall",
        hours=OpeningHours(weekly={d: ((clock_time(0), clock_time.max),) for d in range(7)}),
        services=(
            Service("A", "A", "甲", "A", "zone", 5),
            Service("B", "B", "乙", "B", "zone", 5),
        ),
        windows=tuple(
            WindowSpec(
                n, f"窗口{n}", "zone", ("A",) if n % 2 else ("B",), ("B",) if n % 2 else ("A",)
            )
            for n in range(1, WINDOWS + 1)
        ),
    )
    AdminDesk(db).seed_hall(spec)
    with UnitOfWork(db, write=False) as uow:
        config = db.hall_config(uow.conn, "CONC")[1]
    return [w.id for w in config.windows]


def test_many_clerks_and_kiosks_never_share_lose_or_skip_a_ticket(
    db: Database, clock: FrozenClock
) -> None:
    windows = busy_hall(db)
    engine = QueueEngine(db, clock)
    for w in windows:
        engine.open_window(w, f"clerk{w}")
    issued: list[str] = []
    served: list[tuple[int, str]] = []
    errors: list[BaseException] = []
    issuing_done = threading.Event()
    lock = threading.Lock()

    def issuer(n: int) -> None:
        try:
            for i in range(TICKETS // ISSUERS):
                t = engine.issue("CONC", "A" if (n + i) % 3 else "B").ticket
                with lock:
                    issued.append(t.id)
        except BaseException as exc:
            errors.append(exc)

    def clerk(window: int) -> None:
        try:
            while True:
                t = engine.call_next(window, f"clerk{window}")
                if t is None:
                    if issuing_done.is_set() and engine.call_next(window, f"clerk{window}") is None:
                        return
                    time.sleep(0.001)
                    continue
                with lock:
                    served.append((window, t.id))
                engine.start(t.id, f"clerk{window}")
                engine.finish(t.id, f"clerk{window}")
        except BaseException as exc:
            errors.append(exc)

    clerks = [threading.Thread(target=clerk, args=(w,)) for w in windows]
    issuers = [threading.Thread(target=issuer, args=(n,)) for n in range(ISSUERS)]
    for t in clerks + issuers:
        t.start()
    for t in issuers:
        t.join()
    issuing_done.set()
    for t in clerks:
        t.join(timeout=120)
    assert not errors, errors[:3]
    assert len(issued) == TICKETS == len(set(issued))
    served_ids = [tid for _, tid in served]
    assert Counter(served_ids).most_common(1)[0][1] == 1, "a ticket was called twice"
    assert set(served_ids) == set(issued), "a ticket was lost or skipped"
    assert len({w for w, _ in served}) > 1, "only one window worked"
    assert assert_consistent(db) == {"done": TICKETS}
    with UnitOfWork(db, write=False) as uow:
        calls = uow.conn.execute(
            select(func.count()).select_from(EventRow).where(EventRow.type == "ticket.called")
        ).scalar_one()
    assert calls == TICKETS


def test_concurrent_retries_with_one_idempotency_key_make_one_ticket(
    db: Database, clock: FrozenClock
) -> None:
    engine = QueueEngine(db, clock)
    barrier = threading.Barrier(8)
    results: list[str] = []
    errors: list[BaseException] = []

    def retry() -> None:
        try:
            barrier.wait()
            results.append(engine.issue("ZMD", "TAX", idempotency_key="kiosk-1:42").ticket.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(results) == 8 and len(set(results)) == 1
    with UnitOfWork(db, write=False) as uow:
        rows = uow.conn.execute(select(func.count()).select_from(TicketRow)).scalar_one()
    assert rows == 1
    assert engine.issue("ZMD", "TAX").ticket.number == "E002"  # no number was burnt
    assert_consistent(db)


def test_a_worker_killed_mid_work_loses_nothing_committed(db: Database, db_url: str) -> None:
    windows = busy_hall(db)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [sys.executable, "-m", "tests.helpers.worker", db_url, "CONC", str(windows[0]), "4"]
    lines: list[list[str]] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while len(lines) < 400 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.split())
        os.kill(proc.pid, signal.SIGKILL)
        lines.extend(line.split() for line in proc.stdout.read().splitlines())
    assert proc.returncode == -signal.SIGKILL
    issued = {parts[1] for parts in lines if parts[0] == "issued"}
    finished = {parts[1] for parts in lines if parts[0] == "finished"}
    assert len(issued) > 50, "the worker did too little before it was killed"

    counts = assert_consistent(db)
    with UnitOfWork(db, write=False) as uow:
        rows = {r.id: r for r in uow.conn.execute(select(TicketRow))}
    assert issued <= set(rows), "a ticket reported as committed is missing"
    assert all(rows[t].status == "done" for t in finished)
    assert sum(counts.values()) in (len(issued), len(issued) + 1)  # +1: committed, not printed

    # The hall carries on where the worker stopped: the next A number follows the last one.
    survivor = QueueEngine(db).issue("CONC", "A", check_hours=False).ticket
    assert survivor.seq == 1 + sum(1 for r in rows.values() if r.prefix == "A")
    assert_consistent(db)


pytestmark = pytest.mark.timeout(240)
