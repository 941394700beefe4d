"""A demo hall's past months as an event log, with the calendar effects a planner must learn.

Like a weather archive made for a flight simulator: nobody lived those days, but they follow
the rules the real ones do. The demo hall ZMD (``queue_engine.seed``) opens 08:30–17:30 on the
working days of the Chinese calendar; each service has its share of the day's citizens, a
half-hour profile that depends on the weekday (Monday mornings are busiest, Friday afternoons
quiet), a surge on the first working days after a long holiday and on the first working days
of a month (social insurance, provident fund and tax most of all), a quiet adjusted working
weekend and last day before a holiday, and a day-to-day swing nobody can foresee. Each citizen
then waits, is called to a window with that skill, and is served (or does not come) as in the
SPEC's event log. Everything is drawn with numpy in whole arrays, so a year takes seconds.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from queue_engine.domain.events import EVENT_COLUMNS
from queue_engine.seed import DEMO_SERVICES, DEMO_WINDOWS

from .demo import DEMO_MIX, HANDLING_FACTOR
from .workdays import DayClass, days_between

OPEN = time(8, 30)
SLOTS = 18  # half hours from 08:30 to 17:30
SLOT_MINUTES = 30
PER_DAY = 2000.0
# the half-hour profile of an ordinary day: a morning peak, a dip over lunch, an afternoon hump
BASE_PROFILE = np.array(
    [0.035, 0.060, 0.075, 0.080, 0.078, 0.072, 0.058, 0.042, 0.036,
     0.040, 0.052, 0.062, 0.066, 0.064, 0.058, 0.050, 0.040, 0.032]
)  # fmt: skip
WEEKDAY_LEVEL = (1.18, 1.05, 1.0, 0.97, 0.88, 0.8, 0.8)  # Monday … Sunday (adjusted weekends)
# weekday tilt of the day towards the morning (+) or the afternoon (−)
WEEKDAY_TILT = (0.25, 0.08, 0.0, -0.05, -0.3, 0.0, 0.0)
AFTER_HOLIDAY = {1: 1.55, 2: 1.25}
BEFORE_HOLIDAY = 0.82
ADJUSTED = 0.85
MONTH_START = {1: 1.3, 2: 1.2, 3: 1.1}
MONTH_START_SERVICES = ("SOCIAL", "MEDICAL", "HPF", "TAX")  # the rest get half the surge
DAY_SWING_CV = 0.07  # day-level gamma noise shared by all services
SERVICE_SWING_CV = 0.08
APPOINTMENT_SHARE = {"ENT": 0.25, "REALTY": 0.25, "HPF": 0.2, "TAX": 0.1}
NO_SHOW = 0.03
# the CSV columns between hall and priority, then the payload, in EVENT_COLUMNS order
FIELDS = ("ts", "type", "ticket", "number", "service", "window", "clerk", "channel", "payload")


@dataclass(frozen=True)
class History:
    """Arrivals of a generated history: counts per day, service and half hour, and tickets."""

    days: list[DayClass]
    services: list[str]
    expected: np.ndarray  # (days, services, slots): the true means
    counts: np.ndarray  # (days, services, slots): what came


def day_multiplier(day: DayClass, service: str) -> float:
    """The calendar's effect on one service's day, relative to an ordinary Wednesday."""
    if not day.open:
        return 0.0
    m = WEEKDAY_LEVEL[day.day.weekday()]
    if day.adjusted:
        m = ADJUSTED
    m *= AFTER_HOLIDAY.get(day.after_holiday, 1.0)
    if day.before_holiday:
        m *= BEFORE_HOLIDAY
    surge = MONTH_START.get(day.month_workday, 1.0)
    m *= surge if service in MONTH_START_SERVICES else 1 + (surge - 1) / 2
    return m


def day_profile(day: DayClass) -> np.ndarray:
    """The day's half-hour shares, tilted to the morning or afternoon by the weekday."""
    tilt = 0.0 if day.adjusted else WEEKDAY_TILT[day.day.weekday()]
    slope = np.linspace(1 + tilt / 2, 1 - tilt / 2, SLOTS)
    shares = BASE_PROFILE * slope
    return np.asarray(shares / shares.sum())


def expected_counts(days: list[DayClass], per_day: float = PER_DAY) -> np.ndarray:
    codes = [s.code for s in DEMO_SERVICES]
    total = sum(DEMO_MIX.values())
    out = np.zeros((len(days), len(codes), SLOTS))
    for i, day in enumerate(days):
        if not day.open:
            continue
        profile = day_profile(day)
        for k, code in enumerate(codes):
            out[i, k] = per_day * DEMO_MIX[code] / total * day_multiplier(day, code) * profile
    return out


def generate(first: date, last: date, seed: int = 0, per_day: float = PER_DAY) -> History:
    """Counts of citizens per day, service and half hour from ``first`` to ``last``."""
    rng = np.random.default_rng(seed)
    days = days_between(first, last)
    expected = expected_counts(days, per_day)
    shape = (len(days), len(DEMO_SERVICES))
    swing = rng.gamma(1 / DAY_SWING_CV**2, DAY_SWING_CV**2, size=(len(days), 1))
    own = rng.gamma(1 / SERVICE_SWING_CV**2, SERVICE_SWING_CV**2, size=shape)
    counts = rng.poisson(expected * (swing * own)[:, :, None])
    return History(days, [s.code for s in DEMO_SERVICES], expected, counts)


def _windows_by_service() -> dict[str, list[int]]:
    homes: dict[str, list[int]] = {}
    for w in DEMO_WINDOWS:
        for code in w.primary:
            homes.setdefault(code, []).append(w.number)
    return homes


def write_events(history: History, out: IO[str], seed: int = 0, hall: str = "ZMD") -> int:
    """Write the history as the SPEC's event log (CSV); returns the number of rows.

    Every citizen is issued a ticket in their half hour, waits a few minutes (longer when the
    half hour is busy), is called to a window with the service as a primary skill, and is
    served for a lognormal time around 60 % of the service's standard (or does not come).
    """
    rng = np.random.default_rng(seed + 1)
    zone = ZoneInfo("Asia/Shanghai")
    c = history.counts
    d_idx, s_idx, t_idx = np.nonzero(c)
    reps = c[d_idx, s_idx, t_idx]
    day = np.repeat(d_idx, reps)
    svc = np.repeat(s_idx, reps)
    slot = np.repeat(t_idx, reps)
    n = day.size
    issued = slot * SLOT_MINUTES + rng.random(n) * SLOT_MINUTES  # minutes after opening
    order = np.lexsort((issued, svc, day))  # numbers follow the order of issue
    day, svc, slot, issued = day[order], svc[order], slot[order], issued[order]
    busy = (c.sum(axis=1) / c.sum(axis=1).mean(axis=1, keepdims=True).clip(1))[day, slot]
    wait = rng.exponential(2.5 * busy.clip(0.3, 3))
    called = issued + wait
    codes = history.services
    std = np.array([s.standard_minutes * HANDLING_FACTOR for s in DEMO_SERVICES])[svc]
    sigma = np.sqrt(np.log(1 + 0.7**2))
    handling = std * np.exp(rng.normal(-(sigma**2) / 2, sigma, n))
    no_show = rng.random(n) < NO_SHOW
    finished = called + np.where(no_show, 1.0, 0.3 + handling)
    homes = _windows_by_service()
    window = np.zeros(n, dtype=int)
    for k, code in enumerate(codes):
        mine = svc == k
        window[mine] = rng.choice(homes[code], size=int(mine.sum()))
    appointment = rng.random(n) < np.array([APPOINTMENT_SHARE.get(c, 0.0) for c in codes])[svc]
    # ticket numbers restart each day per service (prefix letter of the service)
    starts = np.r_[0, np.flatnonzero((np.diff(day) != 0) | (np.diff(svc) != 0)) + 1]
    seq = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    prefixes = np.array([s.prefix for s in DEMO_SERVICES])[svc]
    epoch = date(1970, 1, 1)
    opening = OPEN.hour * 60 + OPEN.minute
    wall = np.array([(d.day - epoch).days * 1440 + opening for d in history.days], float)
    base = wall[day]  # local wall-clock minutes since 1970 of each ticket's opening time
    offset = datetime.combine(history.days[0].day, OPEN, zone).strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"
    steps = [
        (issued, np.ones(n, bool)),
        (called, np.ones(n, bool)),
        (called + 0.3, ~no_show),
        (finished, ~no_show),
        (finished, no_show),
    ]
    who = np.concatenate([np.flatnonzero(keep) for _, keep in steps])
    step = np.concatenate([np.full(int(keep.sum()), k) for k, (_, keep) in enumerate(steps)])
    when = np.concatenate([base[keep] + minutes[keep] for minutes, keep in steps])
    order = np.lexsort((step, when))
    who, step, when = who[order], step[order], when[order]
    total = who.size
    staffed = step > 0
    win_index = pa.array(np.where(staffed, window[who] - 1, 0), mask=~staffed)
    numbers = _join(pa.array(prefixes), pc.utf8_lpad(_text(seq + 1), width=3, padding="0"))
    slot_start = _stamp(base + slot * SLOT_MINUTES, offset)
    payload = pc.if_else(
        pa.array(appointment),
        _join(_join('{"slot_start": "', slot_start), '"}'),
        pa.scalar("{}"),
    )
    who_arrow = pa.array(who)
    labels = [str(w.number) for w in DEMO_WINDOWS]
    columns = {
        "event_id": _join("hist-e", _text(np.arange(total))),
        "hall": pa.array(np.zeros(total, np.int8)),
        "ts": _stamp(when, offset),
        "type": pa.array(step),
        "ticket_id": _join("hist-", _text(who)),
        "ticket_number": pc.take(numbers, who_arrow),
        "service": pa.array(svc[who]),
        "window": win_index,
        "clerk": win_index,
        "channel": pa.array(appointment[who].astype(np.int8)),
        "priority": pa.array(np.zeros(total, np.int8)),
        "payload": pc.if_else(pa.array(step == 0), pc.take(payload, who_arrow), pa.scalar("{}")),
    }
    words = {
        "hall": [hall],
        "type": ["ticket.issued", "ticket.called", "ticket.started", "ticket.finished",
                 "ticket.no_show"],
        "service": codes,
        "window": labels,
        "clerk": [f"clerk{w.number:02d}" for w in DEMO_WINDOWS],
        "channel": ["kiosk", "appointment"],
        "priority": ["none"],
    }  # fmt: skip
    for name, dictionary in words.items():
        indices = columns[name]
        columns[name] = pc.fill_null(pc.take(pa.array(dictionary), indices), pa.scalar(""))
    extra = _windows(history, hall, zone)
    table = pa.table(columns)
    if extra:
        table = pa.concat_tables(
            [table, pa.table({c: [r[i] for r in extra] for i, c in enumerate(EVENT_COLUMNS)})]
        )
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="needed"))
    out.write(sink.getvalue().decode("utf-8"))
    return int(table.num_rows)


def _stamp(wall_minutes: np.ndarray, offset: str) -> Any:
    """ISO 8601 local times with the hall's offset, from wall-clock minutes since 1970."""
    seconds = pa.array(np.round(wall_minutes * 60).astype("datetime64[s]"))
    return _join(pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S"), offset)


def _text(values: np.ndarray) -> Any:
    return pc.cast(pa.array(values), pa.string())


def _join(left: Any, right: Any) -> Any:
    """Element-wise concatenation of text arrays or scalars (Arrow: fast on millions)."""
    return pc.binary_join_element_wise(left, right, "")


def _windows(history: History, hall: str, zone: ZoneInfo) -> list[list[str]]:
    """The windows' opening and closing events (after the tickets: the readers sort by time)."""
    rows = []
    for d in history.days:
        if not d.open:
            continue
        start = datetime.combine(d.day, OPEN, zone)
        end = start + timedelta(minutes=SLOTS * SLOT_MINUTES)
        for w in DEMO_WINDOWS:
            for kind, at in (("window.opened", start), ("window.closed", end)):
                rows.append(
                    [
                        f"hist-w{d.day:%Y%m%d}-{w.number}-{kind[7]}",
                        hall,
                        at.isoformat(),
                        kind,
                        "",
                        "",
                        "",
                        str(w.number),
                        f"clerk{w.number:02d}",
                        "",
                        "",
                        "{}",
                    ]
                )
    return rows
