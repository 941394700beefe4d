"""``hall config export/import``: a hall's whole configuration as YAML, validated, round trip.

On SQLite and PostgreSQL (``db`` holds the demo hall ZMD with round-the-clock hours).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import select

from hall_app.admin.schemas import DayHours, Hours
from hall_app.cli import main
from queue_engine.adapters.orm import AuditRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.seed import DEMO_SERVICES, demo_hall
from queue_engine.services.admin import AdminDesk


def run(db_url: str, *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"HALL_DATABASE_URL": db_url})


def export(db_url: str, hall: str, path: Path) -> dict[str, Any]:
    result = run(db_url, "config", "export", "--hall", hall, "--out", str(path))
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def test_a_county_hall_starts_from_the_citys_file_and_the_round_trip_is_exact(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    city = export(db_url, "ZMD", tmp_path / "zmd.yaml")
    assert city["hall"]["code"] == "ZMD" and len(city["services"]) == 13
    assert city["windows"][16]["primary"] == ["SOCIAL", "MEDICAL", "HPF", "RESIDENCE"]

    created = run(db_url, "config", "import", str(tmp_path / "zmd.yaml"), "--hall", "XPX")
    assert created.exit_code == 0 and "hall XPX created" in created.output, created.output
    county = export(db_url, "XPX", tmp_path / "xpx.yaml")
    assert county == {**city, "hall": {**city["hall"], "code": "XPX"}}

    again = run(db_url, "config", "import", str(tmp_path / "zmd.yaml"))
    assert again.exit_code == 0 and "hall ZMD updated" in again.output
    assert export(db_url, "ZMD", tmp_path / "zmd2.yaml") == city


def test_import_brings_an_existing_hall_to_exactly_the_file(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    data = export(db_url, "ZMD", tmp_path / "zmd.yaml")
    data["hall"]["notice"] = "县级大厅:周六上午开放"
    data["hall"]["hours"] = {
        "days": {
            "mon": {
                "open": "08:30",
                "close": "17:30",
                "lunch_start": "12:00",
                "lunch_end": "14:00",
            },
            "sat": {"open": "09:00", "close": "12:00", "lunch_start": None, "lunch_end": None},
        },
        "always_open": False,
        "follow_holidays": True,
        "closed_dates": ["2026-12-31"],
        "open_dates": [],
    }
    data["rules"]["dispatch"]["guard"] = "ratio"
    data["services"] = [s for s in data["services"] if s["code"] != "COMPLAINT"]
    data["services"][0]["daily_cap"] = 120
    data["services"].append(
        {
            "code": "NOTARY",
            "prefix": "P",
            "name_zh": "公证服务",
            "name_en": "Notary",
            "zone": "综合受理区",
            "standard_minutes": 7.5,
            "active": True,
            "daily_cap": None,
            "appointment": {"minutes": 20, "capacity": 2},
        }
    )
    data["windows"] = [w for w in data["windows"] if w["number"] != 22]
    data["windows"][0]["secondary"] = ["TAX", "NOTARY"]
    (tmp_path / "edited.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")

    result = run(db_url, "config", "import", str(tmp_path / "edited.yaml"))
    assert result.exit_code == 0, result.output
    after = export(db_url, "ZMD", tmp_path / "after.yaml")
    kept = [s for s in after["services"] if s["code"] == "COMPLAINT"]
    assert [s["active"] for s in kept] == [False]  # left out of the file: disabled, not deleted
    after["services"] = [s for s in after["services"] if s["code"] != "COMPLAINT"]
    days = after["hall"]["hours"]["days"]
    assert days["tue"] is None and days["mon"]["lunch_end"] == "14:00"
    after["hall"]["hours"]["days"] = {k: v for k, v in days.items() if v is not None}
    assert after == data
    with UnitOfWork(db, write=False) as uow:
        audit = uow.session.scalars(
            select(AuditRow).where(AuditRow.action == "admin.config.import")
        ).one()
    detail = json.loads(audit.detail)
    assert (
        audit.actor.startswith("cli:")
        and detail["before"]["hall"]["notice"] != detail["after"]["hall"]["notice"]
    )


def test_a_bad_file_is_refused_with_the_reason_and_changes_nothing(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    data = export(db_url, "ZMD", tmp_path / "zmd.yaml")
    bad = tmp_path / "bad.yaml"
    cases = [
        ({**data, "services": [*data["services"], {**data["services"][0], "code": "X"}]}, "prefix"),
        ({**data, "windows": [{**data["windows"][0], "primary": ["NOPE"]}]}, "NOPE"),
        ({**data, "hall": {**data["hall"], "timezone": "Asia/Atlantis"}}, "time zone"),
        ({**data, "windows": [data["windows"][0], data["windows"][0]]}, "appears twice"),
    ]
    for content, reason in cases:
        bad.write_text(yaml.safe_dump(content, allow_unicode=True), "utf-8")
        result = run(db_url, "config", "import", str(bad))
        assert result.exit_code == 2, result.output
        assert reason in result.output
    bad.write_text("just: [unbalanced", "utf-8")
    assert run(db_url, "config", "import", str(bad)).exit_code == 2
    assert export(db_url, "ZMD", tmp_path / "same.yaml") == data
    missing = run(db_url, "config", "export", "--hall", "NOPE", "--out", str(tmp_path / "x.yaml"))
    assert missing.exit_code == 2 and "NOPE" in missing.output


CLOCK = st.integers(0, 24 * 60 - 1).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")


@given(st.lists(CLOCK, min_size=4, max_size=4))
def test_day_hours_accept_exactly_the_ordered_days_and_keep_their_periods(times: list[str]) -> None:
    open_, lunch_start, lunch_end, close = times
    try:
        day = DayHours(open=open_, close=close, lunch_start=lunch_start, lunch_end=lunch_end)
    except ValidationError:
        assert times != sorted(set(times))
        return
    assert times == sorted(set(times))
    hours = Hours(days={"mon": day})
    assert Hours.from_mapping(hours.to_mapping()).days["mon"] == day


def test_a_hall_set_up_from_a_spec_keeps_each_services_daily_cap(db: Database) -> None:
    """The demo seed, the CLI and the tests create halls the way the admin API does."""
    capped = (replace(DEMO_SERVICES[0], daily_cap=120), *DEMO_SERVICES[1:])
    spec = replace(demo_hall(always_open=True), code="CAP", services=capped)
    AdminDesk(db).seed_hall(spec)
    with UnitOfWork(db, write=False) as uow:
        config = db.hall_config(uow.conn, "CAP")[1]
    assert config.service("ENT").daily_cap == 120
    assert config.service("PERMIT").daily_cap is None
