"""The planner API: supervisors run scenarios and staffing plans; bad scenarios are 422."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

SMALL = """
name: small
open: "09:00"
close: "11:00"
services:
  - {code: A, arrivals_per_hour: [30, 40], service_time: {dist: exponential, mean_minutes: 5}}
windows:
  - {count: 3, services: [A]}
targets: {mean_wait_minutes: 5, within_minutes: 10, share: 0.8}
"""

Auth = Callable[[str], dict[str, str]]

# the planner reads no hall data: one database is enough
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def test_a_supervisor_simulates_a_scenario(client: FlaskClient, auth: Auth) -> None:
    response = client.post(
        "/api/v1/planner/simulate",
        json={"scenario": SMALL, "replications": 3, "seed": 4},
        headers=auth("supervisor"),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["replications"] == 3 and body["scenario"] == "small"
    overall = body["overall"]
    assert overall["served"] > 40
    lo, hi = overall["mean_wait_minutes"]["ci95"]
    assert lo <= overall["mean_wait_minutes"]["mean"] <= hi
    assert [h["start"] for h in body["by_hour"]] == ["09:00", "10:00"]
    assert set(body["by_window"]) == {"1", "2", "3"}


def test_a_supervisor_gets_a_staffing_plan(client: FlaskClient, auth: Auth) -> None:
    response = client.post(
        "/api/v1/planner/staff",
        json={"scenario": SMALL, "replications": 3, "compare": False},
        headers=auth("admin"),
    )
    assert response.status_code == 200, response.get_json()
    plan = response.get_json()
    assert [row["start"] for row in plan["intervals"]] == ["09:00", "10:00"]
    assert all(row["windows"] >= 3 for row in plan["intervals"])  # 2.5–3.3 Erlangs
    assert plan["window_hours"] == sum(row["windows"] for row in plan["intervals"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SMALL.replace("services: [A]", "services: [A, Z]"), "unknown services ['Z']"),
        (SMALL.replace('"11:00"', '"08:00"'), "close 08:00 is not after open 09:00"),
        ("days: 400\n" + SMALL, "days"),
        ("{not json", "not valid YAML or JSON"),
        # 10 replications × 2 h × 10^6 an hour: a request must not become hours of work
        (SMALL.replace("[30, 40]", "1000000"), "at most 2,000,000"),
        (SMALL.replace("count: 3", "count: 100000"), "at most 500 windows"),
    ],
)
def test_a_bad_scenario_is_a_clear_422(
    client: FlaskClient, auth: Auth, text: str, message: str
) -> None:
    response = client.post(
        "/api/v1/planner/simulate", json={"scenario": text}, headers=auth("supervisor")
    )
    assert response.status_code == 422
    body = response.get_json()
    assert set(body) >= {"error", "message"}
    assert message in str(body["message"])


def test_only_planners_may_run_scenarios(client: FlaskClient, auth: Auth) -> None:
    url = "/api/v1/planner/simulate"
    assert client.post(url, json={"scenario": SMALL}).status_code == 401
    assert client.post(url, json={"scenario": SMALL}, headers=auth("clerk10")).status_code == 403
    assert client.get("/api/v1/planner/example", headers=auth("kiosk")).status_code == 403
    example = client.get("/api/v1/planner/example", headers=auth("supervisor"))
    assert "services:" in example.get_json()["scenario"]


def test_the_planner_api_is_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/planner/simulate", "/api/v1/planner/staff"} <= set(paths)
    assert "requestBody" in paths["/api/v1/planner/staff"]["post"]
