"""An administrator acts at a window a clerk opened only through an explicit, audited override.

Without ``X-Hall-Override: true`` the hall's admin is refused at a clerk's window like any
other account; with it the action goes through and its audit record says so. The override is
an administrator's (of the window's hall) alone, and the OpenAPI document describes it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from hall_app.auth import issue_token
from hall_app.state import hall_services
from queue_engine.adapters.orm import AuditRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import Actor, Role
from tests.helpers.api import API, Hall, assert_error

Auth = Callable[[str], dict[str, str]]
OVERRIDE = {"X-Hall-Override": "true"}


def audit_actions(db: Database, actor: str) -> list[str]:
    with UnitOfWork(db) as uow:
        rows = uow.conn.scalars(
            select(AuditRow.action).where(AuditRow.actor == actor).order_by(AuditRow.id)
        )
        return list(rows)


def test_an_admin_acts_at_a_clerk_s_window_only_with_an_explicit_audited_override(
    client: FlaskClient, hall: Hall, auth: Auth, db: Database
) -> None:
    hall.open(10, "clerk10")
    ticket = hall.issue("SOCIAL")
    window = hall.window_id(10)
    call = f"{API}/windows/{window}/call-next"

    assert_error(client.post(call, headers=auth("admin")), 403, "forbidden")
    called = client.post(call, headers={**auth("admin"), **OVERRIDE})
    assert called.status_code == 200, called.get_json()
    assert called.get_json()["id"] == ticket["id"]

    start = f"{API}/tickets/{ticket['id']}/start"
    assert_error(client.post(start, headers=auth("admin")), 403, "forbidden")
    assert client.post(start, headers={**auth("admin"), **OVERRIDE}).status_code == 200
    pause = f"{API}/windows/{window}/pause"
    assert_error(client.post(pause, json={"reason": "会议"}, headers=auth("admin")), 403)

    actions = audit_actions(db, "admin")
    assert actions.count("api.call_next:override") == 1, actions
    assert actions.count("api.start:override") == 1, actions
    # The refused attempts are recorded too, as plain (non-override) actions.
    assert "api.call_next" in actions and "api.pause" in actions, actions
    # The clerk's window is still the clerk's.
    assert (
        client.post(f"{API}/tickets/{ticket['id']}/finish", headers=auth("clerk10")).status_code
        == 200
    )


def test_only_an_administrator_of_the_window_s_hall_may_override(
    app: Any, client: FlaskClient, hall: Hall, auth: Auth
) -> None:
    hall.open(10, "clerk10")
    hall.issue("SOCIAL")
    call = f"{API}/windows/{hall.window_id(10)}/call-next"
    for user in ("clerk11", "supervisor", "kiosk"):
        assert_error(client.post(call, headers={**auth(user), **OVERRIDE}), 403, "forbidden")
    with app.test_request_context():
        admin = hall_services().admin
        root = Actor("root", Role.ADMIN)
        data = copy.deepcopy(admin.export_hall(root, "ZMD"))
        data["hall"]["code"] = "Z_D"
        admin.import_hall(root, data)
        admin.create_user(
            root, {"username": "zd_admin", "role": "admin", "hall": "Z_D"}, "zd-staff-2026!"
        )
        outsider = issue_token(Actor("zd_admin", Role.ADMIN, "Z_D", "zd_admin"))
    headers = {"Authorization": f"Bearer {outsider}", **OVERRIDE}
    assert_error(client.post(call, headers=headers), 403, "forbidden")


def test_an_admin_at_a_window_it_opened_itself_needs_no_override(
    client: FlaskClient, hall: Hall
) -> None:
    hall.open(12, "admin")
    hall.issue("SOCIAL")
    assert hall.window_post(12, "call-next", "admin").status_code in (200, 204)
    assert hall.window_post(12, "recall", "admin").status_code in (200, 409)


def test_the_override_is_described_in_the_openapi_document(client: FlaskClient) -> None:
    spec = client.get(f"{API}/openapi.json").get_json()
    for path in (
        "/api/v1/windows/{window_id}/call-next",
        "/api/v1/windows/{window_id}/pause",
        "/api/v1/tickets/{ticket_id}/start",
        "/api/v1/tickets/{ticket_id}/transfer",
    ):
        parameters = spec["paths"][path]["post"].get("parameters", [])
        header = [p for p in parameters if p["name"] == "X-Hall-Override"]
        assert header and header[0]["in"] == "header", (path, parameters)
    opened = spec["paths"]["/api/v1/windows/{window_id}/open"]["post"].get("parameters", [])
    assert not [p for p in opened if p["name"] == "X-Hall-Override"]
