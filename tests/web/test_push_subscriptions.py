"""Issue 17: the Web Push opt-in API of the citizen's ticket and appointment pages."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers.api import API, Hall, assert_error
from tests.web.test_api_appointments import book


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


SUBSCRIPTION = {
    "endpoint": "https://push.example.cn/send/abc123",
    "expirationTime": None,
    "keys": {"p256dh": _b64(b"\x04" + b"k" * 64), "auth": _b64(b"a" * 16)},
}


def stored(app: Any, kind: str, owner: str) -> dict[str, Any] | None:
    with app.app_context():
        text = app.extensions["hall"].push.subscription(kind, owner)
    return None if text is None else json.loads(text)


def test_public_key_is_generated_into_the_instance_folder(
    client: FlaskClient, tmp_path: Path
) -> None:
    first = client.get(f"{API}/push/public-key").get_json()["public_key"]
    assert len(base64.urlsafe_b64decode(first + "=")) == 65
    assert (tmp_path / "instance" / "vapid_private.pem").exists()
    assert client.get(f"{API}/push/public-key").get_json()["public_key"] == first


def test_ticket_subscription_is_stored_and_replaced(
    app: Any, client: FlaskClient, hall: Hall, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ticket = hall.issue("SOCIAL", "app")
    url = f"{API}/tickets/{ticket['id']}/push-subscription"
    response = client.post(url, json=SUBSCRIPTION)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert stored(app, "ticket", ticket["id"]) == {
        "endpoint": SUBSCRIPTION["endpoint"],
        "keys": SUBSCRIPTION["keys"],
    }
    newer = {**SUBSCRIPTION, "endpoint": "https://push.example.cn/send/new"}
    assert client.post(url, json=newer).status_code == 201
    assert stored(app, "ticket", ticket["id"])["endpoint"].endswith("/new")  # type: ignore[index]
    assert client.delete(url).status_code == 204
    assert stored(app, "ticket", ticket["id"]) is None
    keys = SUBSCRIPTION["keys"]
    assert keys["p256dh"] not in caplog.text and keys["auth"] not in caplog.text  # type: ignore[index]


def test_appointment_subscription(app: Any, client: FlaskClient) -> None:
    code = book(client)["code"]
    response = client.post(f"{API}/appointments/{code}/push-subscription", json=SUBSCRIPTION)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert stored(app, "appointment", code)["endpoint"] == SUBSCRIPTION["endpoint"]  # type: ignore[index]


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"endpoint": "ftp://x/y", "keys": SUBSCRIPTION["keys"]},
        {"endpoint": SUBSCRIPTION["endpoint"]},
        {"endpoint": SUBSCRIPTION["endpoint"], "keys": {"p256dh": "!!", "auth": "x"}},
        {
            "endpoint": SUBSCRIPTION["endpoint"],
            "keys": {"p256dh": _b64(b"short"), "auth": _b64(b"a" * 16)},
        },
        {"endpoint": "https://x/" + "a" * 5000, "keys": SUBSCRIPTION["keys"]},
    ],
)
def test_bad_subscriptions_are_4xx(client: FlaskClient, hall: Hall, body: Any) -> None:
    ticket = hall.issue("SOCIAL", "app")
    url = f"{API}/tickets/{ticket['id']}/push-subscription"
    response = client.post(url, json=body) if body is not None else client.post(url, data="x")
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert "error" in response.get_json()


def test_unknown_owners_are_404(client: FlaskClient) -> None:
    assert_error(client.post(f"{API}/tickets/nope/push-subscription", json=SUBSCRIPTION), 404)
    assert_error(client.post(f"{API}/appointments/NOPE/push-subscription", json=SUBSCRIPTION), 404)


def test_pages_carry_the_opt_in_and_the_service_worker_is_at_the_root(
    client: FlaskClient, hall: Hall
) -> None:
    ticket = hall.issue("SOCIAL", "app")
    page = client.get(f"/t/{ticket['id']}").get_data(as_text=True)
    assert 'id="push-optin"' in page and f"/tickets/{ticket['id']}/push-subscription" in page
    code = book(client)["code"]
    page = client.get(f"/a/{code}").get_data(as_text=True)
    assert 'id="push-optin"' in page and f"/appointments/{code}/push-subscription" in page
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["Service-Worker-Allowed"] == "/"
    assert "javascript" in worker.mimetype
    assert "showNotification" in worker.get_data(as_text=True)
