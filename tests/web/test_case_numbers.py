"""Case numbers (办件编号, issue 20): attached by a clerk or by the approval system to the
matter being served, and found again in the event log and the evaluation export."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
from flask.testing import FlaskClient
from sqlalchemy import select

from queue_engine.adapters.orm import EventRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, Hall, assert_error
from tests.web.test_api_clients import add_client, bearer, client_token

Auth = Callable[[str], dict[str, str]]
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "evaluations-export.schema.json"
TODAY = "2026-11-26"


def serving(hall: Hall) -> dict[str, Any]:
    ticket = hall.issue("SOCIAL", "web")
    hall.open(10, "clerk10")
    hall.call_next(10, "clerk10")
    hall.act(ticket["id"], "start", "clerk10")
    return ticket


def test_a_clerks_case_number_is_in_the_event_log_and_the_evaluation_export(
    client: FlaskClient, auth: Auth, hall: Hall, clock: FrozenClock, db: Database
) -> None:
    ticket = serving(hall)
    url = f"{API}/tickets/{ticket['id']}/case-number"
    first = client.put(url, json={"case_number": "411700-2026-0001"}, headers=auth("clerk10"))
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json() == {
        "ticket_id": ticket["id"],
        "segment": 0,
        "service": "SOCIAL",
        "case_number": "411700-2026-0001",
    }
    fixed = client.put(url, json={"case_number": "411700-2026-0002"}, headers=auth("clerk10"))
    assert fixed.get_json()["replaced"] == "411700-2026-0001"
    clock.advance(minutes=3)
    hall.act(ticket["id"], "finish", "clerk10")
    rated = client.post(
        f"{API}/tickets/{ticket['id']}/evaluation", json={"score": 5, "key": ticket["rating_key"]}
    )
    assert rated.status_code == 201, rated.get_data(as_text=True)
    with UnitOfWork(db, write=False) as uow:
        payloads = list(
            uow.conn.scalars(select(EventRow.payload).where(EventRow.type == "ticket.case_number"))
        )
    numbers = [json.loads(p)["case_number"] if isinstance(p, str) else p["case_number"]
               for p in payloads]  # fmt: skip
    assert numbers == ["411700-2026-0001", "411700-2026-0002"]
    export = client.get(
        f"{API}/halls/ZMD/evaluations/export?date={TODAY}", headers=auth("supervisor")
    ).get_json()
    jsonschema.validate(export, json.loads(SCHEMA.read_text(encoding="utf-8")))
    (record,) = export["records"]
    assert record["case_number"] == "411700-2026-0002"


def test_the_approval_system_links_with_cases_link_only(
    client: FlaskClient, auth: Auth, hall: Hall
) -> None:
    ticket = serving(hall)
    url = f"{API}/tickets/{ticket['id']}/case-number"
    approval = add_client(client, auth, name="一窗受理", scopes=["cases:link"])
    linked = client.put(
        url, json={"case_number": "YC20261126001"}, headers=bearer(client_token(client, approval))
    )
    assert linked.status_code == 200 and linked.get_json()["case_number"] == "YC20261126001"
    reader = add_client(client, auth, name="网站", scopes=["queues:read"])
    refused = client.put(
        url, json={"case_number": "X1"}, headers=bearer(client_token(client, reader))
    )
    assert_error(refused, 403, "insufficient_scope")
    assert_error(client.put(url, json={"case_number": "X1"}), 401)
    assert_error(client.put(url, json={"case_number": "X1"}, headers=auth("kiosk")), 403)
    for bad in ("", "含中文", "a" * 65, " -x"):
        assert_error(client.put(url, json={"case_number": bad}, headers=auth("clerk10")), 422)
    assert_error(client.put(url, json={}, headers=auth("clerk10")), 422)
    assert_error(
        client.put(f"{API}/tickets/nope/case-number", json={"case_number": "X1"},
                   headers=auth("clerk10")),
        404,
    )  # fmt: skip
