"""The audit log names routes, not the secrets in their paths.

Ticket ids and appointment codes are the keys their holders use; a raw path like
``/api/v1/appointments/K7QX2M9PWA/check-in`` in the audit log would hand them to whoever reads
it. Entries store the route template and the ids masked.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from queue_engine.adapters.orm import AuditRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from tests.helpers.api import API, Hall
from tests.helpers.people import id_number, phone

Auth = Callable[[str], dict[str, str]]


def _audit(db: Database) -> list[AuditRow]:
    with UnitOfWork(db, write=False) as uow:
        return list(uow.session.scalars(select(AuditRow).order_by(AuditRow.id)))


def _text(rows: list[AuditRow]) -> str:
    return json.dumps(
        [[r.actor, r.role, r.action, r.target, r.detail, r.remote_addr] for r in rows],
        ensure_ascii=False,
    )


def test_ticket_actions_are_audited_by_route_template_with_masked_ids(
    hall: Hall, db: Database
) -> None:
    ticket = hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    hall.call_next(10, "clerk10")
    hall.act(ticket["id"], "start", "clerk10")
    hall.act(ticket["id"], "finish", "clerk10")
    rows = _audit(db)
    assert ticket["id"] not in _text(rows)
    targets = [r.target for r in rows if r.action == "api.start"]
    assert targets == [f"/api/v1/tickets/<ticket_id>/start ticket_id={ticket['id'][:3]}…"]
    wid = hall.window_id(10)
    assert f"/api/v1/windows/<window_id>/open window_id={wid}" in [r.target for r in rows]


def test_a_check_in_by_code_keeps_the_code_out_of_the_audit_log(
    client: FlaskClient, auth: Auth, db: Database
) -> None:
    body = {
        "service": "SOCIAL",
        "date": "2026-11-26",
        "start": "10:30",
        "name": "张三",
        "phone": phone(1),
        "id_number": id_number(1),
    }
    booked = client.post(f"{API}/halls/ZMD/appointments", json=body)
    assert booked.status_code == 201, booked.get_data(as_text=True)
    code = booked.get_json()["code"]
    checked = client.post(f"{API}/appointments/{code}/check-in", headers=auth("kiosk"))
    assert checked.status_code == 201, checked.get_data(as_text=True)
    ticket_id = checked.get_json()["id"]
    rows = _audit(db)
    assert rows, "the kiosk's check-in is audited"
    assert code not in _text(rows) and ticket_id not in _text(rows)
    assert [r.target for r in rows if r.action == "api.check_in"] == [
        f"/api/v1/appointments/<code>/check-in code={code[:3]}…"
    ]


def test_a_staff_request_to_no_route_stores_no_path(
    client: FlaskClient, auth: Auth, db: Database
) -> None:
    secret = "K7QX2M9PWA"
    response = client.post(f"{API}/appointments/{secret}/nothing", headers=auth("kiosk"))
    assert response.status_code == 404
    rows = _audit(db)
    assert secret not in _text(rows)
    assert [(r.action, r.target) for r in rows] == [("unmatched", "")]
