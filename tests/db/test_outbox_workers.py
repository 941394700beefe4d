"""Real worker processes on PostgreSQL: never one row twice; a SIGKILLed claim is taken back."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock, SystemClock
from queue_engine.domain.outbox import DeliveryRules
from queue_engine.services.outbox import DeliveryWorker, Outbox, OutboxMetrics
from tests.helpers.outbox import TEST_KEY, FileChannel

pytestmark = pytest.mark.postgres
ROWS = 300


def _work(url: str, path: str, name: str) -> None:
    from queue_engine.adapters.pii_crypto import PiiCipher

    db = Database(url, pool_size=2, max_overflow=0)
    outbox = Outbox(PiiCipher(TEST_KEY), SystemClock(), DeliveryRules(quiet_start=None))
    channel = FileChannel(Path(path))
    worker = DeliveryWorker(
        db, outbox, {"sms": channel}, name=name, batch=5, metrics=OutboxMetrics()
    )
    worker.drain(rounds=10_000)
    db.dispose()


def _claim_then_hang(url: str) -> None:
    from queue_engine.adapters.pii_crypto import PiiCipher

    db = Database(url, pool_size=1, max_overflow=0)
    outbox = Outbox(PiiCipher(TEST_KEY), SystemClock(), DeliveryRules(quiet_start=None))
    worker = DeliveryWorker(db, outbox, {}, name="doomed", batch=1, metrics=OutboxMetrics())
    worker.claim()
    os.kill(os.getpid(), signal.SIGSTOP)  # stands still until the test kills it


def _fill(db: Database, n: int) -> None:
    from queue_engine.adapters.pii_crypto import PiiCipher

    outbox = Outbox(PiiCipher(TEST_KEY), SystemClock(), DeliveryRules(quiet_start=None))
    with UnitOfWork(db) as uow:
        for i in range(n):
            outbox.enqueue(
                uow, channel="sms", kind="called", hall="ZMD", key=f"r{i}", to="13800000000"
            )
        uow.commit()


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    from tests.conftest import _truncate_postgres

    _truncate_postgres(postgres_url)
    database = Database(postgres_url)
    yield database
    database.dispose()


def test_two_worker_processes_never_send_one_row_twice(pg: Database, tmp_path: Path) -> None:
    _fill(pg, ROWS)
    out = tmp_path / "sent.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_work, args=(pg.url, str(out), f"w{i}")) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    keys = [json.loads(line)["key"] for line in out.read_text().splitlines()]
    assert len(keys) == ROWS and len(set(keys)) == ROWS


def test_a_worker_killed_between_claim_and_send_is_taken_back_with_its_key(
    pg: Database, tmp_path: Path
) -> None:
    _fill(pg, 1)
    ctx = multiprocessing.get_context("spawn")
    doomed = ctx.Process(target=_claim_then_hang, args=(pg.url,))
    doomed.start()
    from sqlalchemy import text

    for _ in range(600):  # until its claim is committed
        with pg.engine.connect() as conn:
            if conn.execute(text("SELECT status FROM outbox")).scalar() == "sending":
                break
        multiprocessing.connection.wait([doomed.sentinel], 0.05)
    assert doomed.pid is not None
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(10)
    out = tmp_path / "sent.jsonl"
    from queue_engine.adapters.pii_crypto import PiiCipher

    clock = FrozenClock(datetime.now(UTC))
    outbox = Outbox(PiiCipher(TEST_KEY), clock, DeliveryRules(quiet_start=None))
    other = DeliveryWorker(pg, outbox, {"sms": FileChannel(out)}, name="o", metrics=OutboxMetrics())
    assert other.once() == 0  # the dead worker's lease still holds
    clock.set(datetime.now(UTC) + timedelta(seconds=61))
    assert other.once() == 1
    assert [json.loads(x)["key"] for x in out.read_text().splitlines()] == ["r0"]
