"""Estimated waiting time: handling statistics, window shares and the Gamma approximation."""

from __future__ import annotations

import heapq
import itertools
import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_engine.domain.estimate import (
    MIN_SAMPLES,
    HandlingStats,
    OpenWindow,
    estimate_wait,
    gamma_quantiles,
    handling_stats,
    service_share,
)
from queue_engine.domain.model import WaitEstimate

SERVICES = ("A", "B", "C")


def busy(*skills: str, secondary: tuple[str, ...] = ()) -> OpenWindow:
    return OpenWindow({**{s: True for s in skills}, **{s: False for s in secondary}}, idle=False)


def idle(*skills: str, secondary: tuple[str, ...] = ()) -> OpenWindow:
    return OpenWindow({**{s: True for s in skills}, **{s: False for s in secondary}}, idle=True)


# --- handling_stats -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "samples",
    [[], [5.0], [5.0, 6.0, 7.0, 8.0], [5.0, 6.0, 7.0, 8.0, 0.0], [5.0, 6.0, 7.0, 8.0, -3.0]],
)
def test_handling_stats_needs_five_positive_samples(samples: list[float]) -> None:
    assert handling_stats(samples) is None


def test_handling_stats_mean_and_cv() -> None:
    stats = handling_stats([2.0, 4.0, 6.0, 8.0, 10.0])
    assert stats is not None
    assert stats.mean_minutes == pytest.approx(6.0)
    assert stats.cv == pytest.approx(math.sqrt(8.0) / 6.0)  # population standard deviation


def test_handling_stats_ignores_non_positive_samples() -> None:
    stats = handling_stats([0.0, -1.0, 2.0, 4.0, 6.0, 8.0, 10.0])
    assert stats == handling_stats([2.0, 4.0, 6.0, 8.0, 10.0])


def test_handling_stats_cv_clamped() -> None:
    constant = handling_stats([5.0] * MIN_SAMPLES)
    assert constant == HandlingStats(5.0, 0.2)
    skewed = handling_stats([1.0] * 99 + [10_000.0])
    assert skewed is not None
    assert skewed.mean_minutes == pytest.approx(100.99)
    assert skewed.cv == 3.0


@given(st.lists(st.floats(min_value=0.01, max_value=10_000.0), max_size=40))
def test_handling_stats_property(samples: list[float]) -> None:
    stats = handling_stats(samples)
    if len(samples) < MIN_SAMPLES:
        assert stats is None
        return
    assert stats is not None
    assert min(samples) * (1 - 1e-9) <= stats.mean_minutes <= max(samples) * (1 + 1e-9)
    assert 0.2 <= stats.cv <= 3.0


# --- service_share --------------------------------------------------------------------------


def test_service_share_single_skill_is_whole_window() -> None:
    assert service_share("A", busy("A"), {"A": 7}) == 1.0
    assert service_share("A", busy("A"), {}) == 1.0


def test_service_share_zero_without_the_skill() -> None:
    assert service_share("A", busy("B", "C"), {"A": 10, "B": 1}) == 0.0
    assert service_share("A", OpenWindow({}, idle=True), {"A": 3}) == 0.0


def test_service_share_primary_weight_one_secondary_half() -> None:
    # A primary: load 1 + 1 (the ticket) = 2, weight 2; B secondary: load 4, weight 2
    assert service_share("A", busy("A", secondary=("B",)), {"A": 1, "B": 4}) == 0.5
    assert service_share("B", busy("A", secondary=("B",)), {"A": 1, "B": 3}) == pytest.approx(
        (4 * 0.5) / (4 * 0.5 + 1 * 1.0)
    )
    # equal loads: a primary skill counts double against a secondary one
    window = busy("A", secondary=("B",))
    assert service_share("A", window, {"A": 2, "B": 3}) == pytest.approx(3 / (3 + 1.5))
    assert service_share("B", window, {"A": 3, "B": 2}) == pytest.approx(1.5 / (3 + 1.5))


def test_service_share_nothing_else_waiting() -> None:
    window = busy("A", "B", secondary=("C",))
    assert service_share("C", window, {}) == 1.0
    assert service_share("A", window, {"B": 1}) == 0.5


_windows = st.lists(
    st.builds(
        OpenWindow,
        skills=st.dictionaries(st.sampled_from(SERVICES), st.booleans()),
        idle=st.booleans(),
    ),
    max_size=10,
)
_waiting = st.dictionaries(st.sampled_from(SERVICES), st.integers(0, 50))


@given(st.sampled_from(SERVICES), _windows, _waiting)
def test_service_shares_of_a_window_sum_to_at_most_one(
    service: str, windows: list[OpenWindow], waiting: dict[str, int]
) -> None:
    for window in windows:
        share = service_share(service, window, waiting)
        assert 0.0 <= share <= 1.0
        assert (share > 0) == (service in window.skills)


# --- estimate_wait --------------------------------------------------------------------------

STATS = HandlingStats(5.0, 1.0)


def test_idle_window_takes_the_ticket_at_once() -> None:
    assert estimate_wait("A", 0, [idle("A")], {"A": 0}, STATS) == WaitEstimate(0.0, 0.0)
    assert estimate_wait("A", 1, [idle("A"), idle("A")], {"A": 1}, STATS) == WaitEstimate(0, 0)


def test_idle_window_of_another_service_does_not_help() -> None:
    est = estimate_wait("A", 0, [idle("B"), busy("A")], {}, STATS)
    assert est.median_minutes > 0
    assert est == estimate_wait("A", 0, [busy("A")], {}, STATS)


def test_one_ahead_of_an_idle_window_waits() -> None:
    est = estimate_wait("A", 1, [idle("A")], {"A": 1}, STATS)
    assert 0 < est.median_minutes <= est.p90_minutes


def test_shared_idle_window_only_partly_helps() -> None:
    # half of the idle window goes to A: half a completion still needed, from half a window
    est = estimate_wait("A", 0, [idle("A", secondary=("B",))], {"B": 2}, STATS)
    assert est == gamma_quantiles(0.5, 0.5, STATS)
    assert est.p90_minutes > 0


def test_fallback_servers_when_no_open_window_serves_the_service() -> None:
    waiting = {"A": 4, "B": 2}
    two = estimate_wait("A", 4, [], waiting, STATS, fallback_servers=2)
    assert two == gamma_quantiles(5, 2.0, STATS)
    assert two == estimate_wait("A", 4, [busy("B"), idle("C")], waiting, STATS, fallback_servers=2)
    # the fallback behaves like that many busy windows serving only the service
    assert two == estimate_wait("A", 4, [busy("A"), busy("A")], waiting, STATS)
    one = estimate_wait("A", 4, [], waiting, STATS)
    assert one == gamma_quantiles(5, 1.0, STATS)
    assert one.median_minutes > two.median_minutes
    # fewer than one fallback server counts as one
    assert estimate_wait("A", 4, [], waiting, STATS, fallback_servers=0) == one
    # an idle fallback is not assumed: even the first in line waits
    assert estimate_wait("A", 0, [idle("B")], {}, STATS).median_minutes > 0


def test_fallback_ignored_when_a_window_serves_the_service() -> None:
    with_window = estimate_wait("A", 4, [busy("A")], {"A": 4}, STATS, fallback_servers=5)
    assert with_window == estimate_wait("A", 4, [busy("A")], {"A": 4}, STATS)


def test_more_open_windows_shorten_the_wait() -> None:
    estimates = [
        estimate_wait("A", 10, [busy("A")] * c, {"A": 10}, STATS) for c in (1, 2, 3, 5, 10)
    ]
    for fewer, more in itertools.pairwise(estimates):
        assert more.median_minutes < fewer.median_minutes
        assert more.p90_minutes < fewer.p90_minutes


@given(
    service=st.sampled_from(SERVICES),
    ahead=st.integers(0, 200),
    windows=_windows,
    waiting=_waiting,
    mean=st.floats(1.0, 30.0),
    cv=st.floats(0.2, 3.0),
    fallback=st.integers(0, 5),
)
def test_median_never_exceeds_p90(
    service: str,
    ahead: int,
    windows: list[OpenWindow],
    waiting: dict[str, int],
    mean: float,
    cv: float,
    fallback: int,
) -> None:
    est = estimate_wait(service, ahead, windows, waiting, HandlingStats(mean, cv), fallback)
    assert math.isfinite(est.median_minutes)
    assert math.isfinite(est.p90_minutes)
    assert 0.0 <= est.median_minutes <= est.p90_minutes


@given(
    service=st.sampled_from(SERVICES),
    ahead=st.integers(0, 200),
    more=st.integers(1, 50),
    windows=_windows,
    waiting=_waiting,
    mean=st.floats(1.0, 30.0),
    cv=st.floats(0.2, 3.0),
)
def test_monotone_in_ahead(
    service: str,
    ahead: int,
    more: int,
    windows: list[OpenWindow],
    waiting: dict[str, int],
    mean: float,
    cv: float,
) -> None:
    stats = HandlingStats(mean, cv)
    front = estimate_wait(service, ahead, windows, waiting, stats)
    back = estimate_wait(service, ahead + more, windows, waiting, stats)
    assert back.median_minutes >= front.median_minutes
    assert back.p90_minutes >= front.p90_minutes


@given(
    ahead=st.integers(0, 200),
    count=st.integers(1, 9),
    extra=st.integers(1, 5),
    mean=st.floats(1.0, 30.0),
    cv=st.floats(0.2, 1.5),
)
def test_more_busy_windows_never_lengthen_the_wait(
    ahead: int, count: int, extra: int, mean: float, cv: float
) -> None:
    stats = HandlingStats(mean, cv)
    waiting = {"A": ahead}
    fewer = estimate_wait("A", ahead, [busy("A")] * count, waiting, stats)
    more = estimate_wait("A", ahead, [busy("A")] * (count + extra), waiting, stats)
    assert more.median_minutes <= fewer.median_minutes
    assert more.p90_minutes <= fewer.p90_minutes


# --- the approximation against theory -------------------------------------------------------


def gamma_quantile_by_integration(shape: float, scale: float, p: float) -> float:
    """Quantile of Gamma(shape >= 1, scale): Simpson's rule on its density, step by step."""
    assert shape >= 1
    log_norm = -math.lgamma(shape) - shape * math.log(scale)

    def pdf(x: float) -> float:
        if x <= 0:
            return math.exp(log_norm) if shape == 1 else 0.0
        return math.exp(log_norm + (shape - 1) * math.log(x) - x / scale)

    upper = shape * scale + 12 * math.sqrt(shape) * scale
    steps = 20_000
    h = upper / steps
    cdf = 0.0
    previous = pdf(0.0)
    for i in range(1, steps + 1):
        current = pdf(i * h)
        step = (previous + 4 * pdf((i - 0.5) * h) + current) * h / 6
        if cdf + step >= p:  # linear interpolation inside the (tiny) step
            return (i - 1) * h + h * (p - cdf) / step
        cdf += step
        previous = current
    raise AssertionError("quantile beyond the integration range")


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.9)]


def simulate_exponential_windows(
    completions: int, servers: int, mean: float, runs: int, seed: int = 20260214
) -> list[float]:
    """Monte Carlo: time until ``completions`` departures from ``servers`` busy windows.

    Every window is busy at time 0 with exponential handling times (so the rest of the
    current handling is again exponential) and takes the next person as soon as it is free.
    """
    uniform, log = random.Random(seed).random, math.log  # inverse-CDF exponential draws
    out = []
    for _ in range(runs):
        clocks = [-mean * log(1.0 - uniform()) for _ in range(servers)]
        heapq.heapify(clocks)
        for _ in range(completions - 1):  # the earliest window finishes, takes the next
            heapq.heapreplace(clocks, clocks[0] - mean * log(1.0 - uniform()))
        out.append(clocks[0])
    return out


def test_erlang_reference_by_integration() -> None:
    """Self-check of the reference: Erlang(1) is exponential, Erlang(2) has a closed form."""
    assert gamma_quantile_by_integration(1, 2.0, 0.5) == pytest.approx(2 * math.log(2), rel=1e-4)
    assert gamma_quantile_by_integration(1, 2.0, 0.9) == pytest.approx(2 * math.log(10), rel=1e-4)
    # P(Erlang(2, 1) <= x) = 1 - (1 + x) e^-x = 0.5 at x = 1.6783469900166608
    assert gamma_quantile_by_integration(2, 1.0, 0.5) == pytest.approx(1.67834699, rel=1e-4)


def test_wilson_hilferty_matches_exact_gamma_for_exponential_windows() -> None:
    """Two busy windows with exponential handling (cv=1, mean 5) and ten completions needed:
    the exact time is Gamma(10, 5/2), median ≈ 24.17 and p90 ≈ 35.51 minutes."""
    n, c, mean = 10, 2, 5.0
    est = estimate_wait("A", n - 1, [busy("A")] * c, {"A": n - 1}, HandlingStats(mean, 1.0))

    exact_median = gamma_quantile_by_integration(n, mean / c, 0.5)
    exact_p90 = gamma_quantile_by_integration(n, mean / c, 0.9)
    assert exact_median == pytest.approx(24.17, abs=0.01)
    assert exact_p90 == pytest.approx(35.51, abs=0.01)
    assert est.median_minutes == pytest.approx(exact_median, rel=0.01)
    assert est.p90_minutes == pytest.approx(exact_p90, rel=0.01)

    sim_median, sim_p90 = quantiles(simulate_exponential_windows(n, c, mean, runs=200_000))
    assert sim_median == pytest.approx(exact_median, rel=0.01)
    assert sim_p90 == pytest.approx(exact_p90, rel=0.01)
    assert est.median_minutes == pytest.approx(sim_median, rel=0.03)
    assert est.p90_minutes == pytest.approx(sim_p90, rel=0.03)


def test_wilson_hilferty_matches_exact_gamma_for_one_regular_window() -> None:
    """One window whose handling times are Gamma(4) (cv = 0.5): ten handlings take exactly
    Gamma(40, mean/4), the very law the estimate models."""
    n, mean = 10, 5.0
    est = estimate_wait("A", n - 1, [busy("A")], {"A": n - 1}, HandlingStats(mean, 0.5))
    assert est.median_minutes == pytest.approx(
        gamma_quantile_by_integration(4 * n, mean / 4, 0.5), rel=0.01
    )
    assert est.p90_minutes == pytest.approx(
        gamma_quantile_by_integration(4 * n, mean / 4, 0.9), rel=0.01
    )


@pytest.mark.parametrize(("n", "c"), [(1, 1), (3, 1), (5, 2), (20, 3), (50, 4)])
def test_wilson_hilferty_close_to_exact_erlang(n: int, c: int) -> None:
    mean = 6.0
    est = gamma_quantiles(n, float(c), HandlingStats(mean, 1.0))
    median = gamma_quantile_by_integration(n, mean / c, 0.5)
    p90 = gamma_quantile_by_integration(n, mean / c, 0.9)
    assert est.median_minutes == pytest.approx(median, rel=0.03, abs=0.1)
    assert est.p90_minutes == pytest.approx(p90, rel=0.03, abs=0.1)
