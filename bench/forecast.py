"""Forecast accuracy on a generated year with known calendar effects, vs seasonal naive.

    .venv/bin/python bench/forecast.py [--seed 3] [--horizon 14] [--test-days 91]

A year of the demo hall (``simulations.history``: weekday × time-of-day profile, holidays and
adjusted working days of the Chinese calendar, surges after long holidays and on the first
working days of a month, day-to-day swings) is generated; the last ``--test-days`` are
forecast from rolling origins every ``--horizon`` days, each fitted only on the days before it.
Printed per service and overall: the mean absolute percentage error per service-day of the
negative binomial GLM and of the seasonal naive forecast (same weekday, last observed week),
their ratio (goal: the model's MAPE at least 20 % below naive's, ratio ≤ 0.8), and the share of
service-days inside the model's 80 % interval (goal 70–90 %). Also the generation time of the
year's event log (goal: seconds) and the fit time per forecast.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # not bench/ (its http.py)

from simulations.forecast import Arrivals, backtest, forecast
from simulations.history import OPEN, generate, write_events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--horizon", type=int, default=14)
    parser.add_argument("--test-days", type=int, default=91)
    args = parser.parse_args()
    t0 = time.perf_counter()
    history = generate(date(2025, 12, 1), date(2026, 11, 30), seed=args.seed)
    t1 = time.perf_counter()
    rows = write_events(history, io.StringIO(), args.seed)
    t2 = time.perf_counter()
    arrivals = Arrivals(
        history.days[0].day,
        history.services,
        OPEN.hour * 60 + OPEN.minute,
        30,
        history.counts.astype(float),
        np.zeros(history.counts.shape),
    )
    t3 = time.perf_counter()
    forecast(arrivals, args.horizon)
    t4 = time.perf_counter()
    result = backtest(arrivals, args.horizon, args.test_days)
    print(
        f"history: {int(history.counts.sum()):,} citizens on "
        f"{sum(d.open for d in history.days)} working days; counts {t1 - t0:.2f} s, "
        f"event log of {rows:,} rows {t2 - t1:.2f} s"
    )
    print(f"one {args.horizon}-day forecast of 13 services: {t4 - t3:.2f} s")
    print(
        f"backtest: {result['origins']} origins × {args.horizon} days, last {args.test_days} days"
    )
    print(f"{'service':<10} {'MAPE model':>10} {'MAPE naive':>10} {'ratio':>6} {'cover80':>8}")
    rows_out = [*result["by_service"].items(), ("overall", result["overall"])]
    for code, r in rows_out:
        ratio = r["mape_model"] / r["mape_naive"]
        print(
            f"{code:<10} {r['mape_model']:>9.1f}% {r['mape_naive']:>9.1f}% {ratio:>6.2f} "
            f"{r['coverage_80']:>7.1f}%"
        )
    o = result["overall"]
    ok = o["mape_model"] <= 0.8 * o["mape_naive"] and 70 <= o["coverage_80"] <= 90
    print(f"goal (ratio ≤ 0.80, coverage 70–90 %): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
