"""Staffing plans: exact on steady cases, and plans that really meet the targets on a day."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from simulations.kpis import summarize
from simulations.model import simulate
from simulations.scenario import load_scenario, parse_scenario
from simulations.staffing import Pool, planned_scenario, pools_of, staff, theory_plan
from simulations.theory import ErlangC, min_servers
from tests.helpers.scenarios import EXAMPLE


def steady(per_hour: float, mean: float, targets: dict[str, Any]) -> Any:
    return parse_scenario(
        {
            "horizon_minutes": 12000,
            "warmup_minutes": 300,
            "services": [
                {
                    "code": "A",
                    "arrivals_per_hour": per_hour,
                    "service_time": {"dist": "exponential", "mean_minutes": mean},
                }
            ],
            "windows": [{"count": 1, "services": ["A"]}],
            "targets": targets,
        }
    )


@pytest.mark.parametrize(
    ("per_hour", "mean", "targets"),
    [
        (60, 4.0, {"mean_wait_minutes": 1.0, "within_minutes": 2, "share": 0.8}),
        (90, 5.0, {"mean_wait_minutes": None, "within_minutes": 5, "share": 0.9}),
        (20, 6.0, {"mean_wait_minutes": 3.0, "within_minutes": 10, "share": None}),
    ],
)
def test_steady_state_plan_is_the_exact_erlang_c_answer(
    per_hour: float, mean: float, targets: dict[str, Any]
) -> None:
    sc = steady(per_hour, mean, targets)
    lam, mu = per_hour / 60, 1 / mean
    exact = min_servers(
        lam, mu, targets["mean_wait_minutes"], targets["within_minutes"], targets["share"]
    )
    # the cases are chosen where one window more or less makes a clear difference
    below, at = ErlangC(lam, mu, exact - 1), ErlangC(lam, mu, exact)
    assert not below.stable or below.mean_wait > 1.3 * at.mean_wait
    plan = staff(sc, seed=3, replications=6, workers=1, compare=False)
    assert [row["windows"] for row in plan["intervals"]] == [exact]
    assert plan["window_hours"] == pytest.approx(exact * 200)


def test_dedicated_theory_is_erlang_c_per_service() -> None:
    sc = load_scenario(EXAMPLE)
    pools = pools_of(sc, "dedicated")
    assert pools == [Pool(("A",)), Pool(("B",))]
    counts = theory_plan(sc, pools, [(0.0, 60.0)])
    lam_b = 12 / 60
    assert counts[1, 0] == min_servers(lam_b, 1 / 9, 5.0, 10.0, 0.9)


def test_the_plan_meets_the_targets_on_fresh_days_and_pooling_needs_fewer_windows() -> None:
    sc = load_scenario(EXAMPLE)
    plan = staff(sc, seed=1, replications=6, workers=2)
    assert len(plan["intervals"]) == 8
    assert {"start", "end", "windows", "mean_wait_minutes", "share_within_target"} <= set(
        plan["intervals"][0]
    )
    for row in plan["intervals"]:
        assert row["mean_wait_minutes"] <= 5.0 and row["share_within_target"] >= 0.9
    assert plan["window_hours"] == sum(r["windows"] for r in plan["intervals"])
    compared = plan["comparison"]
    assert compared["comprehensive"]["window_hours"] <= compared["dedicated"]["window_hours"]
    # the plan, simulated again with other seeds, still meets the day's targets
    pools = pools_of(sc, "scenario")
    counts = np.array([p["windows"] for p in plan["pools"]])
    check = planned_scenario(sc, pools, counts, 60)
    days = [summarize(simulate(check, s))["overall"] for s in range(100, 106)]
    assert np.mean([d["mean_wait_minutes"] for d in days]) <= 5.0
    assert np.mean([d["share_within_target"] for d in days]) >= 0.9
