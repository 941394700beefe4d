"""Engine throughput: issue + call-next through QueueEngine (no HTTP), SQLite and PostgreSQL.

Next to it, in the same run and on the same database, a bare single-row INSERT transaction
through SQLAlchemy Core: the floor that any transactional write pays here. Rounds alternate
between the two so that machine noise hits both alike; the ratio is the figure to compare.

    .venv/bin/python bench/engine.py [--pairs 2000] [--rounds 3] [--waiting 0] [--postgres URL]

The process is pinned to one CPU core. Each engine round issues a ticket, calls it to a window,
then starts and finishes it (so the window is free again); "issue+call pairs/s" counts only the
time spent in issue and call_next, "full visits/s" the whole cycle. With ``--waiting N``
N tickets of the same service wait all along (each pair adds one and calls the oldest), to see
how a long queue costs. Figures per CPU second of this process are printed too: on a shared
machine they move much less than wall-clock rates (on SQLite all the work is in this process).

Why one pair costs about eight bare transactions (SQLite, development machine, CPU time): the
bare transaction is one statement whose commit writes one WAL page, ~75 µs, most of it
SQLAlchemy's connection, transaction and execute bookkeeping. A pair is two transactions with
ten statements between them (issue: hall version, number counter upsert, waiting tickets for the
estimate, ticket insert, event insert; call: window with its hall version, the tickets that can
decide the call, version-checked ticket update, window update, event insert), and its two
commits write about 24 WAL pages, since a ticket row keeps six indexes up to date and an event
row three. That is ~170 µs of commits, ~200 µs of statements (mostly SQLite itself: the hot
statements go straight to the driver, see queue_engine/adapters/prepared.py), ~80 µs for the two
units of work and ~120 µs of the engine's own Python (policy, estimate, domain objects, events):
~570 µs, 7.5 bare transactions; wall-clock a little more (~8), as checkpoints fsync in proportion
to the pages written. On PostgreSQL every statement, BEGIN, COMMIT and the pool's liveness ping
is a round trip to the server: about 17 for a pair against 4 for the bare transaction. A standing
queue (``--waiting``) costs more because the estimate given at issue reads the hall's whole
waiting list.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from queue_engine.adapters.database import make_engine, migrate, normalize_url
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.seed import demo_hall
from queue_engine.services.admin import AdminDesk
from queue_engine.services.tickets import QueueEngine

BARE = Table(
    "bench_bare",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("payload", String(64)),
)


def bare_inserts(url: str, n: int) -> tuple[float, float]:
    """(one-row INSERT transactions per second, per CPU second), same engine as the app."""
    engine = make_engine(url)
    BARE.create(engine, checkfirst=True)
    started, cpu = time.perf_counter(), time.thread_time()
    for i in range(n):
        with engine.begin() as conn:
            conn.execute(insert(BARE), {"payload": f"row {i}"})
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
    engine.dispose()
    return n / elapsed, n / cpu


def engine_pairs(url: str, n: int) -> tuple[float, float, float]:
    """(issue+call-next pairs per second, full visits per second, pairs per CPU second)."""
    db = Database(url)
    engine = QueueEngine(db)
    with UnitOfWork(db, write=False) as uow:
        window = db.hall_config(uow.conn, "ZMD")[1].window_by_number(10).id
    if engine.window(window).state.value == "closed":
        engine.open_window(window, "bench")
    in_pairs = cpu = 0.0
    started = time.perf_counter()
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.thread_time()
        engine.issue("ZMD", "SOCIAL")
        called = engine.call_next(window, "bench")
        in_pairs += time.perf_counter() - t0
        cpu += time.thread_time() - c0
        assert called is not None
        engine.start(called.id, "bench")
        engine.finish(called.id, "bench")
    total = time.perf_counter() - started
    db.dispose()
    return n / in_pairs, n / total, n / cpu


def prepare(url: str, waiting: int) -> None:
    migrate(url)
    db = Database(url)
    AdminDesk(db).seed_hall(demo_hall(always_open=True))
    engine = QueueEngine(db)
    for _ in range(waiting):
        engine.issue("ZMD", "SOCIAL")
    db.dispose()


def measure(label: str, url: str, pairs: int, rounds: int, waiting: int) -> dict[str, object]:
    prepare(url, waiting)
    bare_inserts(url, 200)  # warm up both paths
    engine_pairs(url, 100)
    bare, bare_cpu, paired, full, paired_cpu = [], [], [], [], []
    for _ in range(rounds):
        b, bc = bare_inserts(url, pairs)
        bare.append(b)
        bare_cpu.append(bc)
        p, f, pc = engine_pairs(url, pairs)
        paired.append(p)
        full.append(f)
        paired_cpu.append(pc)
    result = {
        "database": label,
        "bare_insert_tx_per_s": round(statistics.median(bare)),
        "issue_call_pairs_per_s": round(statistics.median(paired)),
        "full_visits_per_s": round(statistics.median(full)),
        "pair_cost_in_bare_tx": round(
            statistics.median(b / p for b, p in zip(bare, paired, strict=True)), 2
        ),
        "bare_insert_tx_per_cpu_s": round(statistics.median(bare_cpu)),
        "issue_call_pairs_per_cpu_s": round(statistics.median(paired_cpu)),
    }
    print(
        f"{label:<10} bare insert tx/s {result['bare_insert_tx_per_s']:>7}   "
        f"issue+call pairs/s {result['issue_call_pairs_per_s']:>6}   "
        f"full visits/s {result['full_visits_per_s']:>6}   "
        f"one pair costs {result['pair_cost_in_bare_tx']} bare transactions\n"
        f"{'':<10} per CPU second of this process: bare tx "
        f"{result['bare_insert_tx_per_cpu_s']:>7}   "
        f"pairs {result['issue_call_pairs_per_cpu_s']:>6}",
        flush=True,
    )
    return result


def postgres_database(admin_url: str) -> tuple[str, object]:
    admin = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"hall_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_url(admin_url)).set(database=name).render_as_string(False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--waiting", type=int, default=0, help="tickets waiting all along")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("HALL_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test"),
        help="admin URL of a PostgreSQL server ('' to skip)",
    )
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(
        f"bench/engine.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  one core, "
        f"{args.pairs} pairs x {args.rounds} rounds, {args.waiting} waiting"
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(
            measure("sqlite", f"sqlite:///{tmp}/bench.db", args.pairs, args.rounds, args.waiting)
        )
    if args.postgres:
        try:
            url, drop = postgres_database(args.postgres)
        except Exception as exc:  # report and carry on: SQLite figures still stand
            print(f"postgresql skipped: {exc.__class__.__name__}: {exc}")
        else:
            try:
                results.append(measure("postgresql", url, args.pairs, args.rounds, args.waiting))
            finally:
                drop()  # type: ignore[operator]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
