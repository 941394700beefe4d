"""The scenario validator: good scenarios load, bad ones say exactly what is wrong."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulations.scenario import ScenarioError, load_scenario, loads_scenario, parse_scenario
from tests.helpers.scenarios import EXAMPLE

BASE: dict[str, Any] = {
    "open": "09:00",
    "close": "12:00",
    "services": [
        {
            "code": "A",
            "arrivals_per_hour": 10,
            "service_time": {"dist": "exponential", "mean_minutes": 5},
        }
    ],
    "windows": [{"count": 2, "services": ["A"]}],
}


def scenario(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def test_example_scenario_loads() -> None:
    s = load_scenario(EXAMPLE)
    assert s.hours == 8
    assert [s.rates(x)[0] for x in s.services] == [30, 12]
    assert s.services[1].service_time.dist == "lognormal"


def test_json_and_yaml_give_the_same_scenario() -> None:
    import json

    import yaml

    assert loads_scenario(json.dumps(BASE)) == loads_scenario(yaml.safe_dump(BASE))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"windows": [{"count": 1, "services": ["A", "Z"]}]}, "unknown services ['Z']"),
        ({"close": "08:00"}, "close 08:00 is not after open 09:00"),
        ({"open": "9h"}, "'9h' is not a clock time"),
        ({"no_show_rate": 1.5}, "no_show_rate"),
        ({"windows": [{"count": 1, "id": 3, "services": ["A"]}]}, "either count or id"),
        ({"windows": [{"count": 0, "services": ["A"]}]}, "no windows"),
        (
            {"windows": [{"count": 1, "services": ["A"], "open": [True]}]},
            "open list has 1 entries, the hall has 3 hours",
        ),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_bad_scenarios_are_explained(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_scenario(scenario(**changes))


def test_unreadable_text_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError, match="not valid YAML or JSON"):
        loads_scenario("{not json")
    with pytest.raises(ScenarioError, match="mapping"):
        loads_scenario("- just\n- a list\n")


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_rates_are_accepted_exactly_when_not_negative(rate: float) -> None:
    service = dict(BASE["services"][0], arrivals_per_hour=rate)
    if rate < 0:
        with pytest.raises(ScenarioError, match=r"services\.0\.arrivals_per_hour"):
            parse_scenario(scenario(services=[service]))
    else:
        assert (
            parse_scenario(scenario(services=[service])).rates(
                parse_scenario(scenario(services=[service])).services[0]
            )
            == [rate] * 3
        )


@settings(max_examples=60, deadline=None)
@given(
    open_=st.integers(min_value=0, max_value=23 * 60),
    close=st.integers(min_value=0, max_value=24 * 60),
    length=st.integers(min_value=1, max_value=30),
)
def test_rate_lists_must_match_the_opening_hours(open_: int, close: int, length: int) -> None:
    clock = lambda m: f"{m // 60:02d}:{m % 60:02d}"  # noqa: E731
    service = dict(BASE["services"][0], arrivals_per_hour=[5.0] * length)
    data = scenario(open=clock(open_), close=clock(close), services=[service])
    hours = -(-(close - open_) // 60)
    if close <= open_:
        with pytest.raises(ScenarioError, match="is not after open"):
            parse_scenario(data)
    elif length != hours:
        with pytest.raises(ScenarioError, match=f"{length} hourly rates given.*open {hours} hours"):
            parse_scenario(data)
    else:
        assert parse_scenario(data).hours == hours


@settings(max_examples=40, deadline=None)
@given(
    skills=st.lists(st.sampled_from(["A", "B", "C", "X"]), min_size=1, max_size=4),
    mean=st.floats(min_value=-10, max_value=100, allow_nan=False),
)
def test_windows_may_only_serve_known_services(skills: list[str], mean: float) -> None:
    services = [
        {
            "code": c,
            "arrivals_per_hour": 1,
            "service_time": {"dist": "exponential", "mean_minutes": mean},
        }
        for c in ("A", "B", "C")
    ]
    data = scenario(services=services, windows=[{"count": 1, "services": skills}])
    if mean <= 0:
        with pytest.raises(ScenarioError, match="mean_minutes"):
            parse_scenario(data)
    elif "X" in skills:
        with pytest.raises(ScenarioError, match=r"unknown services \['X'\]"):
            parse_scenario(data)
    else:
        assert parse_scenario(data).windows[0].services == skills
