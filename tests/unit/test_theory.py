"""Erlang B/C/A and staffing against published values and independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import poisson

from simulations.theory import (
    ErlangA,
    ErlangC,
    erlang_b,
    erlang_c,
    min_servers,
    square_root_staffing,
)


@pytest.mark.parametrize(
    ("c", "load", "expected"),
    [(10, 5.0, 0.018385), (5, 3.0, 0.110054), (20, 15.0, 0.045593), (1, 1.0, 0.5)],
)
def test_erlang_b_matches_published_tables(c: int, load: float, expected: float) -> None:
    assert erlang_b(c, load) == pytest.approx(expected, abs=5e-6)


@pytest.mark.parametrize(
    ("c", "load", "expected"),
    # M/M/1: ρ; Erlang C tables: (3, 2) = 4/9, (11, 10) = 0.6821
    [(1, 0.7, 0.7), (3, 2.0, 4 / 9), (11, 10.0, 0.682118), (2, 1.0, 1 / 3)],
)
def test_erlang_c_matches_published_values(c: int, load: float, expected: float) -> None:
    assert erlang_c(c, load) == pytest.approx(expected, abs=1e-6)


def test_erlang_c_is_stable_for_thousands_of_servers() -> None:
    p = erlang_c(5000, 4900.0)
    assert 0.0 < p < 1.0 and math.isfinite(p)
    assert erlang_c(5000, 5000.0) == 1.0


def test_mm1_mean_wait_is_rho_over_mu_minus_lambda() -> None:
    q = ErlangC(lam=0.8, mu=1.0, c=1)
    assert q.mean_wait == pytest.approx(0.8 / 0.2)
    assert q.share_within(2.0) == pytest.approx(1 - 0.8 * math.exp(-0.2 * 2))


def _ctmc_erlang_a(
    lam: float, mu: float, c: int, theta: float, cap: int = 400
) -> tuple[float, float]:
    """P(wait) and Lq of M/M/c+M by solving the truncated birth–death chain directly."""
    n = np.arange(cap + 1)
    death = np.minimum(n, c) * mu + np.maximum(n - c, 0) * theta
    log_p = np.concatenate([[0.0], np.cumsum(np.log(lam) - np.log(death[1:]))])
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    return float(p[c:].sum()), float((np.maximum(n - c, 0) * p).sum())


@pytest.mark.parametrize(
    ("lam", "mu", "c", "theta"), [(1.0, 0.5, 3, 0.2), (10.0, 0.2, 45, 0.05), (4.0, 1.0, 3, 2.0)]
)
def test_erlang_a_matches_the_birth_death_chain(
    lam: float, mu: float, c: int, theta: float
) -> None:
    model = ErlangA(lam, mu, c, theta)
    prob_wait, queue = _ctmc_erlang_a(lam, mu, c, theta)
    assert model.prob_wait == pytest.approx(prob_wait, rel=1e-9)
    assert model.mean_queue == pytest.approx(queue, rel=1e-9)
    assert model.abandon_share == pytest.approx(theta * queue / lam, rel=1e-9)


def test_erlang_a_with_patience_equal_to_service_is_poisson() -> None:
    # θ = μ: the number present is that of M/M/∞, Poisson with mean a (a published identity)
    assert ErlangA(1.0, 0.5, 3, 0.5).prob_wait == pytest.approx(poisson.sf(2, 2.0), rel=1e-9)


def test_erlang_a_tends_to_erlang_c_without_abandonment() -> None:
    assert ErlangA(1.0, 0.5, 3, 1e-9).mean_wait == pytest.approx(
        ErlangC(1.0, 0.5, 3).mean_wait, rel=1e-6
    )


def test_erlang_a_is_finite_when_overloaded() -> None:
    model = ErlangA(2.0, 0.5, 3, 0.1)  # 4 Erlangs on 3 servers: only patience keeps it finite
    assert 0 < model.abandon_share < 1 and math.isfinite(model.mean_wait)


def test_square_root_staffing() -> None:
    assert square_root_staffing(100.0, beta=1.0) == 110
    assert square_root_staffing(0.3) == 1


@pytest.mark.parametrize(
    ("lam", "mu", "mean_wait", "within", "share"),
    [
        (1.0, 0.2, 5.0, 0.0, None),
        (0.5, 0.1, None, 10.0, 0.9),
        (100.0, 0.2, 1.0, 5.0, 0.95),
        (0.05, 0.2, 5.0, 10.0, 0.9),
    ],
)
def test_min_servers_is_the_first_count_that_meets_the_targets(
    lam: float, mu: float, mean_wait: float | None, within: float, share: float | None
) -> None:
    c = min_servers(lam, mu, mean_wait, within, share)

    def ok(k: int) -> bool:
        q = ErlangC(lam, mu, k)
        return (
            q.stable
            and (mean_wait is None or q.mean_wait <= mean_wait)
            and (share is None or q.share_within(within) >= share)
        )

    assert ok(c)
    assert c == 1 or not ok(c - 1)
    assert next(k for k in range(1, 1000) if ok(k)) == c
