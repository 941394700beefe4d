"""最多跑一次 on the supervisor's screens (issue 18): the dashboard's figures, the monthly report
and its download, and the flag formula's optional component."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, Hall, assert_error
from tests.web.test_api_visits import synthetic_id

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "hall.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


def visit(hall: Hall, clock: FrozenClock, id_number: str, outcome: str) -> dict[str, Any]:
    """One identified citizen's SOCIAL visit at window 10, finished with ``outcome``."""
    taken = hall.client.post(
        f"{API}/halls/ZMD/tickets",
        json={"services": ["SOCIAL"], "channel": "kiosk", "id_number": id_number},
        headers=hall.auth("kiosk"),
    )
    assert taken.status_code == 201, taken.text
    ticket = taken.get_json()
    clock.advance(minutes=2)
    assert hall.window_post(10, "call-next", "clerk10").status_code == 200
    hall.act(ticket["id"], "start", "clerk10")
    clock.advance(minutes=4)
    hall.act(ticket["id"], "finish", "clerk10", json={"outcome": outcome})
    return ticket  # type: ignore[no-any-return]


def month_of_visits(hall: Hall, clock: FrozenClock) -> None:
    """Citizen A comes back once (补正材料, then 办结); B and C are done in one visit."""
    a, b, c = (synthetic_id(date(1980 + i, 5, 1)) for i in range(3))
    hall.open(10, "clerk10")
    visit(hall, clock, a, "needs_documents")
    visit(hall, clock, b, "completed")
    visit(hall, clock, c, "accepted")
    clock.advance(minutes=30)
    visit(hall, clock, a, "completed")


def test_the_dashboards_one_visit_figures(
    client: FlaskClient, hall: Hall, clock: FrozenClock, auth: Auth
) -> None:
    month_of_visits(hall, clock)
    url = f"{API}/halls/ZMD/one-visit"
    body = client.get(url, headers=auth("supervisor")).get_json()
    assert (body["matters"], body["visits"], body["returns"]) == (3, 4, 1)
    assert body["share_one_visit"] == pytest.approx(2 / 3, abs=1e-4)
    assert body["visits_per_matter"] == pytest.approx(4 / 3, abs=1e-4)
    assert body["by_service"]["SOCIAL"]["matters"] == 3
    assert body["first"] < body["last"]
    assert_error(client.get(f"{url}?days=0", headers=auth("supervisor")), 422)
    assert_error(client.get(url, headers=auth("clerk10")), 403)
    dashboard = client.application.test_client()
    with dashboard.session_transaction() as session:
        session["username"] = "supervisor"
    page = dashboard.get("/supervisor/ZMD").text
    assert 'data-one-visit="share_one_visit"' in page and "/one-visit?days=30" in page


def test_the_monthly_report_shows_and_downloads_one_visit(
    client: FlaskClient, hall: Hall, clock: FrozenClock
) -> None:
    month_of_visits(hall, clock)
    with client.session_transaction() as session:
        session["username"] = "supervisor"
    month = clock.now().strftime("%Y-%m")
    page = client.get(f"/supervisor/ZMD/reports/monthly?month={month}").text
    assert 'id="one-visit-month"' in page and "66.7%" in page
    assert 'data-field="returns">1<' in page
    download = client.get(
        f"/supervisor/ZMD/reports/monthly.csv?month={month}&table=one_visit"
    ).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(download.lstrip("\ufeff"))))
    assert rows[0]["service"] == "*" and rows[0]["matters"] == "3"
    assert {r["service"] for r in rows} == {"*", "SOCIAL"}


def test_the_hall_may_weigh_one_visit_in_its_flags(client: FlaskClient, auth: Auth) -> None:
    url = f"{API}/halls/ZMD/flag-settings"
    assert client.get(url, headers=auth("supervisor")).get_json()["weights"]["one_visit"] == 0.0
    changed = client.put(url, json={"weights": {"one_visit": 0.2}}, headers=auth("admin"))
    assert changed.status_code == 200, changed.text
    assert changed.get_json()["weights"]["one_visit"] == 0.2
    assert_error(client.put(url, json={"weights": {"one_visit": -1}}, headers=auth("admin")), 422)
