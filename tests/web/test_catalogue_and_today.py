"""The service catalogue import (实施编码, departments) and today's queues for apps (issue 20)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from queue_engine.adapters.orm import AuditRow, ServiceRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from tests.helpers.api import API, Hall

Auth = Callable[[str], dict[str, str]]
CODE_SOCIAL = "11411700MB1957720K4000117006000"
CODE_PENSION = "11411700MB1957720K4000117022000"


def catalogue(db: Database) -> dict[str, tuple[Any, Any]]:
    with UnitOfWork(db, write=False) as uow:
        rows = uow.conn.execute(
            select(ServiceRow.code, ServiceRow.catalogue_code, ServiceRow.department)
        )
        return {r.code: (r.catalogue_code, r.department) for r in rows if r.catalogue_code}


def run_import(path: Path, *args: str) -> Any:
    from hall_app.integrations_cli import services

    return CliRunner().invoke(services, ["import", str(path), *args])


@pytest.fixture
def cli_env(app_env: None, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALL_DATABASE_URL", db_url)


def test_a_csv_catalogue_is_imported_once_and_audited(
    cli_env: None, db: Database, staff: Any, tmp_path: Path
) -> None:
    from queue_engine.seed import demo_hall

    services = [s.code for s in demo_hall().services][:2]
    source = tmp_path / "catalogue.csv"
    source.write_text(
        "大厅,事项,实施编码,实施部门\n"
        f"ZMD,{services[0]},{CODE_SOCIAL},市人力资源和社会保障局\n"
        f"ZMD,{services[1]},{CODE_PENSION},市医疗保障局\n",
        encoding="utf-8",
    )
    first = run_import(source)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"rows": 2, "changed": 2, "unchanged": 0}
    assert catalogue(db) == {
        services[0]: (CODE_SOCIAL, "市人力资源和社会保障局"),
        services[1]: (CODE_PENSION, "市医疗保障局"),
    }
    again = run_import(source)  # idempotent
    assert json.loads(again.output) == {"rows": 2, "changed": 0, "unchanged": 2}
    with UnitOfWork(db, write=False) as uow:
        audited = list(
            uow.conn.scalars(select(AuditRow.detail).where(AuditRow.action == "services.import"))
        )
    assert len(audited) == 1 and '"changed": 2' in audited[0]


def test_bad_rows_are_named_and_nothing_is_half_imported(
    cli_env: None, db: Database, staff: Any, tmp_path: Path
) -> None:
    from queue_engine.seed import demo_hall

    good = demo_hall().services[0].code
    source = tmp_path / "catalogue.json"
    source.write_text(
        json.dumps(
            {
                "services": [
                    {"service": good, "catalogue_code": CODE_SOCIAL, "department": "人社局"},
                    {"service": "NOPE", "catalogue_code": CODE_SOCIAL, "department": "x"},
                    {"service": good, "catalogue_code": "短", "department": "人社局"},
                    {"service": good, "catalogue_code": CODE_PENSION},
                ]
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    result = run_import(source, "--hall", "ZMD")
    assert result.exit_code != 0
    assert "nothing imported" in result.output
    assert "row 2: hall ZMD has no service NOPE" in result.output
    assert "row 3: invalid catalogue_code" in result.output
    assert "row 4: invalid department" in result.output
    assert catalogue(db) == {}  # the good first row was not written either
    for text, suffix in (("not json", ".json"), ("", ".csv"), ("x", ".txt")):
        other = tmp_path / f"bad{suffix}"
        other.write_text(text, encoding="utf-8")
        assert run_import(other, "--hall", "ZMD").exit_code != 0
    no_hall = tmp_path / "no-hall.csv"
    no_hall.write_text(f"service,catalogue_code,department\n{good},{CODE_SOCIAL},人社局\n")
    assert "no hall" in run_import(no_hall).output


def test_todays_queues_are_cacheable_and_served_from_a_short_cache(
    app: Any, client: FlaskClient, hall: Hall, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    hall.issue("SOCIAL", "app")
    first = client.get(f"{API}/halls/ZMD/queues/today")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=5"
    etag = first.headers["ETag"]
    body = first.get_json()
    social = next(s for s in body["services"] if s["code"] == "SOCIAL")
    assert social["waiting"] == 1 and set(social["estimated_wait"]) >= {"median_minutes"}
    assert body["date"] == "2026-11-26" and "catalogue_code" in social
    unchanged = client.get(f"{API}/halls/ZMD/queues/today", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    # Within the cache's seconds, nothing reaches the database: a million phones, one query.
    queries = app.extensions["hall"].engine

    def no_database(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the widget reached the database")

    monkeypatch.setattr(queries, "queues", no_database)
    for _ in range(50):
        assert client.get(f"{API}/halls/ZMD/queues/today").status_code == 200
    monkeypatch.undo()
    # After the cache's time, a new ticket shows and the ETag changes.
    cache = app.extensions["hall_today"]
    cache._entries.clear()
    hall.issue("SOCIAL", "app")
    fresh = client.get(f"{API}/halls/ZMD/queues/today", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag
    assert next(s for s in fresh.get_json()["services"] if s["code"] == "SOCIAL")["waiting"] == 2
    assert client.get(f"{API}/halls/NOPE/queues/today").status_code == 404
