"""Roster solve time: the demo hall's 22 windows, 30 clerks, a 7-day week (issue 21).

    .venv/bin/python bench/roster.py [--time-limit 45] [--seed 3]

The solver's limit (45 s) leaves room for building the model inside the 60 s goal.

A year of demo history (``simulations.history``) is forecast for the week from Monday
2026-12-07; the requirement is the staffing search on it (Erlang C, repaired by simulation with
the live dispatch policy); the clerks are ``simulations/scenarios/staff.yaml`` (30 clerks with
skills, contracted hours, weekends off). Printed: the requirement's time, the roster's wall time
(goal ≤ 60 s on 2 cores: CP-SAT stops at the time limit with the best roster and its gap),
status and gap, and the roster's clerk-hours against the requirement's window-hours measured in
the same run (the lower bound no roster can beat; ratio 1.00 would be perfect).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/ (its http.py shadows the standard library's)

from simulations.forecast import Arrivals, forecast
from simulations.history import OPEN, generate
from simulations.planning import hall_template
from simulations.requirement import requirement
from simulations.roster import load_staff, solve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=45)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    history = generate(date(2025, 12, 1), date(2026, 12, 6), seed=args.seed)
    arrivals = Arrivals(
        history.days[0].day,
        history.services,
        OPEN.hour * 60 + OPEN.minute,
        30,
        history.counts.astype(float),
        np.zeros(history.counts.shape),
    )
    fc = forecast(arrivals, 7, date(2026, 12, 7))
    t0 = time.perf_counter()
    req = requirement(fc, hall_template(fc.services), "simulate", 4)
    t1 = time.perf_counter()
    staff = load_staff(ROOT / "simulations" / "scenarios" / "staff.yaml")
    staff = staff.model_copy(update={"time_limit_seconds": args.time_limit})
    t2 = time.perf_counter()
    roster = solve(req, staff)
    t3 = time.perf_counter()
    window_hours = float(req.counts.sum()) * req.minutes / 60
    o = roster.objective
    open_days = sum(d.open for d in req.days)
    print(
        f"hall: {len(roster.windows)} windows, {len(staff.clerks)} clerks, 7 days "
        f"({open_days} open), {len(req.labels)} half hours a day"
    )
    print(f"requirement (staffing search, simulation repair): {t1 - t0:.1f} s")
    print(
        f"roster: {t3 - t2:.1f} s wall (limit {args.time_limit:.0f} s), status {roster.status}, "
        f"gap {100 * o.get('gap', float('nan')):.1f} %"
    )
    print(
        f"clerk-hours {o.get('clerk_hours', 0):.1f} vs window-hours required {window_hours:.1f}: "
        f"ratio {o.get('clerk_hours', 0) / window_hours:.3f}; window changes "
        f"{o.get('window_changes', 0)}"
    )
    print(f"goal (≤ 60 s): {'met' if t3 - t2 <= 60 and not roster.reasons else 'NOT met'}")


if __name__ == "__main__":
    main()
