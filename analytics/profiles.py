"""What the hall's history says about its demand: the inputs a simulation is calibrated from.

* ``arrival_profile``: mean tickets per hour by weekday, local hour and service — averaged over
  the days of that weekday on which the hall issued tickets at all, zeros included;
* ``fit_handling_times``: a lognormal per service fitted by maximum likelihood to the handling
  times of finished visits (``mean_minutes`` and ``cv`` as the scenario file takes them), with
  a sample of the observed times for an empirical distribution;
* ``service_rates``: per service the shares of appointments, priority tickets, no-shows,
  cancellations and transfers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .kpis import Ledger

MAX_SAMPLES = 1000
MIN_FIT_SAMPLES = 2
SEED = 20261126


def _ledger(data: pd.DataFrame | Ledger) -> Ledger:
    return data if isinstance(data, Ledger) else Ledger.from_events(data)


def arrival_profile(data: pd.DataFrame | Ledger) -> pd.DataFrame:
    """Mean arrivals per hour: columns weekday (0 = Monday), hour, service, arrivals_per_hour,
    days (how many such weekdays the mean is over) and tickets (the total counted)."""
    rows = _ledger(data).tickets
    columns = ["weekday", "hour", "service", "arrivals_per_hour", "days", "tickets"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    days = rows.groupby("weekday")["business_date"].nunique().rename("days")
    counts = rows.groupby(["weekday", "hour", "service"]).size().rename("tickets").reset_index()
    out = counts.merge(days.reset_index(), on="weekday")
    out["arrivals_per_hour"] = out["tickets"] / out["days"]
    return out[columns].sort_values(["weekday", "hour", "service"]).reset_index(drop=True)


def lognormal_fit(minutes: np.ndarray[Any, np.dtype[np.float64]]) -> dict[str, float]:
    """Maximum-likelihood lognormal of positive durations: its mean, cv and parameters."""
    sigma, _, scale = stats.lognorm.fit(minutes, floc=0)
    mean = float(scale * math.exp(sigma**2 / 2))
    cv = float(math.sqrt(math.expm1(sigma**2)))
    return {"mean_minutes": mean, "cv": cv, "mu": float(math.log(scale)), "sigma": float(sigma)}


def fit_handling_times(
    data: pd.DataFrame | Ledger, max_samples: int = MAX_SAMPLES
) -> dict[str, dict[str, Any]]:
    """Per service ``{"dist": "lognormal", "mean_minutes", "cv", "n", "samples", ...}``.

    Services with fewer than two positive handling times are left out (nothing to fit).
    """
    visits = _ledger(data).visits
    done = visits.loc[visits["handling_minutes"] > 0, ["service", "handling_minutes"]]
    rng = np.random.default_rng(SEED)
    fitted: dict[str, dict[str, Any]] = {}
    for service, group in done.groupby("service", sort=True):
        minutes = group["handling_minutes"].to_numpy(dtype=np.float64)
        if len(minutes) < MIN_FIT_SAMPLES:
            continue
        fit = lognormal_fit(minutes)
        sample = minutes if len(minutes) <= max_samples else rng.choice(minutes, max_samples)
        fitted[str(service)] = {
            "dist": "lognormal",
            "mean_minutes": round(fit["mean_minutes"], 3),
            "cv": round(fit["cv"], 3),
            "mu": round(fit["mu"], 4),
            "sigma": round(fit["sigma"], 4),
            "n": len(minutes),
            "observed_mean_minutes": round(float(minutes.mean()), 3),
            "samples": [round(float(m), 3) for m in sample],
        }
    return fitted


def service_rates(data: pd.DataFrame | Ledger) -> pd.DataFrame:
    """Per service: tickets, appointment_share, priority_share, no_show_rate (final no-shows
    of called tickets), cancellation_rate and transfer_rate."""
    rows = _ledger(data).tickets
    called = rows["first_called_at"].notna()
    frame = pd.DataFrame(
        {
            "service": rows["service"],
            "appointment": (rows["channel"] == "appointment").astype(float),
            "priority": (rows["priority"].fillna("none") != "none").astype(float),
            "no_show": (rows["status"] == "no_show").astype(float).where(called),
            "cancelled": (rows["status"] == "cancelled").astype(float),
            "transferred": (rows["transfers"] > 0).astype(float),
        }
    )
    g = frame.groupby("service", sort=True)
    return pd.DataFrame(
        {
            "tickets": g.size(),
            "appointment_share": g["appointment"].mean(),
            "priority_share": g["priority"].mean(),
            "no_show_rate": g["no_show"].mean(),
            "cancellation_rate": g["cancelled"].mean(),
            "transfer_rate": g["transferred"].mean(),
        }
    )
