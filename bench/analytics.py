"""KPIs for one year of the demo hall: from the CSV event log, and from the database.

    .venv/bin/python bench/analytics.py [--tickets 510000] [--out DIR] [--postgres URL]
                                        [--skip-db]

1. Generates a year of the demo hall ZMD (its services, windows and opening hours; ~2,000
   tickets a working day, China's 2026 working days): issue, call, start, finish per ticket,
   some no-shows (a part requeued), cancellations, transfers and 好差评 ratings, and each
   window's opening, lunch pause and closing. Written as the SPEC §5 CSV file.
2. In a fresh process (so that its peak memory is its own) reads the CSV and computes every
   KPI table of ``hall kpis`` (overall and by day, hour, service, window, clerk, channel and
   priority), timing each stage and measuring peak RSS. Goal: ≤ 5 s and ≤ 2 GB.
   Baseline in the same run: ``pandas.read_csv`` of the file with no parsing at all; the
   ratio to it says how much the KPI work costs beyond merely reading the bytes.
3. Loads the events into a database (SQLite file, or PostgreSQL with --postgres) and, again
   in a fresh process, times ``read_events_db`` for the year plus the same KPIs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from queue_engine.domain.events import EVENT_COLUMNS
from queue_engine.domain.workdays import is_working_day

ZONE = ZoneInfo("Asia/Shanghai")
YEAR = 2026
SEED = 20261126
PERIODS = ((9 * 60, 12 * 60), (13 * 60, 17 * 60))  # minutes after midnight


def _hall() -> tuple[list[Any], list[Any]]:
    from queue_engine.seed import DEMO_SERVICES, DEMO_WINDOWS

    return list(DEMO_SERVICES), list(DEMO_WINDOWS)


def generate(path: Path, tickets: int) -> dict[str, Any]:
    """Write a year of events as CSV; returns counts."""
    rng = np.random.default_rng(SEED)
    services, windows = _hall()
    days = [d for d in _dates() if is_working_day(d)]
    per_day = tickets // len(days)
    codes = np.array([s.code for s in services])
    weights = rng.dirichlet(np.ones(len(services)) * 3)
    standard = np.array([s.standard_minutes for s in services])
    skilled = {s.code: [w.number for w in windows if s.code in w.skills] for s in services}
    frames = []
    for day_index, day in enumerate(days):
        n = per_day + (1 if day_index < tickets - per_day * len(days) else 0)
        frames.append(_day(rng, day, n, codes, weights, standard, skilled, day_index))
        frames.append(_windows(day, [w.number for w in windows]))
    events = pd.concat(frames, ignore_index=True)
    events["event_id"] = [f"e{i:08d}" for i in range(len(events))]
    events["hall"] = "ZMD"
    events = events[list(EVENT_COLUMNS)]
    events.to_csv(path, index=False)
    return {"days": len(days), "tickets": tickets, "events": len(events)}


def _dates() -> list[date]:
    first = date(YEAR, 1, 1)
    return [first + timedelta(days=i) for i in range(365)]


def _day(
    rng: np.random.Generator,
    day: date,
    n: int,
    codes: np.ndarray[Any, Any],
    weights: np.ndarray[Any, Any],
    standard: np.ndarray[Any, Any],
    skilled: dict[str, list[int]],
    day_index: int,
) -> pd.DataFrame:
    """One working day's ticket events (vectorised; no queue model, only plausible times)."""
    midnight = pd.Timestamp(datetime.combine(day, datetime.min.time(), ZONE))
    service_index = rng.choice(len(codes), size=n, p=weights)
    service = codes[service_index]
    # arrivals: more in the morning peak, none in the lunch break
    morning = rng.random(n) < 0.55
    start = np.where(morning, PERIODS[0][0], PERIODS[1][0])
    length = np.where(morning, 180 - 20, 240 - 30)
    issued = start + rng.beta(1.6, 2.2, n) * length
    wait = rng.exponential(4.5, n)
    handling = rng.lognormal(np.log(standard[service_index] * 0.8) - 0.08, 0.4)
    called = issued + wait
    started = called + rng.uniform(0.2, 1.0, n)
    finished = started + handling
    fate = rng.random(n)
    cancelled = fate < 0.01
    no_show = (fate >= 0.01) & (fate < 0.04)
    requeued = no_show & (rng.random(n) < 0.4)
    transferred = (fate >= 0.04) & (fate < 0.05)
    rated = (fate >= 0.05) & (rng.random(n) < 0.35)
    window = np.array([rng.choice(skilled[s]) for s in service])
    channel = rng.choice(["kiosk", "app", "web", "appointment"], size=n, p=[0.6, 0.15, 0.1, 0.15])
    priority = np.where(rng.random(n) < 0.08, "elderly", "none")
    seq = np.arange(1, n + 1)
    ticket_id = np.array([f"{day_index:03d}{i:06d}" for i in range(n)])
    number = np.array([f"{s[0]}{k:03d}" for s, k in zip(service, seq, strict=True)])
    estimate = [
        f'{{"estimated_wait":{{"median_minutes":{m:.1f},"p90_minutes":{m * 2.2:.1f}}}}}'
        for m in rng.gamma(3.0, 1.5, n)
    ]
    base = {
        "ticket_id": ticket_id,
        "ticket_number": number,
        "service": service,
        "channel": channel,
        "priority": priority,
    }
    window_text = window.astype(str)
    clerk = np.char.add("clerk", np.char.zfill(window_text, 2))
    parts = [
        _rows(base, midnight, issued, "ticket.issued", None, None, estimate),
        _rows(base, midnight, called, "ticket.called",
              window_text, clerk, None, ~cancelled),
        _rows(base, midnight, issued + 8, "ticket.cancelled", None, None,
              ['{"by":"holder"}'] * n, cancelled),
        _rows(base, midnight, called + 1.5, "ticket.no_show", window_text, clerk,
              np.where(requeued, '{"requeued":true}', '{"requeued":false}'), no_show),
        _rows(base, midnight, called + 10, "ticket.called", window_text, clerk, None, requeued),
        _rows(base, midnight, started, "ticket.started", window_text, clerk, None,
              ~cancelled & (~no_show | requeued)),
        _rows(base, midnight, started + 2, "ticket.transferred", window_text, clerk,
              ['{"from_service":"x","to_service":"POLICY"}'] * n, transferred),
        _rows(base, midnight, finished, "ticket.finished", window_text, clerk, None,
              ~cancelled & (~no_show | requeued)),
        _rows(base, midnight, finished + 0.5, "evaluation", window_text, clerk,
              [f'{{"score":{s},"comment":""}}' for s in rng.choice([5, 4, 3, 2, 1], n,
               p=[0.8, 0.12, 0.05, 0.02, 0.01])], rated),
    ]  # fmt: skip
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values("ts", kind="stable")


def _rows(
    base: dict[str, Any],
    midnight: pd.Timestamp,
    minutes: np.ndarray[Any, Any],
    kind: str,
    window: Any,
    clerk: Any,
    payload: Any,
    mask: np.ndarray[Any, Any] | None = None,
) -> pd.DataFrame:
    n = len(minutes)
    keep = np.ones(n, dtype=bool) if mask is None else mask
    ts = (midnight + pd.to_timedelta(minutes[keep], unit="min")).round("s")
    frame = pd.DataFrame({k: np.asarray(v)[keep] for k, v in base.items()})
    frame["ts"] = ts.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    frame["type"] = kind
    frame["window"] = None if window is None else np.asarray(window)[keep]
    frame["clerk"] = None if clerk is None else np.asarray(clerk)[keep]
    frame["payload"] = "{}" if payload is None else np.asarray(payload)[keep]
    return frame


def _windows(day: date, numbers: list[int]) -> pd.DataFrame:
    rows = []
    for number in numbers:
        clerk = f"clerk{number:02d}"
        for hhmm, kind, payload in (
            ("08:55", "window.opened", "{}"),
            ("12:00", "window.paused", '{"reason":"午休"}'),
            ("13:00", "window.resumed", "{}"),
            ("17:05", "window.closed", "{}"),
        ):
            hour, minute = (int(part) for part in hhmm.split(":"))
            ts = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)
            rows.append(
                {"ts": ts.isoformat(), "type": kind, "window": str(number), "clerk": clerk,
                 "payload": payload}
            )  # fmt: skip
    return pd.DataFrame(rows)


# -- measuring (in a fresh process) -----------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited at exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def measure_csv(path: str) -> dict[str, Any]:
    from analytics.kpis import DIMENSIONS, Ledger, kpis
    from analytics.load import read_events_csv

    timings: dict[str, float] = {}
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    events = read_events_csv(path)
    timings["read_csv"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    ledger = Ledger.from_events(events)
    timings["rebuild_tickets"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    tables = {dim: kpis(ledger, dim) for dim in DIMENSIONS}
    overall = kpis(ledger).iloc[0]
    timings["kpi_tables"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    timings["cpu_total"] = time.process_time() - cpu0
    return {
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "peak_rss_mb": round(peak_rss_mb(), 0),
        "events": len(events),
        "tickets": int(overall["tickets"]),
        "served": int(overall["served"]),
        "mean_wait_minutes": round(float(overall["wait_mean"]), 2),
        "days": len(tables["day"]),
    }


def measure_baseline(path: str) -> dict[str, Any]:
    t0, cpu0 = time.perf_counter(), time.process_time()
    # text as Python objects: with pyarrow installed dtype=str would also copy it into Arrow
    frame = pd.read_csv(path, dtype=object, keep_default_na=False)
    return {"seconds": round(time.perf_counter() - t0, 2), "rows": len(frame),
            "cpu_seconds": round(time.process_time() - cpu0, 2),
            "peak_rss_mb": round(peak_rss_mb(), 0)}  # fmt: skip


def measure_db(url: str) -> dict[str, Any]:
    from analytics.kpis import DIMENSIONS, Ledger, kpis
    from analytics.load import read_events_db

    t0, cpu0 = time.perf_counter(), time.process_time()
    events = read_events_db(url, "ZMD", date(YEAR, 1, 1), date(YEAR, 12, 31))
    read = time.perf_counter() - t0
    ledger = Ledger.from_events(events)
    for dim in DIMENSIONS:
        kpis(ledger, dim)
    total = time.perf_counter() - t0
    cpu = round(time.process_time() - cpu0, 2)
    seconds = {"read_events_db": round(read, 2), "total": round(total, 2), "cpu_total": cpu}
    return {"seconds": seconds, "peak_rss_mb": round(peak_rss_mb(), 0), "events": len(events)}


def _child(mode: str, target: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", mode, target],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def load_database(csv_path: Path, url: str) -> dict[str, Any]:
    """The year's events into the events table of a migrated database with the demo hall."""
    from sqlalchemy import insert

    from queue_engine.adapters.database import migrate
    from queue_engine.adapters.orm import EventRow
    from queue_engine.adapters.unit_of_work import Database, UnitOfWork
    from queue_engine.seed import demo_hall
    from queue_engine.services.admin import AdminDesk

    migrate(url)
    db = Database(url)
    AdminDesk(db).seed_hall(demo_hall())
    t0 = time.perf_counter()
    for chunk in pd.read_csv(csv_path, dtype=str, keep_default_na=False, chunksize=100_000):
        chunk["ts"] = pd.to_datetime(chunk["ts"], utc=True, format="ISO8601")
        rows = chunk.replace({"": None}).to_dict(orient="records")
        for row in rows:
            row["ts"] = row["ts"].to_pydatetime()
            row["payload"] = row["payload"] or "{}"
        with UnitOfWork(db) as uow:
            uow.conn.execute(insert(EventRow), rows)
            uow.commit()
    db.dispose()
    return {"load_seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=510_000)
    parser.add_argument("--out", type=Path, default=None, help="folder for the CSV and SQLite")
    parser.add_argument("--postgres", default=None, help="PostgreSQL URL for the database path")
    parser.add_argument("--skip-db", action="store_true")
    parser.add_argument("--measure", nargs=2, metavar=("MODE", "TARGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        mode, target = args.measure
        runner = {"csv": measure_csv, "baseline": measure_baseline, "db": measure_db}[mode]
        print(json.dumps(runner(target)))
        return

    folder = args.out or Path(tempfile.mkdtemp(prefix="hall-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "zmd-year.csv"
    t0 = time.perf_counter()
    counts = generate(csv_path, args.tickets)
    size_mb = csv_path.stat().st_size / 2**20
    print(f"generated {counts['tickets']:,} tickets, {counts['events']:,} events over "
          f"{counts['days']} working days in {time.perf_counter() - t0:.1f} s "
          f"({size_mb:.0f} MB): {csv_path}")  # fmt: skip

    baseline = _child("baseline", str(csv_path))
    result = _child("csv", str(csv_path))
    ratio = result["seconds"]["cpu_total"] / baseline["cpu_seconds"]
    verdict = (
        "meets" if result["seconds"]["total"] <= 5 and result["peak_rss_mb"] <= 2048 else "MISSES"
    )
    print(f"baseline pandas.read_csv (no parsing): {baseline['seconds']} s "
          f"(CPU {baseline['cpu_seconds']} s), "
          f"peak {baseline['peak_rss_mb']:.0f} MB")  # fmt: skip
    print(f"CSV → KPIs: {json.dumps(result['seconds'])}; peak RSS {result['peak_rss_mb']:.0f} MB; "
          f"CPU {ratio:.2f}× the bare read; {verdict} the goal (≤ 5 s, ≤ 2048 MB)")  # fmt: skip
    print(f"  {result['tickets']:,} tickets, {result['served']:,} served, mean wait "
          f"{result['mean_wait_minutes']} min, {result['days']} days")  # fmt: skip
    if args.skip_db:
        return
    url = args.postgres or f"sqlite:///{folder / 'zmd-year.db'}"
    loaded = load_database(csv_path, url)
    db = _child("db", url)
    print(f"database ({url.split(':')[0]}) loaded in {loaded['load_seconds']} s; "
          f"DB → KPIs: {json.dumps(db['seconds'])}; peak RSS {db['peak_rss_mb']:.0f} MB; "
          f"{db['events']:,} events")  # fmt: skip


if __name__ == "__main__":
    main()
