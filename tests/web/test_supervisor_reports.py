"""Daily and monthly reports: pages, CSV, XLSX and PNG downloads, the flag drill-down."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, Hall

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: the reports read through read_events_db, tested on both databases."""
    target = tmp_path / "hall.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def supervisor(client: FlaskClient) -> FlaskClient:
    with client.session_transaction() as session:
        session["username"] = "supervisor"
    return client


def serve(
    hall: Hall, clock: FrozenClock, count: int, window: int = 10, minutes: int = 4, score: int = 2
) -> None:
    clerk = f"clerk{window}"
    hall.open(window, clerk)
    for _ in range(count):
        ticket = hall.issue("SOCIAL")
        clock.advance(minutes=2)
        assert hall.window_post(window, "call-next", clerk).status_code == 200
        hall.ticket_post(ticket["id"], "start", clerk)
        clock.advance(minutes=minutes)
        hall.ticket_post(ticket["id"], "finish", clerk)
    citizen = hall.client.application.test_client()  # the supervisor's session never rates
    citizen.post(
        f"{API}/tickets/{ticket['id']}/evaluation",
        json={"score": score, "comment": "慢", "key": ticket["rating_key"]},
    )
    hall.window_post(window, "close", clerk)


def test_reports_need_a_supervisor(client: FlaskClient) -> None:
    response = client.get("/supervisor/ZMD/reports/daily")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_daily_report_page_and_downloads(
    supervisor: FlaskClient, hall: Hall, clock: FrozenClock
) -> None:
    serve(hall, clock, 3)
    page = supervisor.get("/supervisor/ZMD/reports/daily?date=2026-11-26")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "日报 · 2026-11-26" in html and "社会保障" in html
    rows = list(csv.DictReader(io.StringIO(
        supervisor.get("/supervisor/ZMD/reports/daily.csv?date=2026-11-26&table=windows")
        .get_data().decode("utf-8-sig")
    )))  # fmt: skip
    assert rows[0]["window"] == "10" and rows[0]["served"] == "3"
    assert float(rows[0]["wait_mean"]) == pytest.approx(2.0)
    assert float(rows[0]["handling_mean"]) == pytest.approx(4.0)
    xlsx = supervisor.get("/supervisor/ZMD/reports/daily.xlsx?date=2026-11-26")
    assert xlsx.headers["Content-Disposition"].endswith('ZMD-daily-2026-11-26.xlsx"')
    book = load_workbook(io.BytesIO(xlsx.get_data()))
    assert book.sheetnames == ["windows", "services", "hours"]
    assert book["services"]["A2"].value == "SOCIAL"
    for chart in ("hourly", "service-level", "windows"):
        png = supervisor.get(f"/supervisor/ZMD/reports/daily.png?date=2026-11-26&chart={chart}")
        assert png.status_code == 200 and png.get_data()[:8] == b"\x89PNG\r\n\x1a\n"
    assert supervisor.get("/supervisor/ZMD/reports/daily.pdf").status_code == 404
    assert supervisor.get("/supervisor/ZMD/reports/daily.png?chart=pie").status_code == 404
    # one date rule for the API and the pages: a date that cannot be read is a 422
    assert supervisor.get("/supervisor/ZMD/reports/daily?date=26/11").status_code == 422


def test_monthly_report_ranks_windows_and_drills_down(
    supervisor: FlaskClient, hall: Hall, clock: FrozenClock, client: FlaskClient, auth: Auth
) -> None:
    serve(hall, clock, 3)
    serve(hall, clock, 2, window=11, minutes=9, score=5)
    put = client.put(
        f"{API}/halls/ZMD/flag-settings",
        json={"min_visits": 1, "red": 1, "black": 1, "weights": {"satisfaction": 0}},
        headers=auth("admin"),
    )
    assert put.status_code == 200, put.get_data(as_text=True)
    assert (
        client.put(
            f"{API}/halls/ZMD/flag-settings", json={"red": 1}, headers=auth("supervisor")
        ).status_code
        == 403
    )
    bad = client.put(
        f"{API}/halls/ZMD/flag-settings", json={"weights": {"satisfaction": 0, "waiting": 0,
        "handling": 0, "no_show": 0, "alerts": 0, "attendance": 0}}, headers=auth("admin"),
    )  # fmt: skip
    assert bad.status_code == 422
    page = supervisor.get("/supervisor/ZMD/reports/monthly?month=2026-11")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "窗口红黑旗排名" in html and "红旗" in html
    flags = list(csv.DictReader(io.StringIO(
        supervisor.get("/supervisor/ZMD/reports/monthly.csv?month=2026-11&table=flags")
        .get_data().decode("utf-8-sig")
    )))  # fmt: skip
    by_window = {row["window"]: row for row in flags}
    assert by_window["10"]["flag"] == "red" and by_window["11"]["flag"] == "black"
    assert float(by_window["10"]["satisfaction"]) == 2.0  # shown, though weighted 0 here
    assert float(by_window["11"]["handling"]) > 1 > float(by_window["10"]["handling"])
    drill = supervisor.get("/supervisor/ZMD/reports/monthly/window/10?month=2026-11")
    text = drill.get_data(as_text=True)
    assert drill.status_code == 200 and "F001" in text and "F003" in text and "慢" in text
    assert (
        supervisor.get("/supervisor/ZMD/reports/monthly/window/99?month=2026-11").status_code == 404
    )
    png = supervisor.get("/supervisor/ZMD/reports/monthly.png?month=2026-11&chart=flags")
    assert png.get_data()[:4] == b"\x89PNG"
    book = load_workbook(
        io.BytesIO(supervisor.get("/supervisor/ZMD/reports/monthly.xlsx").get_data())
    )
    assert book.sheetnames == ["flags", "days", "windows", "services", "one_visit", "returns"]
