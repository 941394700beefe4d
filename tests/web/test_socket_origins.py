"""Socket.IO connections from the app's own origin and ``HALL_CORS_ORIGINS`` only.

A page on another site must not open a socket with a supervisor's cookie and read the
supervisors' room (cross-site WebSocket hijacking). The app's own origin comes from the
request's Host (from ``X-Forwarded-Host``/``-Proto`` when ``HALL_PROXY_COUNT`` trusts a proxy);
``HALL_CORS_ORIGINS`` adds to it, never replaces it. Clients that send no Origin (kiosk
programs, the demo) are not browsers and pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hall_app.extensions import socketio as server_socketio
from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import STAFF, make_app
from tests.helpers.pages import page_login

APP_ORIGIN = "https://app.example.gov.cn"


def supervisor_socket(app: Any, **headers: str) -> Any:
    """A Socket.IO test client carrying a signed-in supervisor's page cookie."""
    browser = app.test_client()
    assert page_login(browser, "supervisor", STAFF["supervisor"][0]).status_code == 302
    return server_socketio.test_client(app, flask_test_client=browser, headers=headers)


def snapshot_of(sio: Any) -> list[str]:
    sio.emit("supervise", {"hall": "ZMD"})
    return [m["name"] for m in sio.get_received()]


@pytest.fixture
def app_with(
    app_env: None,
    db_url: str,
    db: Database,
    clock: FrozenClock,
    staff: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    """``app_with(VAR=value, ...)``: the app built with those environment settings."""
    made: list[Any] = []

    def make(**env: str) -> Any:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        made.append(make_app(db_url, clock))
        return made[-1]

    yield make
    for application in made:
        application.extensions["hall"].db.dispose()


def test_another_site_cannot_open_a_socket_with_a_supervisor_s_cookie(app: Any) -> None:
    evil = supervisor_socket(app, Origin="http://evil.example")
    assert not evil.is_connected()
    own = supervisor_socket(app, Origin="http://localhost")
    assert own.is_connected()
    assert "supervisor.snapshot" in snapshot_of(own)
    without = supervisor_socket(app)  # not a browser: no Origin at all
    assert without.is_connected()
    own.disconnect()
    without.disconnect()


def test_configured_origins_add_to_the_app_s_own(app_with: Any) -> None:
    app = app_with(HALL_CORS_ORIGINS=f"{APP_ORIGIN} https://zwfw.example.gov.cn")
    for origin in ("http://localhost", APP_ORIGIN, "https://zwfw.example.gov.cn"):
        sio = supervisor_socket(app, Origin=origin)
        assert sio.is_connected(), origin
        assert "supervisor.snapshot" in snapshot_of(sio), origin
        sio.disconnect()
    for origin in ("http://evil.example", "https://app.example.gov.cn.evil.example", "null"):
        assert not supervisor_socket(app, Origin=origin).is_connected(), origin


def test_behind_a_trusted_proxy_the_own_origin_is_the_forwarded_one(app_with: Any) -> None:
    app = app_with(HALL_PROXY_COUNT="1")
    forwarded = {"X-Forwarded-Host": "hall.example.gov.cn", "X-Forwarded-Proto": "https"}
    sio = supervisor_socket(app, Origin="https://hall.example.gov.cn", **forwarded)
    assert sio.is_connected()
    sio.disconnect()
    assert not supervisor_socket(app, Origin="http://evil.example", **forwarded).is_connected()
    # A client cannot claim a host through a header the proxy did not set: only the last
    # (the proxy's own) X-Forwarded-Host value counts.
    claimed = {**forwarded, "X-Forwarded-Host": "evil.example, hall.example.gov.cn"}
    assert not supervisor_socket(app, Origin="https://evil.example", **claimed).is_connected()
