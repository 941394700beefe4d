"""The simulation's own KPIs (from its arrays) are the hall's KPIs of its event log.

``simulations.kpis.summarize`` never writes the log; ``analytics`` measures the live hall from
the log. Here both measure the same runs, field by field, so the shortcut cannot drift from the
definitions of SPEC §4.
"""

from __future__ import annotations

from typing import Any

import pytest

from analytics.kpis import Ledger, kpis, records
from simulations.demo import demo_scenario
from simulations.eventlog import event_frame
from simulations.kpis import summarize
from simulations.model import SimResult, simulate
from simulations.scenario import Scenario, load_scenario, parse_scenario
from tests.helpers.scenarios import EXAMPLE

FIELDS = {
    "arrived": "tickets",
    "served": "served",
    "mean_wait_minutes": "wait_mean",
    "p90_wait_minutes": "wait_p90",
    "abandon_share": "cancellation_rate",
    "no_show_share": "no_show_rate",
    "mean_handling_minutes": "handling_mean",
    "utilization": "utilization",
    "throughput_per_hour": "throughput_per_hour",
    "ewt_abs_error_minutes": "ewt_abs_error_mean",
}


def from_log(result: SimResult) -> dict[str, Any]:
    """The same summary, computed by ``analytics`` from the written event log."""
    within = result.scenario.targets.within_minutes
    ledger = Ledger.from_events(event_frame(result))

    def table(by: Any) -> list[dict[str, Any]]:
        return records(kpis(ledger, by, targets=(within,)))

    def figures(row: dict[str, Any]) -> dict[str, Any]:
        out = {ours: row[theirs] for ours, theirs in FIELDS.items()}
        out["mean_wait_minutes"] = out["mean_wait_minutes"] or 0.0
        out["p90_wait_minutes"] = out["p90_wait_minutes"] or 0.0
        out["share_within_target"] = row[f"service_level_{within:g}"]
        return out

    return {
        "overall": figures(table(())[0]),
        "by_service": {str(r["service"]): figures(r) for r in table("service")},
        "by_hour": {int(r["hour"]): figures(r) for r in table("hour")},
        "by_window": {str(r["window"]): figures(r) for r in table("window")},
    }


def same(ours: dict[str, Any], theirs: dict[str, Any], where: str) -> None:
    for key, value in theirs.items():
        mine = ours[key]
        if value is None or mine is None:
            assert mine == value, (where, key, mine, value)
        else:
            assert mine == pytest.approx(value, abs=2e-4), (where, key, mine, value)


def steady_state() -> Scenario:
    return parse_scenario(
        {
            "horizon_minutes": 3000,
            "warmup_minutes": 200,
            "services": [
                {
                    "code": "A",
                    "arrivals_per_hour": 70,
                    "service_time": {"dist": "exponential", "mean_minutes": 5},
                    "priority_share": 0.1,
                    "patience": {"dist": "exponential", "mean_minutes": 15},
                }
            ],
            "windows": [{"count": 6, "services": ["A"]}],
            "no_show_rate": 0.05,
        }
    )


def half_hours() -> Scenario:
    sc = load_scenario(EXAMPLE).model_dump(mode="json")
    sc["windows"].append(
        {"id": 9, "services": ["B"], "open": [True, False] * 4 + [False, True] * 4}
    )
    return parse_scenario(sc)


def multi_service() -> Scenario:
    """The weekday with a fifth of A's citizens also coming for B (issue 18)."""
    sc = load_scenario(EXAMPLE).model_dump(mode="json")
    sc["multi_service"] = {"share_two": 0.2, "share_three": 0.0, "chains": {"A": ["B"]}}
    return parse_scenario(sc)


@pytest.mark.parametrize(
    ("scenario", "estimates"),
    [
        (lambda: load_scenario(EXAMPLE), True),
        (lambda: load_scenario(EXAMPLE), False),
        (lambda: demo_scenario(days=2, per_day=1200), True),
        (steady_state, True),
        (half_hours, False),
        (multi_service, True),
    ],
    ids=[
        "weekday",
        "weekday-no-estimates",
        "demo-2-days",
        "steady-state",
        "half-hours",
        "multi-service",
    ],
)
def test_in_memory_kpis_equal_the_analytics_of_the_event_log(
    scenario: Any, estimates: bool
) -> None:
    result = simulate(scenario(), 11, record_estimates=estimates)
    ours, theirs = summarize(result), from_log(result)
    same(ours["overall"], theirs["overall"], "overall")
    assert ours["overall"]["arrived"] > 100
    assert (ours["overall"]["ewt_abs_error_minutes"] is not None) == estimates
    for code, row in ours["by_service"].items():
        if row["arrived"]:
            same(row, theirs["by_service"][code], f"service {code}")
    assert {c for c, r in ours["by_service"].items() if r["arrived"]} == set(theirs["by_service"])
    first = int(result.scenario.open_minute // 60)
    for n, row in enumerate(ours["by_hour"]):
        if first + n in theirs["by_hour"]:
            same(row, theirs["by_hour"][first + n], f"hour {first + n}")
        else:
            assert row["arrived"] == row["served"] == 0
    assert set(ours["by_window"]) == set(theirs["by_window"])
    for window, row in ours["by_window"].items():
        same(row, theirs["by_window"][window], f"window {window}")
