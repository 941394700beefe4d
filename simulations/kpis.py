"""KPIs of simulated runs, straight from the arrays the model kept while it ran.

The definitions are those of ``analytics.kpis``, the code that measures the live hall (SPEC §4):
waiting time = first call − issue (for appointments − the later of issue and slot start);
service level = share of called tickets waiting ≤ the target; handling = finish − start of a
finished visit; utilization = busy (call → finish or no-show) ÷ open time; throughput = served ÷
the hours in which the hall served anybody (÷ a window's open hours for a window). A simulated
day is measured by the same ruler as a real one without writing and re-reading its event log:
the test suite checks that ``analytics`` on the written log gives these very figures.

``waits`` is the waiting time alone, for the staffing search and the validations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .eventlog import window_hours
from .model import ABANDONED, CLOSED, DAY, DONE, IN_SERVICE, NO_SHOW, SimResult

MIN_HOURS = 0.25  # analytics: no hourly rate over less than a quarter of an hour


def waits(result: SimResult) -> np.ndarray:
    """Minutes each ticket waited until its first call (nan when never called)."""
    a = result.arrivals
    since = np.where(np.isnan(a.slot), a.t, np.maximum(a.t, a.slot))
    if result.ready is not None:  # a later service of a ticket waits from its previous one's end
        since = np.where(a.first, since, result.ready)
    called = ~np.isnan(result.called)
    return np.where(called, np.maximum(result.called - since, 0.0), np.nan)


@dataclass(frozen=True)
class Run:
    """One run as tickets (the counted ones) and visits (one per call), in arrays."""

    wait: np.ndarray  # per ticket; nan when never called
    service: np.ndarray
    hour: np.ndarray  # local hour of issue
    first_window: np.ndarray  # window label index of the call, −1 when never called
    no_show: np.ndarray
    cancelled: np.ndarray
    ewt_abs: np.ndarray  # |wait − median estimate|, nan when either is missing
    v_service: np.ndarray  # per visit
    v_window: np.ndarray
    v_hour: np.ndarray  # local hour the visit ended (or was called, when still going)
    v_day: np.ndarray  # day of the ticket's issue
    v_finished: np.ndarray
    v_no_show: np.ndarray
    v_handling: np.ndarray  # nan unless finished
    v_busy: np.ndarray
    window_ids: list[int]
    open_minutes: np.ndarray  # per window label index


def _open_minutes(result: SimResult, last: float) -> np.ndarray:
    """Open minutes per window as ``analytics.tickets.open_intervals`` reads the window events:
    each opening lasts until the window's next event (the last one until the log's end)."""
    out = np.zeros(len(result.windows))
    for k, w in enumerate(result.windows):
        marks = sorted(
            (moment, kind)
            for s, e in window_hours(result, w.id, w.starts, w.ends)
            for moment, kind in ((s, 0), (e, 1))
        )
        for n, (moment, kind) in enumerate(marks):
            if kind == 0:
                end = marks[n + 1][0] if n + 1 < len(marks) else last
                out[k] += max(end - moment, 0.0)
    return out


def run_arrays(result: SimResult) -> Run:
    """The tickets and visits of ``result`` that its KPIs count (steady state: no warm-up)."""
    sc = result.scenario
    a = result.arrivals
    keep = np.ones(a.t.size, dtype=bool)
    if sc.horizon_minutes is not None and sc.warmup_minutes > 0:
        keep = a.t >= sc.warmup_minutes
    # A ticket is its first service; every service segment is a visit (as analytics counts the
    # live log: a multi-service ticket waits once from its issue, and is called once per service).
    visited_all = np.isin(result.status, (DONE, NO_SHOW, IN_SERVICE))
    later = keep & ~a.first & visited_all
    keep = keep & a.first
    status = result.status[keep]
    ended = result.ended[keep]
    wait = waits(result)[keep]
    ids = [w.id for w in result.windows]
    label = np.full(max(ids, default=0) + 1, -1)
    label[ids] = np.arange(len(ids))
    visited = (status == DONE) | (status == NO_SHOW) | (status == IN_SERVICE)
    first_window = np.where(visited, label[np.where(visited, result.window[keep], 0)], -1)
    gone = (status == ABANDONED) | (status == CLOSED)
    vis = np.flatnonzero((keep & visited_all) | later)  # every segment called: the visits
    v_status = result.status[vis]
    v_called, v_finished_at = result.called[vis], result.finished[vis]
    moments = [a.t[keep], v_called, v_finished_at[~np.isnan(v_finished_at)], ended[gone]]
    windows = [m for w in result.windows for s, e in window_hours(result, w.id, w.starts, w.ends)
               for m in (s, e)]  # fmt: skip
    last = max([float(m.max()) for m in moments if m.size] + windows, default=0.0)
    estimates = result.estimates
    ewt_abs = np.full(wait.size, np.nan)
    if estimates is not None:
        ewt_abs = np.abs(wait - np.asarray(estimates, dtype=float).reshape(-1, 2)[keep, 0])
    done = v_status == DONE
    v_end = np.where(v_status == IN_SERVICE, np.nan, v_finished_at)
    return Run(
        wait=wait,
        service=a.service[keep],
        hour=_hour(a.t[keep]),
        first_window=first_window,
        no_show=status == NO_SHOW,
        cancelled=gone,
        ewt_abs=ewt_abs,
        v_service=a.service[vis],
        v_window=label[result.window[vis]],
        v_hour=_hour(np.where(np.isnan(v_end), v_called, v_end)),
        v_day=(a.t[vis] // DAY).astype(np.int64),
        v_finished=done,
        v_no_show=v_status == NO_SHOW,
        v_handling=np.where(done, v_finished_at - v_called, np.nan),
        v_busy=np.maximum(np.where(np.isnan(v_end), last, v_end) - v_called, 0.0),
        window_ids=ids,
        open_minutes=_open_minutes(result, last),
    )


def _hour(minutes: np.ndarray) -> np.ndarray:
    """Local hour of a moment given in minutes since the first day's local midnight."""
    return (np.floor(minutes % DAY) // 60).astype(np.int64)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)


def _count(keys: np.ndarray, size: int, weights: np.ndarray | None = None) -> np.ndarray:
    mine = keys >= 0
    w = None if weights is None else weights[mine]
    return np.bincount(keys[mine], weights=w, minlength=size)[:size].astype(float)


def _p90(keys: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """The 90th percentile (linear, as pandas) of ``values`` per group."""
    out = np.full(size, np.nan)
    mine = (keys >= 0) & ~np.isnan(values)
    k, v = keys[mine], values[mine]
    order = np.lexsort((v, k))
    k, v = k[order], v[order]
    bounds = np.searchsorted(k, np.arange(size + 1))
    for g in range(size):
        if bounds[g + 1] > bounds[g]:
            out[g] = np.quantile(v[bounds[g] : bounds[g + 1]], 0.9)
    return out


def _table(
    run: Run,
    keys: np.ndarray,
    v_keys: np.ndarray,
    size: int,
    within: float,
    staff: bool = False,
) -> list[dict[str, Any] | None]:
    """Figures per group (``None``: a group with neither tickets nor visits)."""
    called = ~np.isnan(run.wait)
    tickets = _count(keys, size)
    n_called = _count(np.where(called, keys, -1), size)
    wait_sum = _count(np.where(called, keys, -1), size, np.nan_to_num(run.wait))
    inside = _count(np.where(called & (run.wait <= within), keys, -1), size)
    has_ewt = ~np.isnan(run.ewt_abs)
    ewt = _ratio(
        _count(np.where(has_ewt, keys, -1), size, np.nan_to_num(run.ewt_abs)),
        _count(np.where(has_ewt, keys, -1), size),
    )
    visits = _count(v_keys, size)
    served = _count(np.where(run.v_finished, v_keys, -1), size)
    handling = _ratio(
        _count(np.where(run.v_finished, v_keys, -1), size, np.nan_to_num(run.v_handling)), served
    )
    if staff:
        no_show = _ratio(_count(np.where(run.v_no_show, v_keys, -1), size), visits)
        abandon = np.full(size, np.nan)
    else:
        no_show = _ratio(_count(np.where(run.no_show, keys, -1), size), tickets)
        abandon = _ratio(_count(np.where(run.cancelled, keys, -1), size), tickets)
    p90 = _p90(keys, run.wait, size)
    mean = _ratio(wait_sum, n_called)
    share = _ratio(inside, n_called)
    rows: list[dict[str, Any] | None] = []
    for g in range(size):
        if tickets[g] == 0 and visits[g] == 0:
            rows.append(None)
            continue
        rows.append(
            {
                "arrived": int(tickets[g]),
                "served": int(served[g]),
                "mean_wait_minutes": _number(mean[g]) or 0.0,
                "p90_wait_minutes": _number(p90[g]) or 0.0,
                "share_within_target": _number(share[g]),
                "abandon_share": _number(abandon[g]),
                "no_show_share": _number(no_show[g]),
                "mean_handling_minutes": _number(handling[g]),
                "utilization": None,
                "throughput_per_hour": None,
                "ewt_abs_error_minutes": _number(ewt[g]),
            }
        )
    return rows


def _number(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 4)


def _empty() -> dict[str, Any]:
    return {
        "arrived": 0,
        "served": 0,
        "mean_wait_minutes": 0.0,
        "p90_wait_minutes": 0.0,
        **dict.fromkeys(
            ("share_within_target", "abandon_share", "no_show_share", "mean_handling_minutes"),
        ),
        **dict.fromkeys(("utilization", "throughput_per_hour", "ewt_abs_error_minutes")),
    }


def _per_hour(served: float, hours: float) -> float | None:
    return round(served / hours, 4) if hours >= MIN_HOURS else None


def summarize(result: SimResult) -> dict[str, Any]:
    """The KPIs of one run: overall, by service, by opening hour and by window."""
    sc = result.scenario
    within = sc.targets.within_minutes
    run = run_arrays(result)
    codes = [s.code for s in sc.services]
    # the (day, hour) slots in which the hall served anybody
    fin = run.v_finished
    slots = np.unique(run.v_day[fin] * 24 + run.v_hour[fin])
    busy = float(run.v_busy.sum())

    zero = np.zeros(run.wait.size, dtype=np.int64)
    overall = _table(run, zero, np.zeros(run.v_busy.size, dtype=np.int64), 1, within)[0]
    overall = overall or _empty()
    total_open = float(run.open_minutes.sum())
    overall["utilization"] = _number(busy / total_open) if total_open > 0 else None
    overall["throughput_per_hour"] = _per_hour(overall["served"], float(slots.size))
    overall["appointment_no_shows"] = result.appointment_no_shows

    by_service: dict[str, Any] = {}
    for k, row in enumerate(_table(run, run.service, run.v_service, len(codes), within)):
        if row is not None:
            row["throughput_per_hour"] = _per_hour(row["served"], float(slots.size))
        by_service[codes[k]] = row or _empty()

    hour_rows = _table(run, run.hour, run.v_hour, 24, within)
    days_at = np.bincount(slots % 24, minlength=24)
    first = int(sc.open_minute // 60)
    by_hour = []
    for h in range(first, first + (sc.hours if sc.horizon_minutes is None else 0)):
        row = hour_rows[h] if h < 24 else None
        if row is not None:
            row["throughput_per_hour"] = _per_hour(row["served"], float(days_at[h]))
        by_hour.append({"start": f"{h:02d}:00", "end": f"{h + 1:02d}:00", **(row or _empty())})

    by_window: dict[str, Any] = {}
    size = len(run.window_ids)
    window_busy = _count(run.v_window, size, run.v_busy)
    for k, row in enumerate(_table(run, run.first_window, run.v_window, size, within, True)):
        if row is None:
            continue
        opened = float(run.open_minutes[k])
        row["utilization"] = _number(window_busy[k] / opened) if opened > 0 else None
        row["throughput_per_hour"] = _per_hour(row["served"], opened / 60)
        by_window[str(run.window_ids[k])] = row
    return {
        "overall": overall,
        "by_service": by_service,
        "by_hour": by_hour,
        "by_window": by_window,
    }


def ci95(values: list[float]) -> tuple[float, float, float]:
    """Mean and Student-t 95% confidence interval of independent replications."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if x.size < 2:
        return mean, mean, mean
    from scipy import stats  # only with replications to compare: scipy takes a while to load

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
