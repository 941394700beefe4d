"""The planner's calendar, the demo history and the arrival forecast (issue 21)."""

from __future__ import annotations

import io
from datetime import date, datetime

import numpy as np
import pytest

from analytics.load import read_events_csv
from simulations.forecast import Arrivals, arrivals_from_events, backtest, forecast
from simulations.history import OPEN, SLOTS, generate, write_events
from simulations.workdays import classify


def test_the_calendar_knows_golden_week_and_its_adjusted_saturday() -> None:
    assert not classify(date(2026, 10, 5)).open
    after = classify(date(2026, 10, 8))
    assert after.open and after.after_holiday == 1 and after.month_workday == 1
    assert classify(date(2026, 10, 9)).after_holiday == 2
    assert classify(date(2026, 10, 10)).adjusted  # a Saturday worked (调休补班)
    assert classify(date(2026, 9, 30)).before_holiday


@pytest.fixture(scope="module")
def half_year() -> Arrivals:
    h = generate(date(2026, 3, 2), date(2026, 10, 31), seed=5)
    return Arrivals(
        h.days[0].day,
        h.services,
        OPEN.hour * 60 + OPEN.minute,
        30,
        h.counts.astype(float),
        np.zeros(h.counts.shape),
    )


def test_the_demo_history_reads_back_as_the_counts_it_was_drawn_from() -> None:
    h = generate(date(2026, 11, 2), date(2026, 11, 8), seed=1)
    buffer = io.StringIO()
    rows = write_events(h, buffer, seed=1)
    buffer.seek(0)
    events = read_events_csv(buffer)
    assert len(events) == rows
    arrivals = arrivals_from_events(events, 30)
    assert arrivals.services == sorted(h.services)
    order = [h.services.index(s) for s in arrivals.services]
    counted = arrivals.total.sum(axis=2)
    assert arrivals.total.shape[2] == SLOTS
    np.testing.assert_array_equal(counted[:5], h.counts[:5][:, order].sum(axis=2))
    assert not h.counts[5:].any()  # the weekend is closed
    issued = events.loc[events["type"] == "ticket.issued"]
    assert set(issued["channel"].astype(str)) == {"kiosk", "appointment"}


def test_the_forecast_learns_the_holiday_and_month_start_surges(half_year: Arrivals) -> None:
    f = forecast(half_year, 14)
    effects = f.effects["SOCIAL"]
    assert effects["first_day_after_long_holiday"] > 0.25
    assert effects["first_working_day_of_month"] > 0.15
    assert effects["adjusted_working_day"] < 0
    weekend = [i for i, d in enumerate(f.days) if not d.open]
    assert weekend and not f.expected[weekend].any()
    opened = [i for i, d in enumerate(f.days) if d.open]
    assert (f.day_low[opened] <= f.day_expected[opened]).all()
    assert (f.day_expected[opened] <= f.day_high[opened]).all()


def test_booked_appointments_are_known_arrivals() -> None:
    h = generate(date(2026, 3, 2), date(2026, 10, 31), seed=5)
    appointments = np.zeros(h.counts.shape)
    appointments[:, 0] = np.round(h.counts[:, 0] * 0.3)
    walk = h.counts - appointments
    a = Arrivals(h.days[0].day, h.services, 510, 30, walk, appointments)
    plain = forecast(a, 3, date(2026, 11, 2))
    none_booked = forecast(a, 3, date(2026, 11, 2), [], show_rate=0.5)
    booked = [(datetime(2026, 11, 2, 10, 0), h.services[0])] * 40
    known = forecast(a, 3, date(2026, 11, 2), booked, show_rate=0.5)
    j = (10 * 60 - 510) // 30
    assert known.booked[0, 0, j] == 20
    assert known.expected[0, 0, j] == pytest.approx(none_booked.expected[0, 0, j] + 20)
    # the booking book is complete: where nobody booked, no appointment tickets are expected
    assert known.expected[0, 0, j + 1] == pytest.approx(none_booked.expected[0, 0, j + 1])
    assert none_booked.expected[0, 0, j + 1] < plain.expected[0, 0, j + 1]


def test_the_model_beats_seasonal_naive_in_a_backtest(half_year: Arrivals) -> None:
    result = backtest(half_year, 14, 28)
    overall = result["overall"]
    assert overall["mape_model"] < 0.8 * overall["mape_naive"]
    assert 55 <= overall["coverage_80"] <= 98
    assert set(result["by_service"]) == set(half_year.services)
