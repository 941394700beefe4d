"""Issue 17: a phone or WeChat openid given with a ticket is kept sealed for its notices."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import text

from tests.helpers.api import API, assert_error

PHONE = "13900001234"


def _outbox(app: Any) -> list[Any]:
    with app.app_context():
        db = app.extensions["hall"].db
        with db.engine.connect() as conn:
            return list(conn.execute(text("SELECT kind, channel, text FROM outbox")))


def test_a_remote_ticket_with_a_phone_queues_its_confirmation(
    app: Any, client: FlaskClient
) -> None:
    body = {"service": "SOCIAL", "channel": "app", "phone": PHONE}
    response = client.post(f"{API}/halls/ZMD/tickets", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    ticket = response.get_json()
    assert PHONE not in response.get_data(as_text=True)
    rows = _outbox(app)
    assert [(r.kind, r.channel) for r in rows] == [("remote_confirmed", "sms")]
    assert ticket["number"] in rows[0].text
    with app.app_context(), app.extensions["hall"].db.engine.connect() as conn:
        sealed = conn.execute(text("SELECT ciphertext FROM contacts")).scalar_one()
    assert PHONE.encode() not in sealed


def test_a_malformed_phone_or_openid_is_a_422_that_never_echoes_it(
    app: Any, client: FlaskClient
) -> None:
    bad_phone = {"service": "SOCIAL", "channel": "web", "phone": "12345"}
    response = client.post(f"{API}/halls/ZMD/tickets", json=bad_phone)
    assert_error(response, 422, "phone")
    assert "12345" not in response.get_data(as_text=True)
    bad_openid = {"service": "SOCIAL", "channel": "web", "wechat_openid": "o<script>"}
    assert_error(client.post(f"{API}/halls/ZMD/tickets", json=bad_openid), 422, "wechat_openid")
    assert _outbox(app) == []
