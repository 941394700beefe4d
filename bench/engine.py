"""Engine throughput: issue + call-next through QueueEngine (no HTTP), SQLite and PostgreSQL.

    .venv/bin/python bench/engine.py [--waiting 0,300,1000] [--pairs 1000] [--rounds 3]
                                     [--ref main] [--postgres URL]

For each database and each standing queue (``--waiting``: N tickets of the same service wait
all along; each pair issues one and calls the oldest), a fresh database is made (SQLite file;
on PostgreSQL a database created and dropped by the bench) and measured by a worker process:

- issue+call-next pairs/s (only the time in ``issue`` and ``call_next``; the start and finish
  that free the window again are not timed), and per CPU second of the worker;
- next to it, on the same database in the same process and alternating with it, a bare
  single-row INSERT transaction through SQLAlchemy Core: the floor of any transactional write;
- round trips per pair: on SQLite the statements SQLite runs (BEGIN and COMMIT included,
  ``sqlite3`` trace callback), on PostgreSQL the server's ReadyForQuery answers (libpq trace):
  every Query or Sync the client waits for.

With ``--ref REV`` the same measurements run, back to back with this checkout's and with the
same bench code, on the tree of REV (``git archive``; its own migrations and engine): the
"before" figure of the same minute. The headline is the ratio of pairs/s at the largest queue
to pairs/s with an empty hall (goal: at least 0.8), before and after. Workers are pinned to one
CPU core (the parent waits), so that a noisy 2-core machine hits both sides alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run as a script, this folder comes first on sys.path: bench/http.py would shadow ``http``.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

DEFAULT_POSTGRES = os.environ.get("HALL_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")


# ---- the worker: one code version, one database, one standing queue -------------------------


def bare_inserts(url: str, n: int) -> tuple[float, float]:
    """(one-row INSERT transactions per second, per CPU second), same engine as the app."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, insert

    from queue_engine.adapters.database import make_engine

    bare = Table(
        "bench_bare", MetaData(), Column("id", Integer, primary_key=True), Column("payload", String)
    )
    engine = make_engine(url)
    bare.create(engine, checkfirst=True)
    started, cpu = time.perf_counter(), time.thread_time()
    for i in range(n):
        with engine.begin() as conn:
            conn.execute(insert(bare), {"payload": f"row {i}"})
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
    engine.dispose()
    return n / elapsed, n / cpu


@contextmanager
def round_trips(engine: Any) -> Iterator[Callable[[], int]]:
    """Count what every connection of ``engine`` asks the database (see module docstring)."""
    from sqlalchemy import event

    count = [0]
    traces: list[tuple[Any, str]] = []
    work = Path(tempfile.mkdtemp(prefix="bench-trace-"))

    def trace(dbapi_connection: Any, path: str) -> None:
        # libpq buffers its trace; untrace flushes it (and closes this descriptor).
        dbapi_connection.pgconn.trace(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT))

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if engine.dialect.name == "sqlite":

            def seen(_sql: str) -> None:
                count[0] += 1

            dbapi_connection.set_trace_callback(seen)
        else:
            path = str(work / f"{len(traces)}.trace")
            trace(dbapi_connection, path)
            traces.append((dbapi_connection, path))

    event.listen(engine, "connect", on_connect)

    def total() -> int:
        answers = 0
        for dbapi_connection, path in traces:
            if not dbapi_connection.closed:
                dbapi_connection.pgconn.untrace()
                trace(dbapi_connection, path)
            with open(path, encoding="utf-8", errors="replace") as lines:
                answers += sum("\tReadyForQuery" in line for line in lines)
        return count[0] + answers

    yield total
    for dbapi_connection, _ in traces:
        if not dbapi_connection.closed:
            dbapi_connection.pgconn.untrace()


def engine_pairs(url: str, n: int, *, counted: bool = False) -> dict[str, float]:
    """Pairs per second (and per CPU second, full visits per second); round trips if counted."""
    from queue_engine.adapters.unit_of_work import Database, UnitOfWork
    from queue_engine.services.tickets import QueueEngine

    db = Database(url)
    with round_trips(db.engine) as trips:
        engine = QueueEngine(db)
        with UnitOfWork(db, write=False) as uow:
            window = db.hall_config(uow.conn, "ZMD")[1].window_by_number(10).id
        if engine.window(window).state.value == "closed":
            engine.open_window(window, "bench")
        engine.issue("ZMD", "SOCIAL")  # connections, caches: warm before counting
        first = engine.call_next(window, "bench")
        assert first is not None
        engine.start(first.id, "bench")
        engine.finish(first.id, "bench")
        in_pairs = cpu = 0.0
        pair_trips = 0
        started = time.perf_counter()
        for _ in range(n):
            before = trips() if counted else 0
            t0, c0 = time.perf_counter(), time.thread_time()
            engine.issue("ZMD", "SOCIAL")
            called = engine.call_next(window, "bench")
            in_pairs += time.perf_counter() - t0
            cpu += time.thread_time() - c0
            if counted:
                pair_trips += trips() - before
            assert called is not None
            engine.start(called.id, "bench")
            engine.finish(called.id, "bench")
        total = time.perf_counter() - started
    db.dispose()
    return {
        "pairs_per_s": n / in_pairs,
        "full_visits_per_s": n / total,
        "pairs_per_cpu_s": n / cpu,
        "round_trips_per_pair": pair_trips / n,
    }


def bare_round_trips(url: str) -> float:
    from sqlalchemy import Column, Integer, MetaData, String, Table, insert

    from queue_engine.adapters.database import make_engine

    bare = Table(
        "bench_bare", MetaData(), Column("id", Integer, primary_key=True), Column("payload", String)
    )
    engine = make_engine(url)
    with round_trips(engine) as trips:
        with engine.begin() as conn:
            conn.execute(insert(bare), {"payload": "warm"})
        before = trips()
        for i in range(20):
            with engine.begin() as conn:
                conn.execute(insert(bare), {"payload": f"row {i}"})
        result = (trips() - before) / 20
    engine.dispose()
    return result


def prepare(url: str, waiting: int) -> None:
    from queue_engine.adapters.database import migrate
    from queue_engine.adapters.unit_of_work import Database
    from queue_engine.seed import demo_hall
    from queue_engine.services.admin import AdminDesk
    from queue_engine.services.tickets import QueueEngine

    migrate(url)
    db = Database(url)
    AdminDesk(db).seed_hall(demo_hall(always_open=True))
    engine = QueueEngine(db)
    for _ in range(waiting):
        engine.issue("ZMD", "SOCIAL")
    db.dispose()


def worker(url: str, waiting: int, pairs: int, rounds: int) -> dict[str, Any]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    prepare(url, waiting)
    bare_inserts(url, 100)  # warm up both paths
    engine_pairs(url, 50)
    bare, paired, cpu = [], [], []
    for _ in range(rounds):
        bare.append(bare_inserts(url, pairs)[0])
        result = engine_pairs(url, pairs)
        paired.append(result["pairs_per_s"])
        cpu.append(result["pairs_per_cpu_s"])
    counted = engine_pairs(url, 50, counted=True)
    return {
        "bare_insert_tx_per_s": round(statistics.median(bare)),
        "pairs_per_s": round(statistics.median(paired)),
        "pairs_per_cpu_s": round(statistics.median(cpu)),
        "pair_cost_in_bare_tx": round(
            statistics.median(b / p for b, p in zip(bare, paired, strict=True)), 2
        ),
        "round_trips_per_pair": round(counted["round_trips_per_pair"], 2),
        "bare_round_trips": round(bare_round_trips(url), 2),
    }


# ---- the parent: databases, code versions, the table ---------------------------------------


def unpack(ref: str, into: Path) -> Path:
    """The tree of ``ref`` (``git archive``: the repository's worktrees stay as they are)."""
    archive = into / "ref.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", ref], stdout=out, check=True)
    tree = into / "tree"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


@contextmanager
def database(kind: str, admin_url: str, work: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{work / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from queue_engine.adapters.database import normalize_url

    admin = create_engine(normalize_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"hall_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalize_url(admin_url)).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_worker(code: Path, url: str, waiting: int, pairs: int, rounds: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    args = [sys.executable, str(Path(__file__).resolve()), "--worker", str(code), url]
    args += ["--waiting", str(waiting), "--pairs", str(pairs), "--rounds", str(rounds)]
    out = subprocess.run(args, env=env, check=True, capture_output=True, text=True, cwd=code)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(args: argparse.Namespace, sides: list[tuple[str, Path]], work: Path) -> list[dict]:
    results = []
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    for kind in kinds:
        for waiting in args.waiting:
            for label, code in sides:
                try:
                    with database(kind, args.postgres, work) as url:
                        figures = run_worker(code, url, waiting, args.pairs, args.rounds)
                except Exception as exc:  # report and carry on: the other figures still stand
                    detail = getattr(exc, "stderr", "") or exc
                    print(f"{kind} {waiting} waiting, {label}: failed: {str(detail)[-400:]}")
                    continue
                row = {"database": kind, "waiting": waiting, "code": label, **figures}
                results.append(row)
                print(
                    f"{kind:<10} {waiting:>5} waiting  {label:<22} "
                    f"pairs/s {row['pairs_per_s']:>6}  per CPU s {row['pairs_per_cpu_s']:>6}  "
                    f"bare tx/s {row['bare_insert_tx_per_s']:>6}  "
                    f"pair = {row['pair_cost_in_bare_tx']:>5} bare tx  "
                    f"round trips/pair {row['round_trips_per_pair']:>5} "
                    f"(bare tx {row['bare_round_trips']})",
                    flush=True,
                )
    return results


def headline(results: list[dict], waiting: list[int]) -> None:
    low, high = min(waiting), max(waiting)
    for kind in dict.fromkeys(r["database"] for r in results):
        for code in dict.fromkeys(r["code"] for r in results):
            rows = {r["waiting"]: r for r in results if r["database"] == kind and r["code"] == code}
            if low in rows and high in rows:
                ratio = rows[high]["pairs_per_s"] / rows[low]["pairs_per_s"]
                half_bare = rows[high]["pairs_per_s"] / rows[high]["bare_insert_tx_per_s"]
                print(
                    f"{kind:<10} {code:<22} pairs/s at {high} waiting / at {low}: {ratio:.2f}   "
                    f"pairs/s at {high} / bare tx/s: {half_bare:.2f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--waiting",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[0, 300, 1000],
        help="standing queues, comma-separated (default 0,300,1000)",
    )
    parser.add_argument("--ref", help="also measure this commit's tree ('before'), e.g. main")
    parser.add_argument(
        "--postgres", default=DEFAULT_POSTGRES, help="admin URL of a PostgreSQL server ('' skips)"
    )
    parser.add_argument("--worker", nargs=2, metavar=("CODE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, args.worker[0])
        figures = worker(args.worker[1], args.waiting[0], args.pairs, args.rounds)
        print(json.dumps(figures))
        return
    sys.path.insert(0, str(ROOT))
    print(
        f"bench/engine.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  worker on one core, "
        f"{args.pairs} pairs x {args.rounds} rounds, waiting {args.waiting}, ref {args.ref}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        work = Path(tmp)
        sides = [("after (this checkout)", ROOT)]
        if args.ref:
            sides.insert(0, (f"before ({args.ref})", unpack(args.ref, work)))
        results = measure(args, sides, work)
    headline(results, args.waiting)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
