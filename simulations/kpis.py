"""KPIs of a simulated run, with the SPEC §4 definitions of ``queue_engine.kpi``.

Waiting time = first call − issue (appointments: − the later of issue and slot start); the share
within target counts called tickets. They are computed on the run's arrays (a simulated year is
half a million tickets) rather than ticket by ticket; ``tests/simulations`` checks that they
agree with ``queue_engine.kpi`` on the event log of the same run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from .model import ABANDONED, DAY, DONE, NO_SHOW, SimResult


def waits(result: SimResult) -> np.ndarray:
    """Minutes each ticket waited until its first call (nan when never called)."""
    a = result.arrivals
    since = np.where(np.isnan(a.slot), a.t, np.maximum(a.t, a.slot))
    called = ~np.isnan(result.called)
    return np.where(called, np.maximum(result.called - since, 0.0), np.nan)


def _group(
    mask: np.ndarray, wait: np.ndarray, status: np.ndarray, within: float
) -> dict[str, float]:
    w = wait[mask & ~np.isnan(wait)]
    arrived = int(mask.sum())
    return {
        "arrived": arrived,
        "served": int((mask & (status == DONE)).sum()),
        "mean_wait_minutes": round(float(w.mean()), 3) if w.size else 0.0,
        "p90_wait_minutes": round(float(np.quantile(w, 0.9)), 3) if w.size else 0.0,
        "share_within_target": round(float((w <= within).mean()), 4) if w.size else 1.0,
        "abandon_share": round(float((mask & (status == ABANDONED)).sum() / arrived), 4)
        if arrived
        else 0.0,
    }


def _window_figures(result: SimResult, counted: np.ndarray) -> dict[str, dict[str, float]]:
    sc = result.scenario
    a = result.arrivals
    close = sc.open_minute + sc.day_minutes
    out: dict[str, dict[str, float]] = {}
    handling = np.where(result.status == NO_SHOW, sc.no_show_wait_minutes, a.handling)
    overtime = ((result.called % DAY) >= close) & np.isin(result.status, (DONE, NO_SHOW))
    for w in result.windows:
        mine = result.window == w.id
        busy = float(handling[mine & np.isin(result.status, (DONE, NO_SHOW))].sum())
        scheduled = math.fsum(
            min(e, (s // DAY) * DAY + close) - s for s, e in zip(w.starts, w.ends, strict=True)
        )
        if sc.horizon_minutes is not None:
            scheduled = math.fsum(e - s for s, e in zip(w.starts, w.ends, strict=True))
        extra = float(handling[mine & overtime].sum())
        served = mine & (result.status == DONE) & counted
        out[str(w.id)] = {
            "served": int(served.sum()),
            "busy_minutes": round(busy, 1),
            "open_minutes": round(scheduled + extra, 1),
            "utilization": round(busy / (scheduled + extra), 4) if scheduled + extra > 0 else 0.0,
            "mean_handling_minutes": round(float(a.handling[served].mean()), 3)
            if served.any()
            else 0.0,
        }
    return out


def summarize(result: SimResult) -> dict[str, Any]:
    """The KPIs of one run: overall, by service, by opening hour and by window."""
    sc = result.scenario
    a = result.arrivals
    within = sc.targets.within_minutes
    wait = waits(result)
    counted = (
        a.t >= sc.warmup_minutes if sc.horizon_minutes is not None else np.ones(a.t.size, bool)
    )
    status = result.status
    overall = _group(counted, wait, status, within)
    windows = _window_figures(result, counted)
    busy = sum(w["busy_minutes"] for w in windows.values())
    available = sum(w["open_minutes"] for w in windows.values())
    overall["utilization"] = round(busy / available, 4) if available else 0.0
    overall["no_show_share"] = round(
        float((counted & (status == NO_SHOW)).sum() / max(int(counted.sum()), 1)), 4
    )
    overall["appointment_no_shows"] = result.appointment_no_shows
    hour = ((a.t % DAY) - sc.open_minute) // 60
    by_hour = []
    for h in range(sc.hours if sc.horizon_minutes is None else 0):  # steady state: no clock
        start = sc.open_minute + 60 * h
        row = _group(counted & (hour == h), wait, status, within)
        by_hour.append(
            {
                "start": _clock(start),
                "end": _clock(min(start + 60, sc.open_minute + sc.day_minutes)),
                **row,
            }
        )
    by_service = {
        s.code: _group(counted & (a.service == k), wait, status, within)
        for k, s in enumerate(sc.services)
    }
    return {"overall": overall, "by_service": by_service, "by_hour": by_hour, "by_window": windows}


def _clock(minutes: float) -> str:
    m = round(minutes) % 1440 if minutes < 1440 else round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


def ci95(values: list[float]) -> tuple[float, float, float]:
    """Mean and Student-t 95% confidence interval of independent replications."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if x.size < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, mean - half, mean + half


def _average(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]}


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine replications: means, and 95% intervals for the headline figures."""
    overall: dict[str, Any] = _average([r["overall"] for r in runs])
    for key in ("mean_wait_minutes", "share_within_target", "abandon_share"):
        mean, lo, hi = ci95([r["overall"][key] for r in runs])
        overall[key] = {"mean": round(mean, 4), "ci95": [round(lo, 4), round(hi, 4)]}
    overall["served"] = round(overall["served"])
    first = runs[0]
    return {
        "replications": len(runs),
        "overall": overall,
        "by_service": {
            code: _average([r["by_service"][code] for r in runs]) for code in first["by_service"]
        },
        "by_hour": [
            {
                "start": row["start"],
                "end": row["end"],
                **_average(
                    [
                        {k: v for k, v in r["by_hour"][h].items() if k not in ("start", "end")}
                        for r in runs
                    ]
                ),
            }
            for h, row in enumerate(first["by_hour"])
        ],
        "by_window": {w: _average([r["by_window"][w] for r in runs]) for w in first["by_window"]},
    }
