"""A real ``hall serve`` with its default server (gunicorn, one worker of threads, SQLite).

No development-server warning in its log; a board's Socket.IO works over WebSocket and
long-polling and gets the hall's live events; a stop (SIGTERM) with screens connected closes
their sessions and ends in seconds, not after gunicorn's whole graceful timeout.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.helpers.display import HallServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HallServer]:
    running = HallServer(tmp_path)
    running.init()
    running.start()
    yield running
    running.stop()


def board(url: str, transport: str) -> tuple[socketio.Client, list[str], threading.Event]:
    """A board of ZMD: joined, its snapshot in; the names of the events it gets after that."""
    client = socketio.Client(reconnection=False)
    events: list[str] = []
    joined = threading.Event()
    gone = threading.Event()

    @client.on("snapshot")
    def snapshot(_data: dict[str, Any]) -> None:
        joined.set()

    @client.on("*")
    def anything(event: str, _data: Any = None) -> None:
        events.append(event)

    @client.on("disconnect")
    def disconnected(*_args: Any) -> None:
        gone.set()

    client.connect(url, transports=[transport], wait_timeout=10)
    client.emit("join", {"hall": "ZMD"})
    assert joined.wait(10), "no snapshot"
    return client, events, gone


def test_the_default_server_is_gunicorn_without_a_development_warning(
    server: HallServer,
) -> None:
    assert server.process is not None
    log = server.log()
    assert "with gunicorn" in log
    assert "development server" not in log.lower() and "werkzeug" not in log.lower()
    assert "delivery worker" in log  # the one-process default delivers notices itself


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_board_gets_live_events_and_a_stop_closes_it_quickly(
    server: HallServer, transport: str
) -> None:
    client, events, gone = board(server.url, transport)
    try:
        issued = requests.post(
            f"{server.url}/api/v1/halls/ZMD/tickets",
            json={"service": "SOCIAL", "channel": "app"},
            timeout=10,
        )
        assert issued.status_code == 201, issued.text
        deadline = time.monotonic() + 10
        while not any(e.startswith("ticket.") for e in events) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(e.startswith("ticket.") for e in events), events

        assert server.process is not None
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=9)  # gunicorn's graceful timeout is 10 s
        took = time.monotonic() - started
        assert gone.wait(5), "the board was not disconnected"
        assert took < 8, f"the stop took {took:.1f} s"
        assert "closed 1 Socket.IO sessions" in server.log()
    finally:
        client.disconnect()
