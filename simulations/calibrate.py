"""Calibration: a scenario written from the hall's own event log, and a replay check.

Like tailoring a suit from measurements instead of a catalogue size: the arrivals per hour and
service, the handling times, the shares of appointments and priority citizens, the no-show rate
and the citizens' patience all come from what the hall logged (``analytics.profiles`` does the
measuring), the windows and their skills from the hall's configuration. The replay check then
simulates the calibrated scenario and sets its waits beside the observed ones, hour by hour.

Patience is the maximum-likelihood estimate for an exponential patience with censoring: the
total time citizens spent waiting (until called, or until they cancelled) divided by the number
who cancelled while waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analytics.kpis import Ledger, kpis, records
from analytics.load import zone_of
from analytics.profiles import arrival_profile, fit_handling_times, service_rates
from analytics.tickets import open_intervals
from queue_engine.domain.model import HallConfig

from .replicate import replicate
from .scenario import Scenario, parse_scenario

PRIMARY_SHARE = 0.5  # (log only) a skill is primary when served at least half as often as the top
MIN_OPEN_SHARE = 0.5  # a window counts as open in an hour when it was open half of it, on average


def _hours(profile: pd.DataFrame) -> tuple[int, int]:
    """First and last local hour (exclusive) in which tickets were taken."""
    hours = profile.loc[profile["arrivals_per_hour"] > 0, "hour"]
    if hours.empty:
        raise ValueError("the event log has no tickets to calibrate from")
    return int(hours.min()), int(hours.max()) + 1


def _rates(
    profile: pd.DataFrame, weekday: int | None, first: int, last: int
) -> dict[str, list[float]]:
    """Mean arrivals per hour per service: for one weekday, or over all days observed."""
    if weekday is not None:
        chosen = profile.loc[profile["weekday"] == weekday]
        if chosen.empty:
            raise ValueError(f"no tickets on weekday {weekday} in the event log")
        table = chosen.groupby(["service", "hour"])["arrivals_per_hour"].sum()
    else:
        days = profile.drop_duplicates("weekday")["days"].sum()
        table = profile.groupby(["service", "hour"])["tickets"].sum() / days
    return {
        str(service): [round(float(table.get((service, h), 0.0)), 3) for h in range(first, last)]
        for service in sorted(profile["service"].unique())
    }


def patience_minutes(ledger: Ledger) -> dict[str, float]:
    """Exponential patience (minutes) per service by maximum likelihood; services where nobody
    gave up are left out (their citizens wait as long as it takes)."""
    t = ledger.tickets
    walk_in = t["channel"] != "appointment"
    gave_up = walk_in & (t["status"] == "cancelled") & t["first_called_at"].isna()
    exposure_end = t["first_called_at"].where(t["first_called_at"].notna(), t["final_at"])
    exposure = ((exposure_end - t["wait_from"]).dt.total_seconds() / 60).clip(lower=0)
    frame = pd.DataFrame(
        {"service": t["service"], "gave_up": gave_up, "exposure": exposure.where(walk_in)}
    )
    sums = frame.groupby("service").agg(n=("gave_up", "sum"), minutes=("exposure", "sum"))
    return {
        str(code): round(float(minutes) / int(n), 2)
        for code, n, minutes in zip(sums.index, sums["n"], sums["minutes"], strict=True)
        if int(n) > 0
    }


def _skills_seen(visits: pd.DataFrame) -> dict[str, dict[str, bool]]:
    """Skills read from the log alone: the services a window served, primary when it served at
    least half as many of them as of its most served service (else a secondary skill)."""
    counts = visits.groupby(["window", "service"], observed=True).size().reset_index(name="n")
    skills: dict[str, dict[str, int]] = {}
    for window, service, n in zip(counts["window"], counts["service"], counts["n"], strict=True):
        skills.setdefault(str(window), {})[str(service)] = int(n)
    return {
        w: {s: n >= PRIMARY_SHARE * max(served.values()) for s, n in served.items()}
        for w, served in skills.items()
    }


def _windows(
    ledger: Ledger, events: pd.DataFrame, config: HallConfig | None, first: int, last: int
) -> list[dict[str, Any]]:
    """The windows with their skills, open in the hours they usually were."""
    opened = open_intervals(events)
    days = max(ledger.tickets["business_date"].nunique(), 1)
    zone = config.zone if config is not None else zone_of(events)
    if config is not None:
        skills = {str(w.number): dict(w.skills) for w in config.windows}
    else:
        skills = _skills_seen(ledger.visits)
    out = []
    for label, skill in sorted(skills.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
        mine = opened.loc[opened["window"].astype(str) == label]
        minutes = np.zeros(last - first)
        for start, end in zip(mine["start"], mine["end"], strict=True):
            s, e = start.tz_convert(zone), end.tz_convert(zone)
            for h in range(first, last):
                lo = s.normalize() + pd.Timedelta(hours=h)
                overlap = (min(e, lo + pd.Timedelta(hours=1)) - max(s, lo)).total_seconds() / 60
                minutes[h - first] += max(overlap, 0.0)
        hours_open = [bool(m / days >= 60 * MIN_OPEN_SHARE) for m in minutes]
        if not any(hours_open):
            continue
        primary = [c for c, p in skill.items() if p]
        entry: dict[str, Any] = {
            "services": primary or list(skill),
            "secondary": [c for c, p in skill.items() if not p] if primary else [],
            "open": hours_open,
        }
        if label.isdigit():
            entry["id"] = int(label)
        out.append(entry)
    return out


def _moments(fit: Mapping[str, Any]) -> dict[str, Any]:
    """A lognormal with the observed mean and variability of the handling times (the moments
    matter for waiting; a maximum-likelihood lognormal overstates the mean of exponential-like
    data with many short visits)."""
    samples = np.asarray(fit["samples"], dtype=float)
    cv = float(samples.std() / samples.mean()) if samples.size > 1 else fit["cv"]
    mean = fit["observed_mean_minutes"]
    return {"dist": "lognormal", "mean_minutes": round(mean, 3), "cv": round(max(cv, 0.01), 3)}


def _share(table: pd.DataFrame, code: str, column: str) -> float:
    value = table[column].get(code)
    return round(float(value), 4) if value is not None and not pd.isna(value) else 0.0


def calibrate(
    events: pd.DataFrame,
    config: HallConfig | None = None,
    weekday: int | None = None,
    name: str | None = None,
) -> tuple[Scenario, dict[str, Any]]:
    """A scenario calibrated from ``events`` (and the hall's configuration, when known)."""
    ledger = Ledger.from_events(events)
    profile = arrival_profile(ledger)
    first, last = _hours(profile)
    rates = _rates(profile, weekday, first, last)
    handling = fit_handling_times(ledger)
    shares = service_rates(ledger)
    codes = [c for c in rates if c in handling]
    if not codes:
        raise ValueError("no service has enough finished visits to fit handling times")
    patience = patience_minutes(ledger)
    services = []
    for code in codes:
        fit = handling[code]
        service: dict[str, Any] = {
            "code": code,
            "arrivals_per_hour": rates[code],
            "service_time": _moments(fit),
            "appointment_share": _share(shares, code, "appointment_share"),
            "priority_share": _share(shares, code, "priority_share"),
        }
        if code in patience:
            service["patience"] = {"dist": "exponential", "mean_minutes": patience[code]}
        services.append(service)
    windows = [
        {
            **w,
            "services": [c for c in w["services"] if c in codes],
            "secondary": [c for c in w["secondary"] if c in codes],
        }
        for w in _windows(ledger, events, config, first, last)
    ]
    windows = [w for w in windows if w["services"]]
    tickets = ledger.tickets
    called = tickets["first_called_at"].notna()
    no_show = float((tickets.loc[called, "status"] == "no_show").mean()) if called.any() else 0.0
    hall = config.code if config is not None else str(events["hall"].dropna().iloc[0])
    days = sorted(pd.Timestamp(d).date().isoformat() for d in tickets["business_date"].unique())
    data = {
        "name": name or f"{hall} calibrated {days[0]}…{days[-1]}",
        "hall": hall,
        "timezone": config.timezone if config is not None else str(events.attrs.get("timezone")),
        "start_date": days[-1],
        "open": f"{first:02d}:00",
        "close": f"{last:02d}:00",
        "services": services,
        "windows": windows,
        "no_show_rate": round(no_show, 4),
    }
    observed = {
        "days": len(days),
        "tickets": len(tickets),
        "weekday": weekday,
        "by_hour": {int(r["hour"]): r for r in records(kpis(ledger, "hour"))},
        "overall": records(kpis(ledger, ()))[0],
        "patience_minutes": patience,
        "handling": {c: {**_moments(handling[c]), "n": handling[c]["n"]} for c in codes},
    }
    return parse_scenario(data), observed


def replay_check(
    scenario: Scenario, observed: Mapping[str, Any], replications: int = 10, seed: int = 0
) -> dict[str, Any]:
    """Simulate the calibrated scenario over as many days as were observed, ``replications``
    times, and set its waits beside the observed ones."""
    days = max(int(observed["days"]), 1)
    summary = replicate(scenario.model_copy(update={"days": days}), replications, seed)
    sim = summary["overall"]
    obs = observed["overall"]
    rows = []
    for hour in summary["by_hour"]:
        h = int(hour["start"][:2])
        seen = observed["by_hour"].get(h, {})
        rows.append(
            {
                "hour": hour["start"],
                "observed_tickets": seen.get("tickets", 0) / max(observed["days"], 1),
                "simulated_tickets": hour["arrived"] / days,
                "observed_mean_wait": seen.get("wait_mean"),
                "simulated_mean_wait": hour["mean_wait_minutes"],
            }
        )
    observed_wait = obs["wait_mean"] or 0.0
    lo, hi = sim["mean_wait_minutes"]["ci95"]
    diffs = [
        abs(r["simulated_mean_wait"] - r["observed_mean_wait"])
        for r in rows
        if r["observed_mean_wait"] is not None and r["simulated_mean_wait"] is not None
    ]
    return {
        "observed_mean_wait_minutes": observed_wait,
        "simulated_mean_wait_minutes": sim["mean_wait_minutes"],
        "observed_within_ci95": bool(lo <= observed_wait <= hi),
        "relative_error": round(
            abs(sim["mean_wait_minutes"]["mean"] - observed_wait) / observed_wait, 4
        )
        if observed_wait > 0
        else None,
        "observed_p90_wait_minutes": obs["wait_p90"],
        "simulated_p90_wait_minutes": sim["p90_wait_minutes"],
        "observed_tickets_per_day": round(obs["tickets"] / max(observed["days"], 1), 1),
        "simulated_tickets_per_day": round(sim["arrived"] / days, 1),
        "hourly_mean_abs_error_minutes": round(float(np.mean(diffs)), 3) if diffs else None,
        "by_hour": rows,
        "replications": replications,
    }
