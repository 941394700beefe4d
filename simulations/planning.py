"""Forecast → requirement → roster in one call: what ``hall plan`` and the planner page run.

The hall's windows and targets are the demo hall's (``queue_engine.seed``) unless given; the
handling times come from the event log's own recent weeks (finish − start of each ticket),
falling back to 60 % of each service's standard time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from .demo import NINE_HOUR_PROFILE, demo_scenario
from .forecast import Arrivals, Forecast, forecast
from .requirement import Repair, Requirement, requirement
from .roster import Roster, Staff, solve
from .scenario import Scenario, parse_scenario

RECENT = timedelta(days=56)  # handling times from the last eight weeks


def handling_minutes(events: pd.DataFrame) -> dict[str, float]:
    """Mean handling minutes per service over the log's last weeks."""
    rows = events.loc[events["type"].isin(["ticket.started", "ticket.finished"])]
    if rows.empty:
        return {}
    rows = rows.loc[rows["ts"] >= rows["ts"].max() - RECENT]
    wide = rows.pivot_table(
        index=["ticket_id", "service"], columns="type", values="ts", aggfunc="first", observed=True
    )
    if not {"ticket.started", "ticket.finished"} <= set(wide.columns):
        return {}
    minutes = (wide["ticket.finished"] - wide["ticket.started"]).dt.total_seconds() / 60
    minutes = minutes[minutes > 0]
    means = minutes.groupby(level="service", observed=True).mean()
    return {str(k): float(v) for k, v in means.items()}


def hall_template(
    services: list[str],
    handling: dict[str, float] | None = None,
    targets: dict[str, Any] | None = None,
) -> Scenario:
    """The demo hall's windows and skills, the log's handling times, the hall's targets."""
    data = demo_scenario(profile=NINE_HOUR_PROFILE).model_dump(mode="json")
    known = {s["code"] for s in data["services"]}
    missing = sorted(set(services) - known)
    if missing:
        raise ValueError(f"services {missing} are not served by the hall's windows")
    for s in data["services"]:
        if handling and s["code"] in handling:
            s["service_time"] = {
                "dist": "lognormal",
                "mean_minutes": handling[s["code"]],
                "cv": 0.7,
            }
    if targets:
        data["targets"] = {**data["targets"], **targets}
    return parse_scenario(data)


def plan(
    arrivals: Arrivals,
    staff: Staff,
    days: int = 7,
    start: date | None = None,
    handling: dict[str, float] | None = None,
    bookings: Iterable[tuple[datetime, str]] | None = None,
    repair: Repair = "simulate",
    replications: int = 4,
) -> tuple[Forecast, Requirement, Roster]:
    """The forecast of ``days`` days, the windows it needs, and the roster of ``staff``."""
    fc = forecast(arrivals, days, start, bookings)
    template = hall_template(fc.services, handling)
    req = requirement(fc, template, repair, replications)
    return fc, req, solve(req, staff)


def plan_json(fc: Forecast, req: Requirement, roster: Roster) -> dict[str, Any]:
    """The whole plan as JSON: forecast, requirement, roster."""
    return {
        "forecast": fc.as_json(),
        "requirement": req.as_json(),
        "roster": roster.as_json(),
    }
