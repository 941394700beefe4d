"""Staffing: the fewest open windows per interval that keep waits within the targets.

Like planning tills in a supermarket: first the textbook answer (Erlang C on each interval's
load, as if the hour were steady), then try the plan on the simulated day and fix it where the
day disagrees: add a window where an interval misses a target (on the mean of the replications),
take one away where an interval clearly beats it (the whole 95 % confidence interval on the good
side). On a steady case the simulation confirms the exact Erlang C answer; elsewhere it corrects
what the theory gets wrong (peaks spilling into the next hour, secondary skills, appointments).

Windows are planned in pools of alike windows (same skills): the scenario's own layout,
one dedicated pool per service ("one window per department"), or one comprehensive pool that
serves everything ("无差别综合受理").
"""

from __future__ import annotations

import math
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .kpis import ci95, waits
from .model import ABANDONED, DAY, simulate
from .replicate import seeds, workers_for
from .scenario import Scenario, ServiceSpec, parse_scenario
from .theory import min_servers

Layout = Literal["scenario", "dedicated", "comprehensive"]
MAX_ROUNDS = 40
TRIM_TRIES = 3


@dataclass(frozen=True)
class Pool:
    """Alike windows: primary and secondary skills (breaks are what the plan's hours decide)."""

    services: tuple[str, ...]
    secondary: tuple[str, ...] = ()


def pools_of(scenario: Scenario, layout: Layout) -> list[Pool]:
    codes = tuple(s.code for s in scenario.services)
    if layout == "dedicated":
        return [Pool((c,)) for c in codes]
    if layout == "comprehensive":
        return [Pool(codes)]
    seen: dict[Pool, None] = {}
    for w in scenario.windows:
        seen.setdefault(Pool(tuple(w.services), tuple(w.secondary)), None)
    return list(seen)


def _effective_rate(scenario: Scenario, service: ServiceSpec, start: float, end: float) -> float:
    """Mean arrivals per minute of ``service`` over [start, end) minutes after opening."""
    rates = scenario.rates(service)
    total = 0.0
    for h, rate in enumerate(rates):
        overlap = min(end, 60 * (h + 1)) - max(start, 60 * h)
        if overlap > 0:
            total += rate / 60 * overlap
    shown = 1 - service.appointment_share * (1 - scenario.appointments.show_rate)
    return total * shown / (end - start)


def pool_loads(
    scenario: Scenario, pools: list[Pool], intervals: list[tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Arrival rate (per minute) and offered load (Erlangs) per pool and interval, each service's
    load shared equally by the pools that have it as a primary skill (else a secondary one)."""
    lam = np.zeros((len(pools), len(intervals)))
    work = np.zeros((len(pools), len(intervals)))
    for j, (start, end) in enumerate(intervals):
        for svc in scenario.services:
            homes = [k for k, p in enumerate(pools) if svc.code in p.services] or [
                k for k, p in enumerate(pools) if svc.code in p.secondary
            ]
            rate = _effective_rate(scenario, svc, start, end)
            for k in homes:
                lam[k, j] += rate / len(homes)
                work[k, j] += rate / len(homes) * svc.service_time.mean_minutes
    return lam, work


def theory_plan(
    scenario: Scenario, pools: list[Pool], intervals: list[tuple[float, float]]
) -> np.ndarray:
    """Erlang C counts per pool and interval (each interval treated as steady).

    Pools that share no skill are sized one by one. Pools that overlap help each other, so
    sizing them one by one would overstaff badly; there the whole hall is sized as one pooled
    queue (a lower bound) and the windows are shared out in proportion to the pools' load, at
    least one where a pool is the only primary home of a service. The simulation adds the rest.
    """
    t = scenario.targets
    lam, work = pool_loads(scenario, pools, intervals)

    def servers(rate: float, load: float) -> int:
        return (
            min_servers(rate, rate / load, t.mean_wait_minutes, t.within_minutes, t.share)
            if rate > 0
            else 0
        )

    counts = np.zeros(lam.shape, dtype=int)
    if _disjoint(pools):
        for k, j in zip(*np.nonzero(lam), strict=True):
            counts[k, j] = servers(lam[k, j], work[k, j])
        return counts
    needed = _sole_homes(scenario, pools)
    for j in range(len(intervals)):
        total = servers(float(lam[:, j].sum()), float(work[:, j].sum()))
        share = work[:, j] / work[:, j].sum() * total if total else np.zeros(len(pools))
        base = np.maximum(np.floor(share).astype(int), needed & (lam[:, j] > 0))
        for k in np.argsort(-(share - np.floor(share)))[: max(total - int(base.sum()), 0)]:
            base[k] += 1
        counts[:, j] = base
    return counts


def _disjoint(pools: list[Pool]) -> bool:
    skills = [set(p.services) | set(p.secondary) for p in pools]
    return all(not (a & b) for n, a in enumerate(skills) for b in skills[n + 1 :])


def _sole_homes(scenario: Scenario, pools: list[Pool]) -> np.ndarray:
    """Pools that are the only primary home of some service."""
    sole = np.zeros(len(pools), dtype=int)
    for svc in scenario.services:
        homes = [k for k, p in enumerate(pools) if svc.code in p.services]
        if len(homes) == 1:
            sole[homes[0]] = 1
    return sole


def intervals_of(scenario: Scenario, minutes: int) -> list[tuple[float, float]]:
    length = scenario.day_minutes
    if scenario.horizon_minutes is not None:
        return [(0.0, length)]
    return [
        (float(s), float(min(s + minutes, length))) for s in range(0, math.ceil(length), minutes)
    ]


def planned_scenario(
    scenario: Scenario, pools: list[Pool], counts: np.ndarray, minutes: int
) -> Scenario:
    """The scenario with the plan's windows: pool window ``n`` is open when the count exceeds n."""
    data = scenario.model_dump(mode="json")
    windows = []
    for k, pool in enumerate(pools):
        for n in range(int(counts[k].max())):
            opened = [bool(c > n) for c in counts[k]]
            entry: dict[str, Any] = {
                "count": 1,
                "services": list(pool.services),
                "secondary": list(pool.secondary),
            }
            if scenario.horizon_minutes is None:
                entry["open"] = (
                    opened
                    if minutes == 60
                    else opened + [False] * (2 * scenario.hours - len(opened))
                )
            windows.append(entry)
    data["windows"] = windows or [{"count": 0, "services": [scenario.services[0].code]}]
    data["days"] = 1
    return parse_scenario(data)


def _interval_figures(scenario: Scenario, seed: int, starts: list[float]) -> dict[str, np.ndarray]:
    """Mean wait, share within target and abandonment per arrival interval, and per service."""
    r = simulate(scenario, seed)
    a = r.arrivals
    wait = waits(r)
    since_open = (a.t % DAY) - scenario.open_minute
    counted = a.t >= scenario.warmup_minutes
    bins = np.searchsorted(np.asarray(starts), since_open, side="right") - 1
    n, k = len(starts), len(scenario.services)
    mean = np.zeros(n)
    share = np.ones(n)
    abandon = np.zeros(n)
    by_service = np.zeros((k, n))
    within = scenario.targets.within_minutes
    for j in range(n):
        here = counted & (bins == j)
        w = wait[here & ~np.isnan(wait)]
        if w.size:
            mean[j], share[j] = w.mean(), (w <= within).mean()
        if here.any():
            abandon[j] = (r.status[here] == ABANDONED).mean()
        for s in range(k):
            ws = wait[here & (a.service == s) & ~np.isnan(wait)]
            by_service[s, j] = ws.mean() if ws.size else 0.0
    return {"mean": mean, "share": share, "abandon": abandon, "by_service": by_service}


@dataclass
class Evaluation:
    mean: np.ndarray  # (replications, intervals)
    share: np.ndarray
    abandon: np.ndarray
    by_service: np.ndarray  # (services, intervals), averaged

    def bounds(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cols = [ci95(list(values[:, j])) for j in range(values.shape[1])]
        return tuple(np.array([c[i] for c in cols]) for i in range(3))  # type: ignore[return-value]

    def verdicts(self, scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
        """Per interval: failing (the estimate misses a target), and clearly passing (the whole
        95 % interval meets every target)."""
        t = scenario.targets
        fail = np.zeros(self.mean.shape[1], dtype=bool)
        ok = np.ones(self.mean.shape[1], dtype=bool)
        checks = []
        if t.mean_wait_minutes is not None:
            checks.append((self.mean, t.mean_wait_minutes, True))
        if t.share is not None:
            checks.append((self.share, t.share, False))
        if t.max_abandon_share is not None:
            checks.append((self.abandon, t.max_abandon_share, True))
        for values, target, lower_is_better in checks:
            mean, lo, hi = self.bounds(values)
            if lower_is_better:
                fail |= mean > target
                ok &= hi <= target
            else:
                fail |= mean < target
                ok &= lo >= target
        return fail, ok


class Planner:
    """Evaluates plans of one scenario with common random numbers across plans."""

    def __init__(
        self,
        scenario: Scenario,
        minutes: int,
        seed: int,
        replications: int,
        executor: Executor | None,
    ) -> None:
        self.scenario = scenario
        self.minutes = minutes
        self.intervals = intervals_of(scenario, minutes)
        self.seeds = seeds(seed, replications)
        self.executor = executor
        self.evaluations = 0

    def evaluate(self, pools: list[Pool], counts: np.ndarray) -> Evaluation:
        self.evaluations += 1
        sc = planned_scenario(self.scenario, pools, counts, self.minutes)
        starts = [s for s, _ in self.intervals]
        if self.executor is None:
            runs = [_interval_figures(sc, s, starts) for s in self.seeds]
        else:
            n = len(self.seeds)
            runs = list(self.executor.map(_interval_figures, [sc] * n, self.seeds, [starts] * n))
        return Evaluation(
            np.array([r["mean"] for r in runs]),
            np.array([r["share"] for r in runs]),
            np.array([r["abandon"] for r in runs]),
            np.mean([r["by_service"] for r in runs], axis=0),
        )

    def _busiest_pool(self, pools: list[Pool], ev: Evaluation, j: int) -> int:
        codes = [s.code for s in self.scenario.services]
        for s in np.argsort(-ev.by_service[:, j]):
            homes = [k for k, p in enumerate(pools) if codes[s] in p.services]
            if homes:
                return homes[0]
        return 0

    def repair(self, pools: list[Pool], counts: np.ndarray) -> tuple[np.ndarray, Evaluation]:
        """Add windows where the simulated day misses a target; drop them where clearly spare."""
        counts = counts.copy()
        ev = self.evaluate(pools, counts)
        for _ in range(MAX_ROUNDS):
            fail, _ = ev.verdicts(self.scenario)
            if not fail.any():
                break
            for failing in np.flatnonzero(fail):
                j = int(failing)
                counts[self._busiest_pool(pools, ev, j), j] += 1
            ev = self.evaluate(pools, counts)
        for j in range(len(self.intervals)):
            if ev.verdicts(self.scenario)[1][j]:
                trimmed = self._trim(pools, counts, j)
                if trimmed is not None:
                    counts, ev = trimmed
        return counts, ev

    def _trim(
        self, pools: list[Pool], counts: np.ndarray, j: int
    ) -> tuple[np.ndarray, Evaluation] | None:
        """One window fewer in interval ``j`` if the day still clearly meets every target; the
        pools with the least load per window are tried first, a few of them."""
        load = pool_loads(self.scenario, pools, self.intervals)[1][:, j]
        spare = [k for k in range(len(pools)) if counts[k, j] > 0]
        for k in sorted(spare, key=lambda p: load[p] / counts[p, j])[:TRIM_TRIES]:
            trial = counts.copy()
            trial[k, j] -= 1
            tried = self.evaluate(pools, trial)
            fail, ok = tried.verdicts(self.scenario)
            if ok[j] and not fail.any():
                return trial, tried
        return None

    def plan(self, layout: Layout) -> dict[str, Any]:
        pools = pools_of(self.scenario, layout)
        start = theory_plan(self.scenario, pools, self.intervals)
        counts, ev = self.repair(pools, start)
        return self.report(layout, pools, start, counts, ev)

    def report(
        self,
        layout: Layout,
        pools: list[Pool],
        start: np.ndarray,
        counts: np.ndarray,
        ev: Evaluation,
    ) -> dict[str, Any]:
        first = self.scenario.open_minute
        rows = []
        for j, (s, e) in enumerate(self.intervals):
            rows.append(
                {
                    "start": _clock(first + s),
                    "end": _clock(first + e),
                    "windows": int(counts[:, j].sum()),
                    "theory_windows": int(start[:, j].sum()),
                    "mean_wait_minutes": round(float(ev.mean[:, j].mean()), 3),
                    "share_within_target": round(float(ev.share[:, j].mean()), 4),
                    "abandon_share": round(float(ev.abandon[:, j].mean()), 4),
                }
            )
        hours = [(e - s) / 60 for s, e in self.intervals]
        return {
            "layout": layout,
            "intervals": rows,
            "window_hours": round(float((counts * np.array(hours)).sum()), 2),
            "pools": [
                {
                    "services": list(p.services),
                    "secondary": list(p.secondary),
                    "windows": [int(c) for c in counts[k]],
                }
                for k, p in enumerate(pools)
            ],
        }


def _clock(minutes: float) -> str:
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


def staff(
    scenario: Scenario,
    seed: int = 0,
    minutes: int = 60,
    replications: int = 10,
    workers: int | None = None,
    compare: bool = True,
) -> dict[str, Any]:
    """The staffing plan of the scenario's layout, and (``compare``) of the two pure layouts."""
    n = workers_for(replications, workers)
    executor = ProcessPoolExecutor(n) if n > 1 else None
    try:
        planner = Planner(scenario, minutes, seed, replications, executor)
        result = planner.plan("scenario")
        if compare:
            result["comparison"] = {
                layout: {
                    k: v
                    for k, v in planner.plan(layout).items()
                    if k in ("window_hours", "intervals", "pools")
                }
                for layout in ("dedicated", "comprehensive")
            }
        result["replications"] = replications
        result["simulated_plans"] = planner.evaluations
        return result
    finally:
        if executor is not None:
            executor.shutdown()
