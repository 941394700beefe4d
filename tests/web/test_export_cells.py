"""The reports' downloads escape cells a spreadsheet would run, through the app's routes."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.access import Role
from queue_engine.domain.clock import FrozenClock
from queue_engine.services.admin import AdminDesk, NewUser
from tests.helpers.api import Hall

CLERK = "-clerk"  # a valid username that a spreadsheet would read as a formula


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: the reports read through read_events_db, tested on both databases."""
    target = tmp_path / "hall.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


def test_the_drill_down_csv_escapes_a_formula_like_clerk_name(
    client: FlaskClient, hall: Hall, db: Database, clock: FrozenClock, token: object
) -> None:
    AdminDesk(db, clock).seed_users([NewUser(CLERK, "zmd-clerk-2026", Role.CLERK, "ZMD")])
    ticket = hall.issue("SOCIAL")
    hall.open(10, CLERK)
    assert hall.call_next(10, CLERK)["id"] == ticket["id"]
    hall.act(ticket["id"], "start", CLERK)
    clock.advance(minutes=4)
    hall.act(ticket["id"], "finish", CLERK)
    with client.session_transaction() as session:
        session["username"] = "supervisor"
    response = client.get("/supervisor/ZMD/reports/monthly/window/10?month=2026-11&format=csv")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert [r["clerk"] for r in rows] == ["'" + CLERK]
    assert float(rows[0]["handling_minutes"]) == pytest.approx(4.0)
    xlsx = client.get("/supervisor/ZMD/reports/monthly.xlsx?month=2026-11")
    book = load_workbook(io.BytesIO(xlsx.get_data()))
    formulas = [c for s in book.worksheets for r in s.iter_rows() for c in r if c.data_type == "f"]
    assert formulas == []
