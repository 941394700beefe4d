"""Issue 19: the rating invitation's SMS, end to end through the HTTP app and the outbox's
worker to the local fake SMS gateway: its link opens the phone ticket page and its key rates
the service with channel ``invitation``, once; a wrong or expired key is a clear 403 JSON."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from queue_engine.domain.clock import FrozenClock
from queue_engine.services.outbox import DeliveryWorker, OutboxMetrics
from tests.fakes.providers import FakeSmsGateway
from tests.helpers.api import API, Hall, assert_error, make_app

PHONE = "13900007777"
SECRET = "gateway-s3cret"
LINK = re.compile(r"https://hall\.example\.cn(/r/([A-Za-z0-9_\-=]+))")


@pytest.fixture
def gateway() -> Iterator[FakeSmsGateway]:
    fake = FakeSmsGateway(SECRET)
    yield fake
    fake.close()


@pytest.fixture
def app(
    app_env: None,
    gateway: FakeSmsGateway,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    db: object,
    clock: FrozenClock,
    staff: dict[str, str],
) -> Iterator[Any]:
    monkeypatch.setenv("HALL_SMS_PROVIDER", "webhook")
    monkeypatch.setenv("HALL_SMS_WEBHOOK_URL", gateway.url + "/sms")
    monkeypatch.setenv("HALL_SMS_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("HALL_PUBLIC_URL", "https://hall.example.cn/")
    monkeypatch.setenv("HALL_NOTIFY_QUIET_START", "")
    application = make_app(db_url, clock)
    yield application
    application.extensions["hall"].db.dispose()


def _served(client: FlaskClient, hall: Hall) -> str:
    body = {"service": "SOCIAL", "channel": "app", "phone": PHONE}
    issued = client.post(f"{API}/halls/ZMD/tickets", json=body)
    assert issued.status_code == 201, issued.get_data(as_text=True)
    ticket = str(issued.get_json()["id"])
    assert hall.call_next(10, "clerk10")["id"] == ticket
    hall.act(ticket, "start", "clerk10")
    hall.act(ticket, "finish", "clerk10")
    return ticket


def _texts(app: Any, gateway: FakeSmsGateway) -> list[str]:
    services = app.extensions["hall"]
    DeliveryWorker(
        services.db, services.outbox, services.channels, name="t", metrics=OutboxMetrics()
    ).drain()
    return [m["text"] for m in gateway.accepted.values() if m["phone"] == PHONE]


def test_the_sms_link_opens_the_ticket_page_and_rates_by_invitation_once(
    app: Any, client: FlaskClient, hall: Hall, gateway: FakeSmsGateway, clock: FrozenClock
) -> None:
    hall.open(10, "clerk10")
    ticket = _served(client, hall)
    invites = [t for t in _texts(app, gateway) if "评价" in t]
    assert len(invites) == 1, invites
    found = LINK.search(invites[0])
    assert found is not None, invites[0]
    path, key = found.groups()
    assert len(invites[0]) <= 70  # one SMS part
    short = client.get(path)
    assert short.status_code == 303 and short.headers["Cache-Control"] == "no-store"
    assert short.headers["Location"] == f"/t/{ticket}#k={key}"  # the fragment stays on the phone
    page = client.get(short.headers["Location"].split("#")[0])
    assert page.status_code == 200 and "ticket.js" in page.get_data(as_text=True)
    for wrong in ("A" * 20, "A" * 300):  # a page route: the site's 404 page
        assert client.get("/r/" + wrong).status_code == 404

    url = f"{API}/tickets/{ticket}/evaluation"
    assert_error(client.post(url, json={"score": 5, "key": "A" * 20}), 403, "rating_key")
    rated = client.post(url, json={"score": 4, "comment": "很快", "key": key})
    assert rated.status_code == 201, rated.get_data(as_text=True)
    with app.extensions["hall"].db.engine.connect() as conn:
        (channel,) = conn.execute(text("SELECT source FROM evaluations")).one()
    assert channel == "invitation"
    assert_error(client.post(url, json={"score": 5, "key": key}), 409, "already_rated")

    late = _served(client, hall)
    late_key = LINK.findall(" ".join(_texts(app, gateway)))[-1][1]
    clock.advance(days=7, seconds=1)  # the hall's default invitation_days
    expired = client.post(f"{API}/tickets/{late}/evaluation", json={"score": 5, "key": late_key})
    assert_error(expired, 403, "invitation_expired")
