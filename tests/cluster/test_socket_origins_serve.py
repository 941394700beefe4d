"""The Socket.IO origin check of a real ``hall serve``, with a real python-socketio client.

Engine.IO refuses another site's origin at the handshake, over long-polling and WebSocket
alike; the app's own origin and ``HALL_CORS_ORIGINS`` connect and reach the supervisors' room.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.helpers.display import HallServer

APP_ORIGIN = "https://app.example.gov.cn"
SUPERVISOR = ("supervisor", "zmd-super-2026")


class OriginServer(HallServer):
    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "HALL_CORS_ORIGINS": APP_ORIGIN}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OriginServer]:
    running = OriginServer(Path(tmp_path_factory.mktemp("origins")))
    running.init()
    running.start()
    yield running
    running.stop()


def supervise(server: OriginServer, transport: str, origin: str | None) -> dict[str, Any] | None:
    """Connect with ``origin`` and ask for the supervisors' room: its snapshot, or None."""
    options = {"origin": origin} if origin and transport == "websocket" else {}
    client = socketio.Client(reconnection=False, websocket_extra_options=options)
    got: dict[str, Any] = {}
    arrived = threading.Event()

    @client.on("supervisor.snapshot")
    def snapshot(data: dict[str, Any]) -> None:
        got.update(data)
        arrived.set()

    token = requests.post(
        f"{server.url}/api/v1/auth/token",
        json=dict(zip(("username", "password"), SUPERVISOR, strict=True)),
        timeout=10,
    ).json()["token"]
    headers = {"Origin": origin} if origin and transport == "polling" else {}
    try:
        client.connect(server.url, headers=headers, transports=[transport], wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        return None
    try:
        client.emit("supervise", {"hall": "ZMD", "token": token})
        assert arrived.wait(10), "no snapshot"
        return got
    finally:
        client.disconnect()


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_a_real_client_from_another_site_is_refused_at_the_handshake(
    server: OriginServer, transport: str
) -> None:
    assert supervise(server, transport, "http://evil.example") is None
    for origin in (server.url, APP_ORIGIN, None):
        snapshot = supervise(server, transport, origin)
        assert snapshot is not None and snapshot["room"] == "supervise:ZMD", origin
