"""Plan vs actual: a kept plan set against what the event log says happened on its days.

Per day and interval of the plan: the forecast arrivals (with the 80 % band) against the tickets
actually issued; the windows the plan required and rostered against the windows actually open
(a window counts for the share of the interval in which a clerk was signed in at it, not
paused, or was serving a ticket there: ``open_windows`` is window-minutes ÷ interval minutes;
``windows_seen`` counts every window open at any moment of the interval); and the waits that
resulted (mean wait of the tickets issued in the interval and called, and the share of them
called within the target). Days not over yet (``happened: false``) have no actual figures.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from analytics.load import zone_of
from analytics.tickets import open_intervals, tickets_and_codes, visits


def _minute_of_day(ts: pd.Series, zone: Any) -> tuple[np.ndarray, np.ndarray]:
    local = pd.to_datetime(ts, utc=True).dt.tz_convert(zone)
    return local.dt.date.to_numpy(), (
        local.dt.hour * 60 + local.dt.minute + local.dt.second / 60
    ).to_numpy()


def _clock(label: str) -> int:
    h, m = (int(x) for x in label.split(":"))
    return h * 60 + m


def _merge(periods: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for lo, hi in sorted(periods):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        elif hi > lo:
            out.append((lo, hi))
    return out


def _window_periods(
    events: pd.DataFrame, zone: Any
) -> dict[tuple[date, str], list[tuple[float, float]]]:
    """Minutes of each local day in which each window was open or serving, merged."""
    spans: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []
    opened = open_intervals(events)
    for w, s, e in zip(opened["window"], opened["start"], opened["end"], strict=True):
        spans.append((str(w), s, e))
    rows, codes = tickets_and_codes(events)
    if len(rows):
        seen = visits(events, rows, codes)
        last = events["ts"].max()
        for w, s, e in zip(seen["window"], seen["called_at"], seen["ended_at"], strict=True):
            if pd.notna(w) and pd.notna(s):
                spans.append((str(w), s, e if pd.notna(e) else last))
    out: dict[tuple[date, str], list[tuple[float, float]]] = {}
    for window, start, end in spans:
        lo = pd.Timestamp(start).tz_convert(zone)
        hi = pd.Timestamp(end).tz_convert(zone)
        day = lo.date()
        while day <= hi.date():  # a period over midnight is cut at it
            midnight = pd.Timestamp(datetime.combine(day, time()), tz=zone)
            a = max((lo - midnight).total_seconds() / 60, 0.0)
            b = min((hi - midnight).total_seconds() / 60, 24 * 60.0)
            out.setdefault((day, window), []).append((a, b))
            day += timedelta(days=1)
    return {key: _merge(value) for key, value in out.items()}


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def compare(
    plan: dict[str, Any], events: pd.DataFrame, today: date, targets: dict[str, Any]
) -> dict[str, Any]:
    """``plan``: a kept plan (the API's answer: forecast, requirement, roster); ``events``: the
    hall's event log over its days (``analytics.load``); days before ``today`` have happened."""
    fc, req, roster = plan["forecast"], plan["requirement"], plan["roster"]
    minutes = int(req["interval_minutes"])
    labels: list[str] = list(req["intervals"])
    starts = np.array([_clock(x) for x in labels], dtype=float)
    n = len(labels)
    within = float(targets.get("within_minutes") or 15)
    zone = zone_of(events) if len(events) else None
    rows = pd.DataFrame()
    periods: dict[tuple[date, str], list[tuple[float, float]]] = {}
    if len(events) and zone is not None:
        rows, _ = tickets_and_codes(events)
        periods = _window_periods(events, zone)
    if len(rows):
        issued_day, issued_minute = _minute_of_day(rows["issued_at"], zone)
        slot = np.floor((issued_minute - starts[0]) / minutes).astype(int)
        waits = rows["wait_minutes"].to_numpy(dtype=float)
    else:
        issued_day, slot, waits = np.array([]), np.array([], dtype=int), np.array([])
    rostered = {d["date"]: d.get("rostered") for d in roster.get("days", [])}
    days, all_waits, total_fc, total_actual = [], [], 0.0, 0
    for fday, rday in zip(fc["days"], req["days"], strict=True):
        day = date.fromisoformat(fday["date"])
        happened = day < today
        expected = [0.0] * n
        low, high = [0.0] * n, [0.0] * n
        for j, iv in enumerate(fday.get("intervals", [])[:n]):
            expected[j], low[j], high[j] = iv["expected"], iv["low"], iv["high"]
        entry: dict[str, Any] = {
            "date": fday["date"],
            "open": fday["open"],
            "happened": happened,
            "forecast": expected,
            "low": low,
            "high": high,
            "required": rday["windows"],
            "rostered": rostered.get(fday["date"]) or [0] * n,
        }
        if happened:
            mine = issued_day == day
            inside = mine & (slot >= 0) & (slot < n)
            arrivals = np.bincount(slot[inside], minlength=n)[:n]
            open_w = np.zeros(n)
            seen = np.zeros(n, dtype=int)
            for (d, _), spans in periods.items():
                if d != day:
                    continue
                cover = np.zeros(n)
                for a, b in spans:
                    cover += np.clip(
                        np.minimum(b, starts + minutes) - np.maximum(a, starts), 0, None
                    )
                open_w += cover / minutes
                seen += cover > 0
            mean_wait, share = [], []
            called = inside & np.isfinite(waits)
            for j in range(n):
                w = waits[called & (slot == j)]
                mean_wait.append(_r(w.mean()) if w.size else None)
                share.append(_r((w <= within).mean(), 4) if w.size else None)
            w_day = waits[called]
            all_waits.append(w_day)
            total_fc += sum(expected)
            total_actual += int(arrivals.sum())
            entry.update(
                arrivals=[int(x) for x in arrivals],
                open_windows=[_r(x) for x in open_w],
                windows_seen=[int(x) for x in seen],
                mean_wait=mean_wait,
                within_target=share,
                day={
                    "forecast": _r(sum(expected), 1),
                    "arrivals": int(arrivals.sum()),
                    "error_pct": _r(100 * (sum(expected) - arrivals.sum()) / arrivals.sum(), 1)
                    if arrivals.sum()
                    else None,
                    "required_window_hours": _r(sum(rday["windows"]) * minutes / 60, 1),
                    "rostered_window_hours": _r(sum(entry["rostered"]) * minutes / 60, 1),
                    "open_window_hours": _r(open_w.sum() * minutes / 60, 1),
                    "called": int(w_day.size),
                    "mean_wait": _r(w_day.mean()) if w_day.size else None,
                    "within_target": _r((w_day <= within).mean(), 4) if w_day.size else None,
                },
            )
        days.append(entry)
    every = np.concatenate(all_waits) if all_waits else np.array([])
    return {
        "interval_minutes": minutes,
        "intervals": labels,
        "targets": {
            "within_minutes": within,
            "mean_wait_minutes": targets.get("mean_wait_minutes"),
            "share": targets.get("share"),
        },
        "days": days,
        "total": {
            "days_happened": sum(1 for d in days if d["happened"]),
            "forecast": _r(total_fc, 1),
            "arrivals": total_actual,
            "error_pct": _r(100 * (total_fc - total_actual) / total_actual, 1)
            if total_actual
            else None,
            "called": int(every.size),
            "mean_wait": _r(every.mean()) if every.size else None,
            "within_target": _r((every <= within).mean(), 4) if every.size else None,
        },
    }
