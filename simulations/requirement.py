"""Requirement: how many windows of which skills each interval of the forecast days needs.

The forecast says how many citizens will come; the staffing search (``staffing``: the Erlang C
answer, then the simulated day with the live dispatch policy correcting it) turns that into
windows. Here it runs once per forecast day, on the hall's real windows (their primary and
secondary skills, grouped in pools of alike windows) and with the hall's targets. Days whose
forecast rounds to the same rates share one answer (a cache by rate), and the simulation
repair runs only where the Erlang C plan fails the simulated day (``repair="check"`` only
simulates it once and reports the result).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .forecast import Forecast
from .scenario import Scenario, parse_scenario
from .staffing import Planner, Pool, pools_of, theory_plan
from .workdays import DayClass

Repair = Literal["simulate", "check", "none"]


@dataclass
class Requirement:
    """Windows needed per day, pool of alike windows and interval."""

    days: list[DayClass]
    pools: list[Pool]
    pool_windows: list[list[int]]  # the window ids of each pool
    labels: list[str]  # interval start clocks
    minutes: int
    counts: np.ndarray  # (days, pools, intervals)
    theory: np.ndarray
    checks: list[dict[str, Any] | None]  # simulated figures per day (None: closed, unchecked)

    def end_label(self) -> str:
        h, m = (int(x) for x in self.labels[-1].split(":"))
        end = h * 60 + m + self.minutes
        return f"{end // 60:02d}:{end % 60:02d}"

    def as_json(self) -> dict[str, Any]:
        days = []
        for i, d in enumerate(self.days):
            days.append(
                {
                    "date": d.day.isoformat(),
                    "open": d.open,
                    "windows": [int(x) for x in self.counts[i].sum(axis=0)],
                    "theory_windows": [int(x) for x in self.theory[i].sum(axis=0)],
                    "pools": [[int(x) for x in self.counts[i, k]] for k in range(len(self.pools))],
                    "check": self.checks[i],
                }
            )
        return {
            "interval_minutes": self.minutes,
            "intervals": self.labels,
            "pools": [
                {"services": list(p.services), "secondary": list(p.secondary), "windows": w}
                for p, w in zip(self.pools, self.pool_windows, strict=True)
            ],
            "days": days,
            "window_hours": round(float(self.counts.sum()) * self.minutes / 60, 1),
        }


def day_scenario(template: Scenario, fc: Forecast, i: int) -> Scenario:
    """The template hall (windows, handling times, targets) with day ``i``'s forecast rates."""
    a = fc.arrivals
    n = fc.expected.shape[2]
    per_hour = 60 // a.minutes
    hours = math.ceil(n / per_hour)
    data = template.model_dump(mode="json")
    rates = {}
    for k, code in enumerate(fc.services):
        series = np.zeros(hours * per_hour)
        series[:n] = fc.expected[i, k]
        rates[code] = [round(float(x), 3) for x in series.reshape(hours, per_hour).sum(axis=1)]
    services = []
    for s in data["services"]:
        s["arrivals_per_hour"] = rates.get(s["code"], [0.0] * hours)
        s["appointment_share"] = 0.0  # booked citizens are already in the forecast
        services.append(s)
    data.update(
        services=services,
        days=1,
        open=a.clock(0),
        close=a.clock(hours * per_hour),
        start_date=fc.days[i].day.isoformat(),
    )
    for w in data["windows"]:
        w["open"] = None
        w["breaks"] = []
    return parse_scenario(data)


def requirement(
    fc: Forecast,
    template: Scenario,
    repair: Repair = "simulate",
    replications: int = 4,
    seed: int = 0,
) -> Requirement:
    """The staffing search on every open forecast day (``template``: the hall's windows,
    handling times and targets; its arrival rates are replaced by the forecast's)."""
    minutes = fc.arrivals.minutes
    n = fc.expected.shape[2]
    pools = pools_of(template, "scenario")
    pool_windows = _pool_windows(template, pools)
    counts = np.zeros((len(fc.days), len(pools), n), dtype=int)
    theory = np.zeros_like(counts)
    checks: list[dict[str, Any] | None] = []
    cache: dict[tuple[float, ...], tuple[np.ndarray, np.ndarray, dict[str, Any] | None]] = {}
    for i, d in enumerate(fc.days):
        if not d.open or fc.expected[i].sum() == 0:
            checks.append(None)
            continue
        key = tuple(np.round(fc.expected[i].reshape(-1), 0))
        if key not in cache:
            cache[key] = _plan_day(day_scenario(template, fc, i), pools, minutes, repair,
                                   replications, seed)  # fmt: skip
        plan, start, check = cache[key]
        counts[i] = np.minimum(plan[:, :n], [[len(w)] for w in pool_windows])
        theory[i] = start[:, :n]
        checks.append(check)
    labels = [fc.arrivals.clock(j) for j in range(n)]
    return Requirement(fc.days, pools, pool_windows, labels, minutes, counts, theory, checks)


def _pool_windows(template: Scenario, pools: list[Pool]) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in pools]
    next_id = 1
    for w in template.windows:
        k = pools.index(Pool(tuple(w.services), tuple(w.secondary)))
        for _ in range(w.size):
            out[k].append(w.id if w.id is not None else next_id)
            next_id += 1
    return out


def _plan_day(
    scenario: Scenario,
    pools: list[Pool],
    minutes: int,
    repair: Repair,
    replications: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any] | None]:
    planner = Planner(scenario, minutes, seed, replications, None)
    start = theory_plan(scenario, pools, planner.intervals)
    if repair == "none":
        return start, start, None
    if repair == "simulate":
        counts, ev = planner.repair(pools, start)
    else:
        counts, ev = start, planner.evaluate(pools, start)
    fail, _ = ev.verdicts(scenario)
    check = {
        "mean_wait_minutes": round(float(ev.mean.mean()), 2),
        "share_within_target": round(float(ev.share.mean()), 4),
        "intervals_missing_target": int(fail.sum()),
        "simulated_plans": planner.evaluations,
    }
    return counts, start, check
