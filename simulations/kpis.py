"""KPIs of simulated runs, computed by ``analytics`` from the run's event log.

The simulation writes the hall's event log (``simulations.eventlog``) and hands it to
``analytics.kpis``, the code that computes the live hall's KPIs, so a simulated day and a real
day are measured by one ruler (SPEC §4: waiting time = first call − issue, for appointments − the
later of issue and slot start; service level = share of called tickets waiting ≤ the target).

``waits`` computes the same waiting time straight from the run's arrays; the staffing search,
which tries hundreds of plans, and the long steady-state validations use it, and the tests check
that it agrees with ``analytics`` on the same run.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.kpis import Ledger, kpis, records
from analytics.load import read_events_csv

from .eventlog import write_event_log
from .model import SimResult


def waits(result: SimResult) -> np.ndarray:
    """Minutes each ticket waited until its first call (nan when never called)."""
    a = result.arrivals
    since = np.where(np.isnan(a.slot), a.t, np.maximum(a.t, a.slot))
    called = ~np.isnan(result.called)
    return np.where(called, np.maximum(result.called - since, 0.0), np.nan)


def event_frame(result: SimResult) -> pd.DataFrame:
    """The run's event log as analytics reads it (steady state: without the warm-up tickets)."""
    buffer = io.StringIO()
    write_event_log(result, buffer)
    buffer.seek(0)
    frame = read_events_csv(buffer, result.scenario.timezone)
    sc = result.scenario
    if sc.horizon_minutes is not None and sc.warmup_minutes > 0:
        early = [f"sim-{i}" for i in np.flatnonzero(result.arrivals.t < sc.warmup_minutes)]
        frame = frame[~frame["ticket_id"].isin(early)].reset_index(drop=True)
    return frame


def _figures(row: dict[str, Any], within: float) -> dict[str, Any]:
    return {
        "arrived": row["tickets"],
        "served": row["served"],
        "mean_wait_minutes": row["wait_mean"] or 0.0,
        "p90_wait_minutes": row["wait_p90"] or 0.0,
        "share_within_target": row[f"service_level_{within:g}"],
        "abandon_share": row["cancellation_rate"],
        "no_show_share": row["no_show_rate"],
        "mean_handling_minutes": row["handling_mean"],
        "utilization": row["utilization"],
        "throughput_per_hour": row["throughput_per_hour"],
        "ewt_abs_error_minutes": row["ewt_abs_error_mean"],
    }


def summarize(result: SimResult) -> dict[str, Any]:
    """The KPIs of one run: overall, by service, by opening hour and by window."""
    sc = result.scenario
    within = sc.targets.within_minutes
    ledger = Ledger.from_events(event_frame(result))

    def table(by: str) -> list[dict[str, Any]]:
        return records(kpis(ledger, by, targets=(within,)))

    overall = _figures(records(kpis(ledger, (), targets=(within,)))[0], within)
    overall["appointment_no_shows"] = result.appointment_no_shows
    by_service = {str(r["service"]): _figures(r, within) for r in table("service")}
    for code in (s.code for s in sc.services):
        by_service.setdefault(code, _figures(_empty_row(within), within))
    hours = {int(r["hour"]): _figures(r, within) for r in table("hour")}
    first = int(sc.open_minute // 60)
    by_hour = [
        {
            "start": f"{h:02d}:00",
            "end": f"{h + 1:02d}:00",
            **hours.get(h, _figures(_empty_row(within), within)),
        }
        for h in range(first, first + (sc.hours if sc.horizon_minutes is None else 0))
    ]
    by_window = {str(r["window"]): _figures(r, within) for r in table("window")}
    return {
        "overall": overall,
        "by_service": by_service,
        "by_hour": by_hour,
        "by_window": by_window,
    }


def _empty_row(within: float) -> dict[str, Any]:
    keys = ("tickets", "served")
    nones = ("wait_mean", "wait_p90", "cancellation_rate", "no_show_rate", "handling_mean")
    more = ("utilization", "throughput_per_hour", "ewt_abs_error_mean")
    row: dict[str, Any] = dict.fromkeys(keys, 0)
    row.update(dict.fromkeys(nones + more))
    row[f"service_level_{within:g}"] = None
    return row


def ci95(values: list[float]) -> tuple[float, float, float]:
    """Mean and Student-t 95% confidence interval of independent replications."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if x.size < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return mean, mean - half, mean + half


def _average(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in rows[0]:
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = round(float(np.mean(values)), 4) if values else None
    return out


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine replications: means, and 95% intervals for the headline figures."""
    overall = _average([r["overall"] for r in runs])
    # SPEC §5: the mean wait as {"mean", "ci95"}; the other headline figures stay numbers, with
    # their intervals beside them
    for key in ("mean_wait_minutes", "share_within_target", "abandon_share"):
        values = [r["overall"][key] for r in runs if r["overall"][key] is not None]
        if not values:
            continue
        _, lo, hi = ci95(values)
        top = math.inf if key == "mean_wait_minutes" else 1.0  # shares stay within [0, 1]
        bounds = [round(max(lo, 0.0), 4), round(min(hi, top), 4)]
        if key == "mean_wait_minutes":
            overall[key] = {"mean": overall[key], "ci95": bounds}
        else:
            overall[f"{key}_ci95"] = bounds
    overall["served"] = round(overall["served"])
    first = runs[0]
    windows = sorted({w for r in runs for w in r["by_window"]}, key=lambda w: (len(w), w))
    return {
        "replications": len(runs),
        "overall": overall,
        "by_service": {
            c: _average([r["by_service"][c] for r in runs]) for c in first["by_service"]
        },
        "by_hour": [
            {
                "start": row["start"],
                "end": row["end"],
                **_average([_strip(r["by_hour"][h]) for r in runs]),
            }
            for h, row in enumerate(first["by_hour"])
        ],
        "by_window": {
            w: _average([r["by_window"][w] for r in runs if w in r["by_window"]]) for w in windows
        },
    }


def _strip(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("start", "end")}
