"""The figures of the supervisor dashboard and the daily report, from one day's ledger.

Every series is a plain list, ready for ECharts on the page and matplotlib in the PNG charts:
arrivals and mean wait per hour, service level per hour, throughput and handling per window,
and the day's headline KPIs.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .kpis import Ledger, _json_value, kpis, records

HEADLINE = (
    "tickets",
    "called",
    "served",
    "wait_mean",
    "wait_p90",
    "handling_mean",
    "service_level_5",
    "service_level_15",
    "no_show_rate",
    "transfer_rate",
    "cancellation_rate",
    "ewt_abs_error_mean",
    "utilization",
    "satisfaction",
    "reviews",
    "bad_reviews",
)


def _series(table: pd.DataFrame, column: str) -> list[Any]:
    return [_json_value(v) for v in table[column]] if column in table else []


def day_figures(ledger: Ledger) -> dict[str, Any]:
    """Headline KPIs and the chart series of one day (or any span) of a hall."""
    overall = records(kpis(ledger))[0]
    by_hour = kpis(ledger, "hour")
    by_window = kpis(ledger, "window")
    by_service = kpis(ledger, "service")
    hours = [int(h) for h in by_hour.index]
    windows = sorted(by_window.index, key=lambda w: (len(str(w)), str(w)))
    by_window = by_window.reindex(windows)
    return {
        "kpis": {k: overall.get(k) for k in HEADLINE},
        "hourly": {
            "hours": [f"{h:02d}:00" for h in hours],
            "arrivals": [int(v) for v in by_hour["tickets"]],
            "served": [int(v) for v in by_hour["served"]],
            "wait_mean": _series(by_hour, "wait_mean"),
            "wait_p90": _series(by_hour, "wait_p90"),
            "service_level_5": _series(by_hour, "service_level_5"),
            "service_level_15": _series(by_hour, "service_level_15"),
        },
        "windows": {
            "windows": [str(w) for w in windows],
            "served": [int(v) for v in by_window["served"]],
            "throughput_per_hour": _series(by_window, "throughput_per_hour"),
            "handling_mean": _series(by_window, "handling_mean"),
            "utilization": _series(by_window, "utilization"),
        },
        "services": records(by_service),
    }
