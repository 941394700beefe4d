"""Issue 15, row 3: a rating needs the citizen's rating key, which staff never see.

The audit's reproduction: a clerk takes the ticket id from its call-next answer and, after
finishing, rates the visit itself with no credentials. The ticket id is no longer enough: a
rating brings the ticket's rating key, handed to the citizen with the ticket only (the slip's
QR code, the answer to an online ticket), never in a staff answer, a staff room or the event
log. A rating sent with a staff token or a staff session is refused, and the channel the key
was handed over by is stored with the rating and in its event.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from hall_app.extensions import socketio
from queue_engine.adapters.orm import AuditRow, EvaluationRow, EventRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, Hall, assert_error


def serve(hall: Hall, clock: FrozenClock, ticket: dict[str, Any]) -> list[str]:
    """clerk10 calls, starts and finishes ``ticket``; every answer clerk10 got, as text."""
    answers = [hall.window_post(10, "call-next", "clerk10")]
    assert answers[0].get_json()["id"] == ticket["id"]
    answers.append(hall.ticket_post(ticket["id"], "start", "clerk10"))
    clock.advance(minutes=3)
    answers.append(hall.ticket_post(ticket["id"], "finish", "clerk10"))
    answers.append(hall.client.get(f"{API}/windows/10", headers=hall.auth("clerk10")))
    return [a.get_data(as_text=True) for a in answers]


def staff_views(hall: Hall, db: Database, ticket_id: str) -> list[str]:
    """What staff can read about a ticket: supervisors' views, the ticket, the event log."""
    client = hall.client
    texts = [
        client.get(f"{API}/halls/ZMD/live", headers=hall.auth("supervisor")),
        client.get(f"{API}/halls/ZMD/windows", headers=hall.auth("clerk10")),
        client.get(f"{API}/tickets/{ticket_id}", headers=hall.auth("clerk10")),
        client.get(f"/t/{ticket_id}"),
    ]
    with UnitOfWork(db, write=False) as uow:
        rows = [*uow.conn.execute(select(EventRow)), *uow.conn.execute(select(AuditRow))]
    return [r.get_data(as_text=True) for r in texts] + [json.dumps(list(map(str, r))) for r in rows]


def staff_rooms(app: Any, client: FlaskClient, hall: Hall, ticket_id: str) -> list[Any]:
    """Socket.IO rooms staff follow: the window's, the supervisors' and the ticket's own."""
    joined = []
    for event, data in (
        ("join", {"window": hall.window_id(10)}),
        ("join", {"ticket": ticket_id}),
        ("supervise", {"hall": "ZMD", "token": hall.auth("supervisor")["Authorization"][7:]}),
    ):
        sio = socketio.test_client(app, flask_test_client=client)
        sio.emit(event, data)
        joined.append(sio)
    return joined


def rating_rows(db: Database) -> list[tuple[str, str, int]]:
    with UnitOfWork(db, write=False) as uow:
        rows = uow.conn.execute(
            select(EvaluationRow.ticket_id, EvaluationRow.source, EvaluationRow.score)
        )
        return [(r[0], r[1], r[2]) for r in rows]


def test_only_the_citizens_rating_key_rates_and_staff_never_see_it(
    app: Any, client: FlaskClient, hall: Hall, db: Database, clock: FrozenClock
) -> None:
    hall.open(10, "clerk10")
    ticket = hall.issue("SOCIAL", "web")
    rooms = staff_rooms(app, client, hall, ticket["id"])
    texts = serve(hall, clock, ticket)
    url = f"{API}/tickets/{ticket['id']}/evaluation"

    # The audit's reproduction: the id from call-next and no credentials.
    assert_error(client.post(url, json={"score": 5}), 403, "rating_key")
    key = ticket["rating_key"]
    assert isinstance(key, str) and len(key) >= 20 and key not in ticket["id"]
    assert_error(client.post(url, json={"score": 5, "key": "A" * 20}), 403, "rating_key")
    other = hall.issue("SOCIAL", "web")
    assert_error(client.post(url, json={"score": 5, "key": other["rating_key"]}), 403)
    # The key itself does not help a member of staff: a staff token or session is refused.
    for username in ("clerk10", "kiosk", "supervisor", "admin"):
        staff = client.post(url, json={"score": 5, "key": key}, headers=hall.auth(username))
        assert_error(staff, 403, "staff_rating")
    session_client = app.test_client()
    with session_client.session_transaction() as session:
        session["username"] = "clerk10"
    assert_error(session_client.post(url, json={"score": 5, "key": key}), 403, "staff_rating")
    assert rating_rows(db) == []

    rated = client.post(url, json={"score": 5, "key": key})
    assert rated.status_code == 201, rated.get_data(as_text=True)
    assert_error(client.post(url, json={"score": 1, "key": key}), 409, "already_rated")
    assert rating_rows(db) == [(ticket["id"], "ticket_page", 5)]
    with UnitOfWork(db, write=False) as uow:
        (payload,) = uow.conn.execute(
            select(EventRow.payload).where(EventRow.type == "evaluation")
        ).scalars()
    assert json.loads(payload)["channel"] == "ticket_page"

    texts += staff_views(hall, db, ticket["id"])
    for sio in rooms:
        texts.append(json.dumps(sio.get_received(), default=str))
        sio.disconnect()
    # The key itself, or any key in a "rating_key" field (the page's messages may name the
    # error code "rating_key" with its short text).
    field = re.compile(r'"rating_key"\s*:\s*"[A-Za-z0-9_=-]{20,}"')
    assert [t for t in texts if key in t or field.search(t)] == []


def test_the_kiosk_slip_and_the_app_get_keys_of_their_own_channel(
    client: FlaskClient, hall: Hall, db: Database, clock: FrozenClock
) -> None:
    hall.open(10, "clerk10")
    slip = hall.issue("SOCIAL", "kiosk")
    app_ticket = hall.issue("SOCIAL", "app")
    assert slip["rating_key"] != app_ticket["rating_key"]
    qr = client.get(f"/t/{slip['id']}/qr.svg?key={slip['rating_key']}")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    wrong = client.get(f"/t/{slip['id']}/qr.svg?key={app_ticket['rating_key']}")
    assert wrong.status_code == 403
    for ticket in (slip, app_ticket):
        serve(hall, clock, ticket)
        url = f"{API}/tickets/{ticket['id']}/evaluation"
        assert client.post(url, json={"score": 4, "key": ticket["rating_key"]}).status_code == 201
    assert sorted(rating_rows(db)) == sorted(
        [(slip["id"], "slip_qr", 4), (app_ticket["id"], "app", 4)]
    )
