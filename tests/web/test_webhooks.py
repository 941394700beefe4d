"""Webhooks to API clients (issue 20): through the outbox and its worker to a receiver on
loopback, signed per Standard Webhooks (verified with the official package), retried with the
outbox's backoff, each event once, a dead receiver disabled with an alert, and replay."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from queue_engine.adapters.orm import AlertRow, OutboxRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from tests.fakes.providers import FakeWebhookReceiver
from tests.helpers.api import API, Hall, assert_error
from tests.web.test_api_clients import add_client, bearer, client_token

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def receiver() -> Iterator[FakeWebhookReceiver]:
    fake = FakeWebhookReceiver()
    yield fake
    fake.close()


def subscribe(
    client: FlaskClient,
    auth: Auth,
    receiver: FakeWebhookReceiver,
    events: list[str],
    scopes: list[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A client with events:subscribe, its subscription to ``receiver``, and its token."""
    registered = add_client(client, auth, name="12345热线", scopes=scopes or ["events:subscribe"])
    token = client_token(client, registered)
    response = client.post(
        f"{API}/webhooks",
        json={"url": f"{receiver.url}/hooks", "events": events},
        headers=bearer(token),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    sub = response.get_json()
    assert sub["secret"].startswith("whsec_")
    receiver.secret = sub["secret"]
    return registered, sub, token


def drain(app: Any) -> int:
    return int(app.extensions["hall"].worker(name="test").drain())


def test_a_called_ticket_reaches_the_receiver_signed_per_standard_webhooks(
    app: Any, client: FlaskClient, auth: Auth, hall: Hall, receiver: FakeWebhookReceiver
) -> None:
    _, sub, _ = subscribe(client, auth, receiver, ["ticket.called", "window.*"])
    ticket = hall.issue("SOCIAL", "app")
    hall.open(10, "clerk10")
    hall.call_next(10, "clerk10")
    assert drain(app) == 2  # window.opened and ticket.called; ticket.issued is not wanted
    assert receiver.rejected == 0
    bodies = {b["type"]: b for b in receiver.accepted.values()}
    assert set(bodies) == {"window.opened", "ticket.called"}
    called = bodies["ticket.called"]
    assert called["hall"] == "ZMD" and called["data"]["ticket_number"] == ticket["number"]
    assert called["data"]["window"] and called["data"]["service"] == "SOCIAL"
    # No holder's key, no clerk, no personal data: this client may not link cases.
    text = json.dumps(called, ensure_ascii=False)
    assert ticket["id"] not in text and "clerk10" not in text
    # The documented algorithm, by hand: HMAC-SHA256 over "id.timestamp.body".
    request = next(r for r in receiver.requests if r.json()["type"] == "ticket.called")
    msg_id, ts = request.headers["webhook-id"], request.headers["webhook-timestamp"]
    assert msg_id == called["id"] and msg_id.startswith("msg_")
    key = base64.b64decode(sub["secret"].removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + request.body, hashlib.sha256).digest()
    assert request.headers["webhook-signature"] == "v1," + base64.b64encode(mac).decode()


def test_a_receiver_failing_three_times_then_succeeding_gets_each_event_once(
    app: Any,
    client: FlaskClient,
    auth: Auth,
    hall: Hall,
    receiver: FakeWebhookReceiver,
    clock: FrozenClock,
    db: Database,
) -> None:
    subscribe(client, auth, receiver, ["ticket.issued"])
    receiver.fail(3, 503)
    hall.issue("SOCIAL", "app")
    for _ in range(3):
        assert drain(app) == 0
        clock.advance(minutes=11)  # past the outbox's backoff (at most 10 min)
    assert drain(app) == 1
    assert drain(app) == 0
    assert len(receiver.requests) == 4
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one message
    assert len(receiver.accepted) == 1
    with UnitOfWork(db, write=False) as uow:
        row = uow.conn.execute(select(OutboxRow.__table__).where(OutboxRow.channel == "hook")).one()
    assert (row.status, row.attempts) == ("sent", 4)
    subs = client.get(f"{API}/admin/webhooks", headers=auth("supervisor")).get_json()["webhooks"]
    assert subs[0]["active"] is True and subs[0]["failures"] == 0  # the run ended


def test_a_dead_receiver_is_disabled_after_a_run_of_failures_and_admins_are_alerted(
    app_env: None,
    db_url: str,
    db: Database,
    clock: FrozenClock,
    staff: Any,
    receiver: FakeWebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.helpers.api import make_app

    monkeypatch.setenv("HALL_WEBHOOK_DISABLE_AFTER", "3")
    application = make_app(db_url, clock)
    try:
        http = application.test_client()
        with application.test_request_context():
            from hall_app.auth import issue_token
            from hall_app.state import hall_services

            admin = hall_services().accounts.find("admin")
            assert admin is not None
            headers = {"Authorization": f"Bearer {issue_token(admin)}"}
        _, sub, _ = subscribe(http, lambda _: headers, receiver, ["ticket.*"])
        receiver.down()
        for _ in range(2):
            ok = http.post(f"{API}/halls/ZMD/tickets", json={"service": "SOCIAL", "channel": "app"})
            assert ok.status_code == 201
        for _ in range(3):
            drain(application)
            clock.advance(minutes=11)
        listed = http.get(f"{API}/admin/webhooks", headers=headers).get_json()["webhooks"]
        assert listed[0]["active"] is False and listed[0]["failures"] >= 3
        assert "unreachable" in listed[0]["disabled_reason"]
        drain(application)  # what was still queued is dead now, not sent
        with UnitOfWork(db, write=False) as uow:
            statuses = list(
                uow.conn.scalars(select(OutboxRow.status).where(OutboxRow.channel == "hook"))
            )
            alerts = list(
                uow.conn.execute(select(AlertRow.kind, AlertRow.severity, AlertRow.cleared_at))
            )
        assert statuses == ["dead", "dead"], statuses
        assert [(a.kind, a.severity) for a in alerts] == [("webhook_disabled", "red")]
        # The supervision round leaves the alert open: a person clears it.
        application.extensions["hall"].supervision.evaluate("ZMD")
        open_alerts = http.get(f"{API}/halls/ZMD/alerts", headers=headers).get_json()
        assert any(a["kind"] == "webhook_disabled" for a in open_alerts["alerts"])
        # Back up, switched on again, a dead delivery replayed: it arrives.
        receiver.up()
        enabled = http.post(f"{API}/admin/webhooks/{sub['id']}/enable", headers=headers)
        assert enabled.status_code == 200 and enabled.get_json()["active"] is True
        dead = http.get(
            f"{API}/admin/halls/ZMD/deliveries?channel=hook&status=dead", headers=headers
        ).get_json()["deliveries"]
        assert len(dead) == 2
        replay = http.post(
            f"{API}/admin/halls/ZMD/deliveries/{dead[0]['id']}/retry", headers=headers
        )
        assert replay.status_code == 200, replay.get_data(as_text=True)
        assert drain(application) == 1
        assert len(receiver.accepted) == 1
    finally:
        application.extensions["hall"].db.dispose()


def test_replay_sends_the_same_message_again_with_its_id(
    app: Any, client: FlaskClient, auth: Auth, hall: Hall, receiver: FakeWebhookReceiver
) -> None:
    subscribe(client, auth, receiver, ["ticket.issued"])
    hall.issue("SOCIAL", "app")
    assert drain(app) == 1
    sent = client.get(
        f"{API}/admin/halls/ZMD/deliveries?channel=hook&status=sent", headers=auth("admin")
    ).get_json()["deliveries"]
    assert len(sent) == 1
    replay = client.post(
        f"{API}/admin/halls/ZMD/deliveries/{sent[0]['id']}/retry", headers=auth("admin")
    )
    assert replay.status_code == 200
    assert drain(app) == 1
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 2 and ids[0] == ids[1]  # the receiver can tell it is the same message
    assert len(receiver.accepted) == 1


def test_a_case_linking_client_gets_ticket_ids_and_case_numbers(
    app: Any, client: FlaskClient, auth: Auth, hall: Hall, receiver: FakeWebhookReceiver
) -> None:
    _, _, token = subscribe(
        client, auth, receiver, ["ticket.case_number", "ticket.started"],
        scopes=["events:subscribe", "cases:link"],
    )  # fmt: skip
    ticket = hall.issue("SOCIAL", "app")
    hall.open(10, "clerk10")
    hall.call_next(10, "clerk10")
    hall.act(ticket["id"], "start", "clerk10")
    linked = client.put(
        f"{API}/tickets/{ticket['id']}/case-number",
        json={"case_number": "ZMD-2026-000123"},
        headers=bearer(token),
    )
    assert linked.status_code == 200, linked.get_data(as_text=True)
    assert linked.get_json()["segment"] == 0
    assert drain(app) == 2
    bodies = {b["type"]: b for b in receiver.accepted.values()}
    assert bodies["ticket.started"]["data"]["ticket_id"] == ticket["id"]
    assert bodies["ticket.case_number"]["data"]["case_number"] == "ZMD-2026-000123"


def test_subscriptions_are_checked(
    client: FlaskClient, auth: Auth, receiver: FakeWebhookReceiver
) -> None:
    registered = add_client(client, auth, scopes=["events:subscribe"])
    token = client_token(client, registered)
    for body in (
        {"url": "ftp://x/y", "events": ["ticket.called"]},
        {"url": f"{receiver.url}/h", "events": ["ticket.exploded"]},
        {"url": f"{receiver.url}/h", "events": []},
        {"url": f"{receiver.url}/h", "events": ["ticket.called"], "halls": ["NOPE"]},
    ):
        response = client.post(f"{API}/webhooks", json=body, headers=bearer(token))
        assert_error(response, 422)
    made = client.post(
        f"{API}/webhooks",
        json={"url": f"{receiver.url}/h", "events": ["evaluation"]},
        headers=bearer(token),
    ).get_json()
    mine = client.get(f"{API}/webhooks", headers=bearer(token)).get_json()["webhooks"]
    assert [s["id"] for s in mine] == [made["id"]] and "secret" not in mine[0]
    assert client.delete(f"{API}/webhooks/{made['id']}", headers=bearer(token)).status_code == 204
    assert_error(client.delete(f"{API}/webhooks/{made['id']}", headers=bearer(token)), 404)


def test_in_production_a_webhook_never_reaches_a_private_address(
    app_env: None,
    db_url: str,
    db: Database,
    clock: FrozenClock,
    staff: Any,
    receiver: FakeWebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.helpers.api import make_app

    monkeypatch.setenv("HALL_WEBHOOK_ALLOW_PRIVATE", "0")  # the production default
    application = make_app(db_url, clock)
    try:
        http = application.test_client()
        with application.test_request_context():
            from hall_app.auth import issue_token
            from hall_app.state import hall_services

            admin = hall_services().accounts.find("admin")
            assert admin is not None
            headers = {"Authorization": f"Bearer {issue_token(admin)}"}
        subscribe(http, lambda _: headers, receiver, ["ticket.issued"])
        assert (
            http.post(
                f"{API}/halls/ZMD/tickets", json={"service": "SOCIAL", "channel": "app"}
            ).status_code
            == 201
        )
        assert drain(application) == 0
        assert receiver.requests == []  # never even connected
        dead = http.get(
            f"{API}/admin/halls/ZMD/deliveries?channel=hook&status=dead", headers=headers
        ).get_json()["deliveries"]
        assert len(dead) == 1 and "private" in dead[0]["last_error"]
    finally:
        application.extensions["hall"].db.dispose()
