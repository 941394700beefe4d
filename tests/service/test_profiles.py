"""Arrival profiles, handling-time fits and service rates: the simulation's calibration inputs."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from analytics.load import read_events_csv
from analytics.profiles import arrival_profile, fit_handling_times, service_rates
from hall_app.cli import main
from tests.helpers.eventlogs import Log, at, worked_example


def _weeks(tmp_path: Path) -> Path:
    """Two Thursdays (26 Nov, 3 Dec) and one Friday: A at 09:xx 3 then 1 tickets; B once."""
    log = Log()
    n = 0
    for day, month, count in ((26, 11, 3), (3, 12, 1)):
        for k in range(count):
            n += 1
            log.ticket(f"a{n}", f"A{n:03d}", "A", at(day, f"09:{10 * k:02d}", month))
    log.ticket("b1", "B001", "B", at(26, "14:30"), channel="appointment", priority="elderly")
    log.ticket("f1", "A001", "A", at(27, "09:00"))
    return log.write(tmp_path / "weeks.csv")


def test_arrival_profile_averages_over_the_weekdays_the_hall_worked(tmp_path: Path) -> None:
    profile = arrival_profile(read_events_csv(_weeks(tmp_path)))
    rows = {(r.weekday, r.hour, r.service): r for r in profile.itertuples()}
    thursday_a = rows[(3, 9, "A")]
    assert (thursday_a.tickets, thursday_a.days) == (4, 2)
    assert thursday_a.arrivals_per_hour == pytest.approx(2.0)  # (3 + 1) / 2 Thursdays
    assert rows[(3, 14, "B")].arrivals_per_hour == pytest.approx(0.5)  # one B in two Thursdays
    assert rows[(4, 9, "A")].arrivals_per_hour == pytest.approx(1.0)
    assert len(profile) == 3


def test_lognormal_fit_recovers_mean_and_cv(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    mean, cv = 6.0, 0.5
    sigma = np.sqrt(np.log(1 + cv**2))
    minutes = rng.lognormal(np.log(mean) - sigma**2 / 2, sigma, 400)
    log = Log()
    start = at(26, "08:00")
    for i, m in enumerate(minutes):
        t0 = start + timedelta(minutes=30 * i)
        t = log.ticket(f"t{i}", f"A{i:03d}", "A", t0)
        t.call(t0, "1", "c1").start(t0).finish(t0 + timedelta(minutes=float(m)))
    fit = fit_handling_times(read_events_csv(log.write(tmp_path / "h.csv")), max_samples=50)
    a = fit["A"]
    assert a["dist"] == "lognormal" and a["n"] == 400
    assert a["mean_minutes"] == pytest.approx(mean, rel=0.08)
    assert a["cv"] == pytest.approx(cv, rel=0.12)
    assert len(a["samples"]) == 50


def test_fit_leaves_out_services_without_enough_times(tmp_path: Path) -> None:
    fit = fit_handling_times(read_events_csv(worked_example().write(tmp_path / "e.csv")))
    assert set(fit) == {"A"}  # A: 6, 8, 5 minutes; B: only T3's 10 minutes
    assert fit["A"]["samples"] == [6.0, 8.0, 5.0]


def test_service_rates(tmp_path: Path) -> None:
    rates = service_rates(read_events_csv(worked_example().write(tmp_path / "e.csv")))
    assert rates.loc["A", "appointment_share"] == pytest.approx(1 / 4)
    assert rates.loc["A", "priority_share"] == pytest.approx(1 / 4)
    assert rates.loc["B", "no_show_rate"] == pytest.approx(1.0)  # of called B tickets: T5
    assert rates.loc["B", "cancellation_rate"] == pytest.approx(0.5)


def test_hall_profiles_prints_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["profiles", str(_weeks(tmp_path))])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"weekday": 3, "hour": 9, "service": "A"}.items() <= data["arrivals"][0].items()
    assert data["services"]["B"]["appointment_share"] == 1.0
