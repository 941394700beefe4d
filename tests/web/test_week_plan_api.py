"""The planner's "next week" API (issue 21): forecast, plan and its XLSX export."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from simulations.roster import WEEKDAY_ZH
from simulations.workdays import classify

Auth = Callable[[str], dict[str, str]]

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

TODAY = date(2026, 11, 26)  # the frozen clock of tests/conftest.py
MONDAY = TODAY + timedelta(days=7 - TODAY.weekday())

SMALL_STAFF = """
time_limit_seconds: 8
clerks:
""" + "".join(
    f"  - {{name: 员工{n}, services: [{skills}]}}\n"
    for n, skills in enumerate(
        ["ENT, TAX, PERMIT", "ENT, TAX", "PERMIT, ENT", "REALTY, DEEDTAX"] * 2
        + ["REALTY, DEEDTAX, TAX", "TAX, DEEDTAX"] * 2
        + ["SOCIAL, MEDICAL, HPF, RESIDENCE, TALENT, TAX, DEEDTAX"] * 6
        + ["HPF, SOCIAL", "ELDER, SOCIAL, MEDICAL, HPF, RESIDENCE"] * 2
        + ["TALENT, POLICY, COMPLAINT"] * 3
    )
)


def test_a_fresh_hall_is_forecast_from_the_demo_history(client: FlaskClient, auth: Auth) -> None:
    response = client.post(
        "/api/v1/planner/forecast",
        json={"days": 7, "start": MONDAY.isoformat()},
        headers=auth("supervisor"),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["source"] == "demo"
    days = body["forecast"]["days"]
    assert [d["date"] for d in days][:2] == [str(MONDAY), str(MONDAY + timedelta(days=1))]
    assert [d["open"] for d in days] == [classify(MONDAY + timedelta(k)).open for k in range(7)]
    opened = next(d for d in days if d["open"])
    assert opened["intervals"][0]["start"] == "08:30"
    first = opened["intervals"][0]
    assert first["low"] <= first["expected"] <= first["high"]


def test_a_start_in_the_past_or_far_ahead_is_422(client: FlaskClient, auth: Auth) -> None:
    for start in (TODAY - timedelta(days=1), TODAY + timedelta(days=100)):
        response = client.post(
            "/api/v1/planner/forecast", json={"start": str(start)}, headers=auth("supervisor")
        )
        assert response.status_code == 422


def test_only_planners_plan(client: FlaskClient, auth: Auth) -> None:
    assert client.post("/api/v1/planner/forecast", json={}).status_code == 401
    denied = client.post("/api/v1/planner/plan", json={}, headers=auth("clerk10"))
    assert denied.status_code == 403


def test_a_bad_staff_file_is_422(client: FlaskClient, auth: Auth) -> None:
    response = client.post(
        "/api/v1/planner/plan",
        json={"days": 1, "start": str(MONDAY), "staff": "clerks: [{name: x}]"},
        headers=auth("supervisor"),
    )
    assert response.status_code == 422
    assert "services" in response.get_json()["message"]


def test_the_plan_and_its_xlsx_agree(client: FlaskClient, auth: Auth) -> None:
    day_one = next(MONDAY + timedelta(k) for k in range(14) if classify(MONDAY + timedelta(k)).open)
    body = {"days": 1, "start": str(day_one), "staff": SMALL_STAFF, "repair": "check"}
    response = client.post("/api/v1/planner/plan", json=body, headers=auth("supervisor"))
    assert response.status_code == 200, response.get_json()
    plan = response.get_json()
    roster = plan["roster"]
    assert roster["status"] in ("OPTIMAL", "FEASIBLE"), roster["reasons"]
    day = roster["days"][0]
    assert all(r >= n for r, n in zip(day["rostered"], day["required"], strict=True))
    assert plan["requirement"]["days"][0]["check"]["simulated_plans"] == 1
    sheet = client.post("/api/v1/planner/roster.xlsx", json=body, headers=auth("supervisor"))
    assert sheet.status_code == 200
    assert sheet.headers["Content-Disposition"].endswith(f'roster-{day_one:%Y%m%d}.xlsx"')
    book = load_workbook(io.BytesIO(sheet.data))
    assert book.sheetnames == [f"{day_one} {WEEKDAY_ZH[day_one.weekday()]}"]
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert list(rows[0][1:]) == roster["intervals"]
    for row, window in zip(rows[1:], roster["windows"], strict=False):
        assert [v or None for v in row[1:]] == day["grid"][str(window)]
