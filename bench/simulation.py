"""Simulation speed: customers/s on M/M/c against Ciw, a simulated year, a staffing plan.

    .venv/bin/python bench/simulation.py [--rounds 3] [--skip-staffing]

1. M/M/c (λ = 0.8/min, mean service 5 min, c = 5, ρ = 0.8), the same number of customers in our
   SimPy model and in Ciw, alternating rounds in this process pinned to one core; the figure
   is customers simulated per CPU second and the ratio ours/Ciw (goal ≥ 2×).
2. One simulated year of the demo hall ZMD (250 working days, ~2,000 citizens a day, 22 windows
   with primary and secondary skills, appointments, priority, patience, no-shows, lunch break)
   on one core (goal ≤ 10 s): wall-clock and CPU seconds (the machine may be shared).
3. A full staffing plan (60-minute intervals, scenario layout plus the dedicated and
   comprehensive comparisons, 10 replications per tried plan) for a 9-hour demo day on 2
   processes (goal ≤ 60 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ciw
import numpy as np

from simulations.demo import NINE_HOUR_PROFILE, demo_scenario
from simulations.kpis import waits
from simulations.model import SimResult, simulate
from simulations.scenario import parse_scenario
from simulations.staffing import staff

LAM, MEAN, SERVERS = 0.8, 5.0, 5


def ours(minutes: float, seed: int) -> tuple[int, float]:
    sc = parse_scenario(
        {
            "horizon_minutes": minutes,
            "services": [
                {
                    "code": "A",
                    "arrivals_per_hour": LAM * 60,
                    "service_time": {"dist": "exponential", "mean_minutes": MEAN},
                }
            ],
            "windows": [{"count": SERVERS, "services": ["A"]}],
        }
    )
    start = time.process_time()
    result = simulate(sc, seed)
    elapsed = time.process_time() - start
    return int((result.status == 1).sum()), elapsed


def theirs(minutes: float, seed: int) -> tuple[int, float]:
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=LAM)],
        service_distributions=[ciw.dists.Exponential(rate=1 / MEAN)],
        number_of_servers=[SERVERS],
    )
    start = time.process_time()
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(minutes)
    elapsed = time.process_time() - start
    return len(sim.get_all_records()), elapsed


def mmc(rounds: int, minutes: float) -> dict[str, float]:
    ours_rate, ciw_rate = [], []
    for r in range(rounds):
        n, t = ours(minutes, r)
        ours_rate.append(n / t)
        n, t = theirs(minutes, r)
        ciw_rate.append(n / t)
    a, b = statistics.median(ours_rate), statistics.median(ciw_rate)
    return {
        "ours_customers_per_s": round(a),
        "ciw_customers_per_s": round(b),
        "ratio": round(a / b, 2),
    }


def year() -> dict[str, float]:
    sc = demo_scenario(days=250)
    start, cpu = time.perf_counter(), time.process_time()
    result = simulate(sc, 2026)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    overall = summarize_fast(result)
    return {
        "citizens": int(result.arrivals.t.size),
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "citizens_per_cpu_s": round(result.arrivals.t.size / cpu),
        **overall,
    }


def summarize_fast(result: SimResult) -> dict[str, float]:
    """Headline figures of the year from the run's arrays (analytics on 2 million events would
    time the KPI code, not the simulation)."""
    wait = waits(result)
    busy = sum(w.busy for w in result.windows)
    close = result.scenario.open_minute + result.scenario.day_minutes
    scheduled = sum(
        min(e, s // 1440 * 1440 + close) - s
        for w in result.windows
        for s, e in zip(w.starts, w.ends, strict=True)
    )
    return {
        "mean_wait_minutes": round(float(np.nanmean(wait)), 2),
        "share_within_15_minutes": round(float(np.nanmean(wait[~np.isnan(wait)] <= 15)), 3),
        "busy_share_of_open_time": round(busy / scheduled, 3),
    }


def staffing() -> dict[str, float]:
    sc = demo_scenario(profile=NINE_HOUR_PROFILE)
    start = time.perf_counter()
    plan = staff(sc, seed=1, minutes=60, replications=10, workers=2)
    return {
        "seconds": round(time.perf_counter() - start, 2),
        "simulated_plans": plan["simulated_plans"],
        "window_hours": plan["window_hours"],
        "dedicated_window_hours": plan["comparison"]["dedicated"]["window_hours"],
        "comprehensive_window_hours": plan["comparison"]["comprehensive"]["window_hours"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=50_000.0, help="M/M/c horizon")
    parser.add_argument("--skip-staffing", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    figures: dict[str, object] = {"mmc": mmc(args.rounds, args.minutes), "year": year()}
    if not args.skip_staffing and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    if not args.skip_staffing:
        figures["staffing_9h_day"] = staffing()
    print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
