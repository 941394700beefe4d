"""The KPIs of SPEC §4 from the event log: DataFrame in, DataFrame out.

Definitions (the same as ``queue_engine.domain.kpi`` uses live):

* waiting time = first call − issue; for appointments − the later of issue and slot start;
* handling time = finish − start of the visit that finished the ticket;
* service level at T = share of called tickets whose wait is ≤ T minutes (5 and 15);
* no-show, transfer and cancellation rates = tickets ending as no-show (a requeued no-show that
  is served later is not one), transferred at least once, or cancelled ÷ tickets issued; for a
  window or clerk they are shares of its calls (visits) that ended so;
* recall rate = share of calls re-announced at least once;
* utilization = time a window was busy with a citizen (call → finish, transfer or no-show) ÷
  time it was open (pauses excluded), for windows, clerks, days and overall;
* throughput per hour = served ÷ open hours for windows and clerks, and ÷ the hours in which the
  hall served anybody for every other grouping (none below a quarter of an hour);
* EWT error = actual wait − the typical (median) estimate given at issue, its mean absolute
  value, and the share of waits within the pessimistic (90th percentile) estimate;
* satisfaction = mean 好差评 score (1–5); bad reviews = scores 1 and 2.

Tickets count on the business date (hall zone) of their issue and the hour they were taken;
wait figures go to the window and clerk that first called the ticket, handling to the window,
clerk and service of each visit, reviews to the rated window and clerk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .load import zone_of
from .tickets import evaluations, open_intervals, tickets_and_codes, visits

DIMENSIONS = ("day", "hour", "service", "window", "clerk", "channel", "priority")
TARGETS = (5.0, 15.0)
BAD_SCORE = 2
MIN_HOURS = 0.25
_TICKET_KEYS = {
    "day": "business_date",
    "hour": "hour",
    "service": "service",
    "window": "first_window",
    "clerk": "first_clerk",
    "channel": "channel",
    "priority": "priority",
}
_VISIT_KEYS = {**_TICKET_KEYS, "window": "window", "clerk": "clerk"}
_OPEN_KEYS = {"day": "business_date", "window": "window", "clerk": "clerk"}
_STAFF = frozenset({"window", "clerk"})


@dataclass(frozen=True)
class Ledger:
    """The event log read back as tickets, visits, open intervals and reviews."""

    tickets: pd.DataFrame
    visits: pd.DataFrame
    open: pd.DataFrame
    reviews: pd.DataFrame
    timezone: str
    # per-row figures the KPIs group (the same for every grouping): worked out once
    _derived: dict[Any, pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def derived(self, key: Any, make: Any) -> pd.DataFrame:
        """``make()``, the first time for ``key``; a shallow copy to add group keys to."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key].copy(deep=False)

    @classmethod
    def from_events(cls, events: pd.DataFrame) -> Ledger:
        ticket_rows, codes = tickets_and_codes(events)
        return cls(
            tickets=ticket_rows,
            visits=visits(events, ticket_rows, codes),
            open=open_intervals(events),
            reviews=evaluations(events, ticket_rows, codes),
            timezone=str(zone_of(events)),
        )


def _ledger(data: pd.DataFrame | Ledger) -> Ledger:
    return data if isinstance(data, Ledger) else Ledger.from_events(data)


def _dims(by: str | Sequence[str]) -> list[str]:
    dims = [by] if isinstance(by, str) else list(by)
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown KPI dimension(s) {unknown}; use {', '.join(DIMENSIONS)}")
    return dims


def _grouped(frame: pd.DataFrame, dims: list[str], keys: dict[str, str]) -> Any:
    if not dims:
        return frame.groupby(np.zeros(len(frame), dtype=np.int8))
    columns = [keys[d] for d in dims]
    return frame.groupby(columns if len(columns) > 1 else columns[0], observed=True, sort=True)


def _named(result: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    if dims:
        result.index = result.index.set_names(dims)
    return result


def _ticket_derived(rows: pd.DataFrame, targets: Sequence[float]) -> pd.DataFrame:
    wait = rows["wait_minutes"]
    called = wait.notna()
    derived = pd.DataFrame(
        {
            "wait": wait,
            "no_show": (rows["status"] == "no_show").astype(float),
            "cancelled": (rows["status"] == "cancelled").astype(float),
            "transferred": (rows["transfers"] > 0).astype(float),
            "ewt": rows["ewt_error"],
            "ewt_abs": rows["ewt_error"].abs(),
            "within_p90": (wait <= rows["est_p90"])
            .astype(float)
            .where(called & rows["est_p90"].notna()),
        }
    )
    for target in targets:
        derived[f"sl{target:g}"] = (wait <= target).astype(float).where(called)
    return derived


def _ticket_metrics(ledger: Ledger, dims: list[str], targets: Sequence[float]) -> pd.DataFrame:
    rows = ledger.tickets
    derived = ledger.derived(("tickets", tuple(targets)), lambda: _ticket_derived(rows, targets))
    for dim in dims:
        derived[_TICKET_KEYS[dim]] = rows[_TICKET_KEYS[dim]]
    g = _grouped(derived, dims, _TICKET_KEYS)
    out = pd.DataFrame(
        {
            "tickets": g.size(),
            "called": g["wait"].count(),
            "wait_mean": g["wait"].mean(),
            "wait_median": g["wait"].median(),
            "wait_p90": g["wait"].quantile(0.9),
        }
    )
    for target in targets:
        out[f"service_level_{target:g}"] = g[f"sl{target:g}"].mean()
    out["no_show_rate"] = g["no_show"].mean()
    out["transfer_rate"] = g["transferred"].mean()
    out["cancellation_rate"] = g["cancelled"].mean()
    out["ewt_error_mean"] = g["ewt"].mean()
    out["ewt_abs_error_mean"] = g["ewt_abs"].mean()
    out["ewt_within_p90"] = g["within_p90"].mean()
    return _named(out, dims)


def _visit_derived(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "handling": rows["handling_minutes"],
            "finished": (rows["outcome"] == "finished").astype(int),
            "no_show": (rows["outcome"] == "no_show").astype(float),
            "transferred": (rows["outcome"] == "transferred").astype(float),
            "recalled": (rows["recalls"] > 0).astype(float),
            "busy": rows["busy_minutes"],
        }
    )


def _visit_metrics(ledger: Ledger, dims: list[str]) -> pd.DataFrame:
    rows = ledger.visits
    derived = ledger.derived("visits", lambda: _visit_derived(rows))
    for dim in dims:
        derived[_VISIT_KEYS[dim]] = rows[_VISIT_KEYS[dim]]
    g = _grouped(derived, dims, _VISIT_KEYS)
    out = pd.DataFrame(
        {
            "visits": g.size(),
            "served": g["finished"].sum(),
            "handling_mean": g["handling"].mean(),
            "handling_median": g["handling"].median(),
            "handling_p90": g["handling"].quantile(0.9),
            "visit_no_show_rate": g["no_show"].mean(),
            "visit_transfer_rate": g["transferred"].mean(),
            "recall_rate": g["recalled"].mean(),
            "busy_minutes": g["busy"].sum(),
        }
    )
    return _named(out, dims)


def _review_metrics(rows: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    derived = pd.DataFrame(
        {"score": rows["score"], "bad": (rows["score"] <= BAD_SCORE).astype(int)}
    )
    for dim in dims:
        derived[_VISIT_KEYS[dim]] = rows[_VISIT_KEYS[dim]]
    g = _grouped(derived, dims, _VISIT_KEYS)
    out = pd.DataFrame(
        {"reviews": g.size(), "satisfaction": g["score"].mean(), "bad_reviews": g["bad"].sum()}
    )
    return _named(out, dims)


def _hours(ledger: Ledger, dims: list[str], index: pd.Index) -> pd.Series:
    """The hours each group's throughput is divided by (see the module text)."""
    if set(dims) <= set(_OPEN_KEYS) and set(dims) & _STAFF:
        g = _grouped(ledger.open, dims, _OPEN_KEYS)
        hours: pd.Series = (g["minutes"].sum() / 60).reindex(index)
        return hours
    slots = ledger.derived("served_hours", lambda: _served_hours(ledger.visits))
    time_dims = [d for d in dims if d in ("day", "hour")]
    if not time_dims:
        return pd.Series(float(len(slots)), index=index)
    counts = _named(
        pd.DataFrame({"n": _grouped(slots, time_dims, _TICKET_KEYS).size()}), time_dims
    )["n"]
    if time_dims == dims:
        return counts.reindex(index).astype(float)
    keys = index.to_frame(index=False)[time_dims]
    looked_up = keys.merge(counts.reset_index(), on=time_dims, how="left")["n"]
    return pd.Series(looked_up.to_numpy(dtype=float), index=index)


def _served_hours(visits: pd.DataFrame) -> pd.DataFrame:
    """The (business date, hour) slots in which the hall served anybody."""
    served = visits.loc[visits["outcome"] == "finished"]
    return served[["business_date", "hour"]].drop_duplicates()


def _utilization(ledger: Ledger, dims: list[str], out: pd.DataFrame) -> pd.Series:
    if not set(dims) <= set(_OPEN_KEYS):
        return pd.Series(np.nan, index=out.index)
    if not dims:
        open_minutes = pd.Series(float(ledger.open["minutes"].sum()), index=out.index)
    else:
        grouped = _grouped(ledger.open, dims, _OPEN_KEYS)["minutes"].sum()
        open_minutes = _named(pd.DataFrame({"m": grouped}), dims)["m"].reindex(out.index)
    return _per(out["busy_minutes"], open_minutes)


def _per(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator ÷ denominator, NaN where the denominator is 0 or missing."""
    den = denominator.astype("float64")
    return numerator.astype("float64").div(den.where(den > 0))


def kpis(
    data: pd.DataFrame | Ledger,
    by: str | Sequence[str] = (),
    targets: Sequence[float] = TARGETS,
) -> pd.DataFrame:
    """KPIs of the events (or a ``Ledger``) per group of ``by`` (none: one overall row).

    ``by`` takes the dimensions ``day`` (business date), ``hour`` (local hour), ``service``,
    ``window``, ``clerk``, ``channel`` and ``priority``, alone or combined.
    """
    ledger = _ledger(data)
    dims = _dims(by)
    parts = [
        _ticket_metrics(ledger, dims, targets),
        _visit_metrics(ledger, dims),
        _review_metrics(ledger.reviews, dims),
    ]
    out = pd.concat(parts, axis=1).sort_index().astype("float64")
    if not dims:
        out = out.iloc[:1] if len(out) else pd.DataFrame(columns=out.columns, index=[0])
        out.index = pd.Index(["all"], name="group")
    for column in ("tickets", "called", "visits", "served", "reviews", "bad_reviews"):
        out[column] = out[column].fillna(0).astype(int)
    if set(dims) & _STAFF:
        out["no_show_rate"] = out["visit_no_show_rate"]
        out["transfer_rate"] = out["visit_transfer_rate"]
        out["cancellation_rate"] = np.nan
    out["utilization"] = _utilization(ledger, dims, out)
    hours = _hours(ledger, dims, out.index)
    # an hourly rate over a few minutes of opening says nothing: needs a quarter of an hour
    out["throughput_per_hour"] = _per(out["served"], hours.where(hours >= MIN_HOURS))
    if dims == ["window"] or dims == ["clerk"]:
        out = out.loc[sorted(out.index, key=lambda w: (len(str(w)), str(w)))]
    return out


def kpi_report(events: pd.DataFrame, targets: Sequence[float] = TARGETS) -> dict[str, Any]:
    """Every KPI table as JSON-ready data: overall and by each dimension (``hall kpis``)."""
    ledger = Ledger.from_events(events)
    days = ledger.tickets["business_date"]
    report: dict[str, Any] = {
        "hall": _halls(events),
        "timezone": ledger.timezone,
        "from": _json_value(days.min()) if len(days) else None,
        "to": _json_value(days.max()) if len(days) else None,
        "events": len(events),
        "overall": records(kpis(ledger, (), targets))[0],
    }
    for dim in DIMENSIONS:
        report[f"by_{dim}"] = records(kpis(ledger, dim, targets))
    from .visits import one_visit_report

    report["one_visit"] = one_visit_report(events)
    return report


def _halls(events: pd.DataFrame) -> str | list[str] | None:
    halls = sorted(str(h) for h in events["hall"].dropna().unique())
    return halls[0] if len(halls) == 1 else (halls or None)


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """A KPI table as a list of plain dicts (group keys first; NaN → None, rounded)."""
    keyed = any(name is not None and name != "group" for name in table.index.names)
    flat = table.reset_index() if keyed else table
    return [
        {str(k): _json_value(v) for k, v in row.items()} for row in flat.to_dict(orient="records")
    ]


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value.tzinfo is None else value.isoformat()
    if isinstance(value, np.integer | int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return None if math.isnan(number) else round(number, 4)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
