"""Arrival forecast: how many citizens each service will see in each half hour of the next days.

Like a station master who knows that Mondays after the Golden Week are packed and that the
first working days of a month bring the pension queries, the forecast reads the hall's own
event log and learns, per service, a negative binomial regression (a GLM of
``statsmodels``): the time-of-day profile, the weekday's level and its tilt towards the morning
or the afternoon, the Chinese calendar's adjusted working days, the first working days after a
long holiday, the last day before one, the first working days of a month, and a slow trend.
Every effect is a coefficient a planner can read (``effects``), the counts are overdispersed
(the dispersion is estimated from the residuals), and the 80 % interval of a day's total comes
from how far real days strayed from the fitted ones.

Appointments already booked for the forecast days are known arrivals: the booked citizens
(times the share that turns up) replace the forecast of appointment tickets.

The baseline is the seasonal naive forecast: the same weekday of the last observed week.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from .workdays import DayClass, classify, days_between

LEVEL = 0.8  # prediction intervals: 10 % to 90 %
SHOW_RATE = 0.9  # booked citizens who turn up, unless the history tells better
MIN_TRAIN_DAYS = 20  # open days of history the model needs (else: the naive forecast only)


@dataclass
class Arrivals:
    """Tickets per calendar day, service and interval, as counted from an event log."""

    first_day: date
    services: list[str]
    first_minute: int  # the first interval's start, minutes after local midnight
    minutes: int  # interval length
    walk_ins: np.ndarray  # (days, services, intervals)
    appointments: np.ndarray  # same shape: tickets of the appointment channel

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=k) for k in range(self.walk_ins.shape[0])]

    @property
    def total(self) -> np.ndarray:
        return np.asarray(self.walk_ins + self.appointments)

    def until(self, last: date) -> Arrivals:
        """The history up to and including ``last``."""
        n = max((last - self.first_day).days + 1, 0)
        return Arrivals(
            self.first_day,
            self.services,
            self.first_minute,
            self.minutes,
            self.walk_ins[:n],
            self.appointments[:n],
        )

    def clock(self, j: int) -> str:
        m = self.first_minute + j * self.minutes
        return f"{m // 60:02d}:{m % 60:02d}"


def arrivals_from_events(events: pd.DataFrame, minutes: int = 30) -> Arrivals:
    """Count the ``ticket.issued`` rows of an event frame (``analytics.load``) per local day,
    service and interval; the intervals span the hours in which tickets were ever issued."""
    from analytics.load import zone_of

    issued = events.loc[events["type"] == "ticket.issued", ["ts", "service", "channel"]]
    if issued.empty:
        raise ValueError("the event log has no tickets to forecast from")
    local = issued["ts"].dt.tz_convert(zone_of(events))
    minute = (local.dt.hour * 60 + local.dt.minute).to_numpy()
    first_minute = int(minute.min() // 30 * 30)
    slots = int((minute.max() - first_minute) // minutes) + 1
    day = local.dt.date.to_numpy()
    first_day = min(day)
    day_index = np.array([(d - first_day).days for d in day])
    services = sorted(str(s) for s in issued["service"].dropna().unique())
    code = {s: k for k, s in enumerate(services)}
    svc = issued["service"].astype(str).map(code).to_numpy()
    slot = (minute - first_minute) // minutes
    booked = (issued["channel"].astype(str) == "appointment").to_numpy()
    shape = (int(day_index.max()) + 1, len(services), slots)
    walk, appt = np.zeros(shape), np.zeros(shape)
    np.add.at(walk, (day_index[~booked], svc[~booked], slot[~booked]), 1)
    np.add.at(appt, (day_index[booked], svc[booked], slot[booked]), 1)
    return Arrivals(first_day, services, first_minute, minutes, walk, appt)


EFFECT_NAMES = (
    "adjusted_working_day",
    "first_day_after_long_holiday",
    "second_day_after_long_holiday",
    "last_day_before_long_holiday",
    "first_working_day_of_month",
    "second_working_day_of_month",
    "third_working_day_of_month",
    "trend_per_year",
)


def design(days: list[DayClass], intervals: int, origin: date) -> np.ndarray:
    """One row per open day and interval: the calendar effects the regression learns."""
    centre = np.linspace(-1, 1, intervals)
    wd = np.array([d.day.weekday() for d in days])
    ordinary = ~np.array([d.adjusted for d in days])
    weekday = np.stack([(wd == k) & ordinary for k in range(1, 5)], axis=1).astype(float)
    day_part = np.array(
        [
            [
                float(d.adjusted),
                float(d.after_holiday == 1),
                float(d.after_holiday == 2),
                float(d.before_holiday),
                float(d.month_workday == 1),
                float(d.month_workday == 2),
                float(d.month_workday == 3),
                (d.day - origin).days / 365.0,
            ]
            for d in days
        ]
    ).reshape(len(days), len(EFFECT_NAMES))
    n = len(days) * intervals
    slot = np.tile(np.eye(intervals)[:, 1:], (len(days), 1))
    tilt = (
        np.repeat(
            np.stack([(wd == k) & ordinary for k in range(5)], axis=1).astype(float), intervals, 0
        )
        * np.tile(centre, len(days))[:, None]
    )
    return np.hstack(
        [
            np.ones((n, 1)),
            slot,
            np.repeat(weekday, intervals, 0),
            tilt,
            np.repeat(day_part, intervals, 0),
        ]
    )


@dataclass
class ServiceModel:
    """A fitted negative binomial GLM of one series (a service's walk-ins or appointments)."""

    params: np.ndarray
    alpha: float
    day_ratio: tuple[float, float]  # 10 % and 90 % of actual / fitted day totals
    origin: date
    intervals: int
    effects: dict[str, float] = field(default_factory=dict)

    def expected(self, days: list[DayClass]) -> np.ndarray:
        """Expected counts (days, intervals); zero on closed days."""
        out = np.zeros((len(days), self.intervals))
        open_days = [d for d in days if d.open]
        if open_days:
            x = design(open_days, self.intervals, self.origin)
            mu = np.exp(np.clip(x @ self.params, -30, 30)).reshape(len(open_days), -1)
            out[[d.open for d in days]] = mu
        return out


def fit_series(counts: np.ndarray, days: list[DayClass]) -> ServiceModel | None:
    """Fit one series (days, intervals) on its open days; None when too little history."""
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    keep = [k for k, d in enumerate(days) if d.open]
    if len(keep) < MIN_TRAIN_DAYS or counts[keep].sum() == 0:
        return None
    open_days = [days[k] for k in keep]
    y = counts[keep].reshape(-1)
    intervals = counts.shape[1]
    origin = open_days[0].day
    x = design(open_days, intervals, origin)
    used = np.asarray(x.any(axis=0))  # drop effects the history never saw (a holiday after it, say)
    used[0] = True
    xs = x[:, used]
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        poisson = GLM(y, xs, family=families.Poisson()).fit()
        mu = poisson.mu
        alpha = float(np.clip(np.mean(((y - mu) ** 2 - y) / np.maximum(mu, 1e-6) ** 2), 1e-4, 5))
        nb = GLM(y, xs, family=families.NegativeBinomial(alpha=alpha)).fit(
            start_params=poisson.params
        )
    params = np.zeros(x.shape[1])
    params[used] = nb.params
    fitted = nb.mu.reshape(len(open_days), intervals).sum(axis=1)
    actual = counts[keep].sum(axis=1)
    ratio = actual[fitted > 0] / fitted[fitted > 0]
    lo, hi = (float(q) for q in np.quantile(ratio, [(1 - LEVEL) / 2, (1 + LEVEL) / 2]))
    n_slot = intervals - 1
    effects = {
        name: round(math.exp(float(params[1 + n_slot + 4 + 5 + i])) - 1, 4)
        for i, name in enumerate(EFFECT_NAMES)
    }
    return ServiceModel(params, alpha, (lo, hi), origin, intervals, effects)


def seasonal_naive(history: Arrivals, days: list[date]) -> np.ndarray:
    """The same weekday of the latest observed week with the hall open (else the latest open
    day): (days, services, intervals)."""
    total = history.total
    observed = history.days
    open_seen = [k for k, d in enumerate(observed) if total[k].sum() > 0]
    out = np.zeros((len(days), *total.shape[1:]))
    for i, d in enumerate(days):
        if not classify(d).open or not open_seen:
            continue
        same = [k for k in open_seen if observed[k].weekday() == d.weekday()]
        out[i] = total[(same or open_seen)[-1]]
    return out


@dataclass
class Forecast:
    """Expected arrivals with 80 % intervals: (days, services, intervals) arrays and day totals."""

    days: list[DayClass]
    services: list[str]
    arrivals: Arrivals
    expected: np.ndarray
    low: np.ndarray
    high: np.ndarray
    day_expected: np.ndarray  # (days, services)
    day_low: np.ndarray
    day_high: np.ndarray
    booked: np.ndarray  # known appointment arrivals counted in ``expected``
    models: dict[str, str]
    effects: dict[str, dict[str, float]]
    bookings: np.ndarray | None = None  # booked citizens (days, services, intervals)
    known_days: np.ndarray | None = None  # (days,): the appointments came from the bookings

    def as_json(self) -> dict[str, Any]:
        a = self.arrivals
        days = []
        for i, d in enumerate(self.days):
            services = {
                code: {
                    "expected": round(float(self.day_expected[i, k]), 1),
                    "low": round(float(self.day_low[i, k]), 1),
                    "high": round(float(self.day_high[i, k]), 1),
                }
                for k, code in enumerate(self.services)
            }
            intervals = []
            if d.open:
                for j in range(self.expected.shape[2]):
                    intervals.append(
                        {
                            "start": a.clock(j),
                            "end": a.clock(j + 1),
                            "expected": round(float(self.expected[i, :, j].sum()), 2),
                            "low": round(float(self.low[i, :, j].sum()), 2),
                            "high": round(float(self.high[i, :, j].sum()), 2),
                            "services": {
                                code: {
                                    "expected": round(float(self.expected[i, k, j]), 2),
                                    "low": int(self.low[i, k, j]),
                                    "high": int(self.high[i, k, j]),
                                    "booked": round(float(self.booked[i, k, j]), 1),
                                }
                                for k, code in enumerate(self.services)
                            },
                        }
                    )
            day: dict[str, Any] = {
                "date": d.day.isoformat(),
                "open": d.open,
                "kind": day_kind(d),
                "expected": round(float(self.day_expected[i].sum()), 1),
                "services": services,
                "intervals": intervals,
            }
            if self.bookings is not None and self.known_days is not None:
                per = self.bookings[i].sum(axis=1)
                day["bookings"] = {
                    "used": bool(self.known_days[i]),
                    "booked": int(per.sum()),
                    "services": {c: int(per[k]) for k, c in enumerate(self.services) if per[k]},
                }
            days.append(day)
        return {
            "interval_minutes": a.minutes,
            "level": LEVEL,
            "history": {
                "first_day": a.first_day.isoformat(),
                "last_day": a.days[-1].isoformat(),
                "tickets": int(a.total.sum()),
            },
            "model": "negative binomial GLM with calendar effects (statsmodels)",
            "models": self.models,
            "effects": self.effects,
            "days": days,
        }


def day_kind(d: DayClass) -> str:
    """A short label of what is special about the day (for the page and the JSON)."""
    if not d.open:
        return "closed"
    kinds = []
    if d.adjusted:
        kinds.append("adjusted_working_day")
    if d.after_holiday:
        kinds.append("after_long_holiday")
    if d.before_holiday:
        kinds.append("before_long_holiday")
    if 1 <= d.month_workday <= 3:
        kinds.append("month_start")
    return ",".join(kinds) or "ordinary"


def booked_counts(
    arrivals: Arrivals, days: list[date], bookings: Iterable[tuple[datetime, str]]
) -> np.ndarray:
    """Booked appointments per day, service and interval (local slot starts)."""
    out = np.zeros((len(days), len(arrivals.services), arrivals.walk_ins.shape[2]))
    index = {d: i for i, d in enumerate(days)}
    code = {s: k for k, s in enumerate(arrivals.services)}
    for start, service in bookings:
        i, k = index.get(start.date()), code.get(service)
        if i is None or k is None:
            continue
        j = (start.hour * 60 + start.minute - arrivals.first_minute) // arrivals.minutes
        if 0 <= j < out.shape[2]:
            out[i, k, j] += 1
    return out


def forecast(
    history: Arrivals,
    horizon: int,
    start: date | None = None,
    bookings: Iterable[tuple[datetime, str]] | None = None,
    show_rate: float = SHOW_RATE,
    fits: dict[Any, ServiceModel | None] | None = None,
    known_until: date | None = None,
) -> Forecast:
    """Forecast ``horizon`` days from ``start`` (default: the day after the history ends),
    fitted on the history before ``start``. With ``bookings`` (local slot start, service) the
    booked citizens × ``show_rate`` are the appointment arrivals of those days. ``fits``: a
    cache of fitted models (by series and last day of training) shared between calls.
    ``known_until``: the bookings are complete only up to that day (the last day open for
    booking); later days keep the appointment model (default: every day is complete)."""
    start = start or history.days[-1] + timedelta(days=1)
    train = history.until(start - timedelta(days=1))
    if train.walk_ins.shape[0] == 0:
        raise ValueError(f"no history before {start}")
    past = days_between(train.first_day, train.days[-1])
    ahead = days_between(start, start + timedelta(days=horizon - 1))
    n_int = train.walk_ins.shape[2]
    shape = (len(ahead), len(train.services), n_int)
    mean, var = np.zeros(shape), np.zeros(shape)
    day_lo, day_hi = np.zeros(shape[:2]), np.zeros(shape[:2])
    naive = seasonal_naive(train, [d.day for d in ahead])
    known = booked_counts(train, [d.day for d in ahead], bookings or [])
    known_days = np.full(len(ahead), bookings is not None)  # a booking book is complete
    if known_until is not None:
        known_days &= np.array([d.day <= known_until for d in ahead])
    models, effects = {}, {}
    for k, code in enumerate(train.services):
        parts = [("walk_ins", train.walk_ins[:, k]), ("appointments", train.appointments[:, k])]
        lo_sum, hi_sum = np.zeros(len(ahead)), np.zeros(len(ahead))
        kinds = []
        for name, series in parts:
            if series.sum() == 0:
                if name == "appointments" and (known[:, k] * known_days[:, None]).any():
                    mu = known[:, k] * known_days[:, None] * show_rate  # booked, never seen
                    mean[:, k] += mu
                    var[:, k] += mu
                    lo_sum += mu.sum(axis=1)
                    hi_sum += mu.sum(axis=1)
                    kinds.append("appointments: the bookings")
                continue
            key = (name, code, train.minutes, train.days[-1], train.first_day)
            if fits is not None and key in fits:
                model = fits[key]
            else:
                model = fit_series(series, past)
                if fits is not None:
                    fits[key] = model
            if model is None:
                share = series.sum() / max(train.total[:, k].sum(), 1)
                mu = naive[:, k] * share
                lo_r, hi_r, alpha = 0.8, 1.2, 0.1
                kinds.append(f"{name}: seasonal naive (short history)")
            else:
                mu = model.expected(ahead)
                lo_r, hi_r, alpha = model.day_ratio[0], model.day_ratio[1], model.alpha
                kinds.append(f"{name}: negative binomial GLM (alpha {model.alpha:.3f})")
                if name == "walk_ins":
                    effects[code] = model.effects
            if name == "appointments":
                mu = np.where(known_days[:, None], known[:, k] * show_rate, mu)
            mean[:, k] += mu
            var[:, k] += mu + alpha * mu**2
            lo_sum += mu.sum(axis=1) * lo_r
            hi_sum += mu.sum(axis=1) * hi_r
        models[code] = "; ".join(kinds)
        day_lo[:, k], day_hi[:, k] = lo_sum, hi_sum
    low, high = _interval_bounds(mean, var)
    return Forecast(
        ahead,
        train.services,
        train,
        mean,
        low,
        high,
        mean.sum(axis=2),
        day_lo,
        day_hi,
        known * show_rate * known_days[:, None, None],
        models,
        effects,
        known if bookings is not None else None,
        known_days if bookings is not None else None,
    )


def _interval_bounds(mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """10 % and 90 % quantiles of a negative binomial with the given mean and variance."""
    safe_mean = np.maximum(mean, 1e-9)
    excess = np.maximum(var - safe_mean, 1e-9)
    n = safe_mean**2 / excess
    p = n / (n + safe_mean)
    q = (1 - LEVEL) / 2
    low = np.where(mean > 0, stats.nbinom.ppf(q, n, p), 0)
    high = np.where(mean > 0, stats.nbinom.ppf(1 - q, n, p), 0)
    return low, high


def backtest(history: Arrivals, horizon: int = 14, test_days: int = 91) -> dict[str, Any]:
    """Rolling-origin test on the last ``test_days``: every ``horizon`` days, fit on what came
    before and forecast the next ``horizon`` days; MAPE per service-day for the model and the
    seasonal naive forecast, and how often the 80 % interval held the actual day."""
    last = history.days[-1]
    origin = last - timedelta(days=test_days - 1)
    ape_model: dict[str, list[float]] = {s: [] for s in history.services}
    ape_naive: dict[str, list[float]] = {s: [] for s in history.services}
    covered: dict[str, list[bool]] = {s: [] for s in history.services}
    origins = 0
    while origin <= last:
        days = min(horizon, (last - origin).days + 1)
        f = forecast(history, days, origin)
        i0 = (origin - history.first_day).days
        actual = history.total[i0 : i0 + days].sum(axis=2)
        naive = seasonal_naive(f.arrivals, [d.day for d in f.days]).sum(axis=2)
        for i, d in enumerate(f.days):
            if not d.open:
                continue
            for k, code in enumerate(history.services):
                a = actual[i, k]
                if a <= 0:
                    continue
                ape_model[code].append(abs(f.day_expected[i, k] - a) / a)
                ape_naive[code].append(abs(naive[i, k] - a) / a)
                covered[code].append(bool(f.day_low[i, k] <= a <= f.day_high[i, k]))
        origin += timedelta(days=horizon)
        origins += 1

    def pct(values: list[float]) -> float:
        return round(100 * float(np.mean(values)), 2) if values else float("nan")

    by_service = {
        code: {
            "mape_model": pct(ape_model[code]),
            "mape_naive": pct(ape_naive[code]),
            "coverage_80": pct([float(c) for c in covered[code]]),
            "service_days": len(ape_model[code]),
        }
        for code in history.services
    }
    every_model = [v for vs in ape_model.values() for v in vs]
    every_naive = [v for vs in ape_naive.values() for v in vs]
    every_cover = [float(v) for vs in covered.values() for v in vs]
    return {
        "origins": origins,
        "horizon_days": horizon,
        "test_days": test_days,
        "by_service": by_service,
        "overall": {
            "mape_model": pct(every_model),
            "mape_naive": pct(every_naive),
            "coverage_80": pct(every_cover),
            "service_days": len(every_model),
        },
    }
