"""What the system shows to whom: metrics to monitoring only, no staff names to kiosks.

``/metrics`` answers a bearer token (``HALL_METRICS_TOKEN``) or the addresses of
``HALL_METRICS_ALLOW`` (by default loopback only, where nginx's template also serves it); a
kiosk token lists no clerk's username anywhere; the OpenAPI document stays public on purpose
(it describes the contract, no data and no staff).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from hall_app.extensions import socketio as server_socketio
from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, STAFF, Hall, assert_error, make_app
from tests.helpers.pages import page_login

Auth = Callable[[str], dict[str, str]]
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-0123456789abcdef"
OUTSIDE = {"REMOTE_ADDR": "10.0.0.7"}


def test_metrics_answer_loopback_only_without_a_token(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 200
    assert_error(client.get("/metrics", environ_base=OUTSIDE), 403, "forbidden")
    forged = {"Authorization": "Bearer guessed-token-0123456789"}
    assert_error(client.get("/metrics", headers=forged, environ_base=OUTSIDE), 403)


def test_metrics_behind_a_bearer_token(
    app_env: None, db_url: str, db: Database, clock: FrozenClock, staff: Any
) -> None:
    app = make_app(db_url, clock, HALL_METRICS_TOKEN=TOKEN, HALL_METRICS_ALLOW=())
    try:
        client = app.test_client()
        scrape = client.get(
            "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, environ_base=OUTSIDE
        )
        assert scrape.status_code == 200 and b"hall_queue_length" in scrape.data
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            assert_error(client.get("/metrics", headers=headers, environ_base=OUTSIDE), 401)
        assert_error(client.get("/metrics"), 401)  # with a token, loopback needs it too
    finally:
        app.extensions["hall"].db.dispose()


def test_nginx_serves_metrics_to_loopback_only() -> None:
    template = (ROOT / "deploy" / "nginx.conf.template").read_text()
    block = re.search(r"location = /metrics \{\{(.*?)\}\}", template, re.S)
    assert block, "no location for /metrics"
    rules = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    assert rules[:3] == ["allow 127.0.0.1;", "allow ::1;", "deny all;"], rules


def test_nginx_passes_the_client_s_address_and_host_to_every_location() -> None:
    """nginx drops inherited proxy_set_header lines from a location that sets its own."""
    template = (ROOT / "deploy" / "nginx.conf.template").read_text()
    locations = re.findall(r"location [^{]*\{\{(.*?)\}\}", template, re.S)
    assert len(locations) >= 3
    assert not [block for block in locations if "proxy_set_header" in block]
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in template


def test_a_kiosk_token_lists_no_clerk_names(
    app: Any, client: FlaskClient, hall: Hall, auth: Auth
) -> None:
    hall.open(10, "clerk10")
    listing = f"{API}/halls/ZMD/windows"
    for user in ("clerk11", "supervisor", "admin"):
        clerks = {w["clerk"] for w in client.get(listing, headers=auth(user)).get_json()["windows"]}
        assert "clerk10" in clerks, user
    for headers in (auth("kiosk"), {}):
        windows = client.get(listing, headers=headers).get_json()["windows"]
        assert {w["clerk"] for w in windows} == {None}
    assert_error(client.get(f"{API}/admin/users", headers=auth("kiosk")), 403)

    kiosk = app.test_client()
    assert page_login(kiosk, "kiosk", STAFF["kiosk"][0]).status_code == 302
    window = hall.window_id(10)
    for page in ("/kiosk/ZMD", f"/evaluator/{window}"):
        response = kiosk.get(page)
        assert response.status_code == 200, page
        assert "clerk10" not in response.get_data(as_text=True), page
    sio = server_socketio.test_client(app, flask_test_client=kiosk)
    sio.emit("join", {"hall": "ZMD"})
    sio.emit("join", {"window": window})
    assert "clerk10" not in repr(sio.get_received())
    sio.disconnect()


def test_the_api_document_is_public_and_names_no_staff(client: FlaskClient) -> None:
    spec = client.get(f"{API}/openapi.json")
    assert spec.status_code == 200
    assert not re.search(r"clerk\d+|zmd-\w+-\d{4}", spec.get_data(as_text=True))
    assert client.get(f"{API}/docs").status_code == 200
