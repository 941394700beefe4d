"""Notices per second through the outbox, and latency from the call to the hand-over.

    .venv/bin/python bench/notify.py [--rate 50] [--seconds 20] [--workers 2]
                                     [--postgres URL | --sqlite PATH]

A producer thread enqueues "called" notices at ``--rate`` per second, each in its own unit of
work (as a call commits its notice); ``--workers`` delivery workers (threads, each its own
name and claims; on PostgreSQL they claim with SKIP LOCKED) hand them to a recording channel
(the log channel without the log line). Reports notices/s handed over and the latency from
the row's cause time to its hand-over, p50/p99, read from the table itself. Goal: p99 < 2 s
at 50 notices/s with 2 workers. Quiet hours and the per-phone limit are off.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import select, text

from queue_engine.adapters.database import migrate
from queue_engine.adapters.orm import OutboxRow
from queue_engine.adapters.pii_crypto import PiiCipher, new_key_spec
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import SystemClock
from queue_engine.domain.outbox import Delivery, DeliveryRules
from queue_engine.services.outbox import DeliveryWorker, Outbox, OutboxMetrics


class Counting:
    name = "sms"

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def send(self, delivery: Delivery) -> None:
        with self._lock:
            self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--sqlite", default=None)
    args = parser.parse_args()
    url = f"sqlite:///{args.sqlite or Path(tempfile.mkdtemp()) / 'notify.db'}"
    if args.postgres:
        url = _scratch_database(args.postgres)
    try:
        _run(args, url)
    finally:
        if args.postgres:
            _drop(args.postgres, url)


def _scratch_database(server: str) -> str:
    """A database of this run's own on the server (the server's own database is left alone)."""
    import os

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from queue_engine.adapters.database import normalize_url

    name = f"hall_bench_notify_{os.getpid()}"
    admin = create_engine(normalize_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(normalize_url(server)).set(database=name)
    return url.render_as_string(hide_password=False)


def _drop(server: str, url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from queue_engine.adapters.database import normalize_url

    admin = create_engine(normalize_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _run(args: argparse.Namespace, url: str) -> None:
    migrate(url)
    db = Database(url, pool_size=args.workers + 4)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM outbox WHERE key LIKE 'bench:%'"))
    outbox = Outbox(
        PiiCipher(new_key_spec("bench")),
        SystemClock(),
        DeliveryRules(quiet_start=None, per_phone_hour=0),
    )
    channel = Counting()
    stop = threading.Event()
    workers = [
        DeliveryWorker(db, outbox, {"sms": channel}, name=f"w{i}", metrics=OutboxMetrics())
        for i in range(args.workers)
    ]
    threads = [threading.Thread(target=w.run, args=(stop, 0.02)) for w in workers]
    for t in threads:
        t.start()
    total = int(args.rate * args.seconds)
    started = time.monotonic()
    for i in range(total):
        pause = started + i / args.rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        with UnitOfWork(db) as uow:
            outbox.enqueue(
                uow,
                channel="sms",
                kind="called",
                hall="ZMD",
                key=f"bench:{i}",
                to="13800000000",
                text="请 A012 号到 5 号窗口办理",
                urgent=True,
            )
            uow.commit()
    deadline = time.monotonic() + 30
    while channel.count < total and time.monotonic() < deadline:
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    stop.set()
    for t in threads:
        t.join()
    with db.engine.connect() as conn:
        t = OutboxRow.__table__
        query = select(t.c.created_at, t.c.sent_at).where(t.c.sent_at.is_not(None))
        rows = conn.execute(query).all()
    latencies = sorted(_seconds(r[1]) - _seconds(r[0]) for r in rows)

    def q(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))]
            if latencies
            else float("nan")
        )

    print(
        json.dumps(
            {
                "database": url.split("://")[0],
                "workers": args.workers,
                "rate": args.rate,
                "enqueued": total,
                "handed_over": channel.count,
                "notices_per_s": round(channel.count / elapsed, 1),
                "latency_p50_s": round(q(0.5), 3),
                "latency_p99_s": round(q(0.99), 3),
                "goal_p99_below_2s": q(0.99) < 2.0,
            }
        )
    )
    db.dispose()


def _seconds(value: object) -> float:
    from datetime import UTC, datetime

    assert isinstance(value, datetime)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


if __name__ == "__main__":
    main()
