"""Two real server processes share live events through Redis (HALL_MESSAGE_QUEUE).

A display connected to process 2 must hear what happens through process 1's API. Both
processes use one SQLite file and one instance folder (so one secret key: a token from one is
good on the other). Redis unreachable: skip, or fail when HALL_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
import redis
import requests
import socketio
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("HALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVICES = os.environ.get("HALL_REQUIRE_SERVICES") == "1"
HALL_BIN = Path(sys.executable).with_name("hall")
API = "/api/v1"
TIMEOUT = 20.0


def message_queue_url() -> str:
    """The test Redis server, on database 15 (kept apart from a developer's data)."""
    return make_url(REDIS_URL).set(database="15").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def redis_url() -> str:
    try:
        with closing(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)) as client:
            client.ping()
    except (redis.RedisError, OSError) as exc:
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis at {REDIS_URL} is required (HALL_REQUIRE_SERVICES=1): {exc!r}")
        pytest.skip(f"Redis at {REDIS_URL} unavailable ({exc.__class__.__name__})")
    return message_queue_url()


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def wait_until_serving(server: Server, http: requests.Session) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"server on {server.port} exited:\n{server.output()}")
        with suppress(requests.ConnectionError):
            if http.get(f"{server.url}{API}/halls/ZMD/services", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    pytest.fail(f"server on {server.port} did not start:\n{server.output()}")


@pytest.fixture
def servers(redis_url: str, tmp_path: Path) -> Iterator[tuple[Server, Server, Path]]:
    database = tmp_path / "hall.db"
    env = {
        **os.environ,
        "HALL_DATABASE_URL": f"sqlite:///{database}",
        "HALL_INSTANCE_PATH": str(tmp_path / "instance"),
        "HALL_MESSAGE_QUEUE": redis_url,
    }
    env.pop("HALL_SECRET_KEY", None)  # the processes must share the instance folder's key
    init = subprocess.run(
        [str(HALL_BIN), "init", "--demo", "--always-open"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    assert "clerk01" in init.stdout
    started: list[Server] = []
    try:
        for name in ("one", "two"):
            port = free_port()
            log_path = tmp_path / f"server-{name}.log"
            log = log_path.open("wb")
            process = subprocess.Popen(
                [str(HALL_BIN), "serve", "--port", str(port)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            started.append(Server(port, process, log_path, log))
        with requests.Session() as http:
            for server in started:
                wait_until_serving(server, http)
        yield started[0], started[1], database
    finally:
        for server in started:
            server.stop()


class Listener:
    """A python-socketio client that records every event it gets."""

    def __init__(self) -> None:
        self.client = socketio.Client(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self._changed = threading.Condition()
        self.client.on("*", self._record)

    def _record(self, event: str, data: Any = None) -> None:
        with self._changed:
            self.events.append((event, data))
            self._changed.notify_all()

    def wait_for(self, predicate: Any, what: str) -> tuple[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        with self._changed:
            while True:
                for item in self.events:
                    if predicate(*item):
                        return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    names = [name for name, _ in self.events]
                    pytest.fail(f"no {what} within {TIMEOUT} s; got {names}")
                self._changed.wait(remaining)


def stored_event_id(database: Path, ticket_id: str, kind: str) -> str:
    with closing(sqlite3.connect(database)) as conn:
        row = conn.execute(
            "SELECT event_id FROM events WHERE ticket_id = ? AND type = ?", (ticket_id, kind)
        ).fetchone()
    assert row is not None, (ticket_id, kind)
    return str(row[0])


def test_events_of_one_process_reach_clients_of_the_other(
    servers: tuple[Server, Server, Path],
) -> None:
    one, two, database = servers
    listener = Listener()
    listener.client.connect(two.url, wait_timeout=10)
    try:
        listener.client.emit("join", {"hall": "ZMD"})
        _, snapshot = listener.wait_for(lambda n, d: n == "snapshot", "snapshot")
        assert snapshot["room"] == "hall:ZMD"
        with requests.Session() as http:
            issued = http.post(
                f"{one.url}{API}/halls/ZMD/tickets",
                json={"service": "SOCIAL", "channel": "app"},
                timeout=10,
            )
            assert issued.status_code == 201, issued.text
            ticket = issued.json()
            login = http.post(
                f"{one.url}{API}/auth/token",
                json={"username": "clerk10", "password": "zmd-clerk-2026"},
                timeout=10,
            )
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            windows = http.get(f"{one.url}{API}/halls/ZMD/windows", timeout=10).json()
            (window,) = [w for w in windows["windows"] if w["number"] == 10]
            opened = http.post(
                f"{one.url}{API}/windows/{window['id']}/open", headers=headers, timeout=10
            )
            assert opened.status_code == 200, opened.text
            called = http.post(
                f"{one.url}{API}/windows/{window['id']}/call-next", headers=headers, timeout=10
            )
            assert called.status_code == 200, called.text
            assert called.json()["id"] == ticket["id"]
            # One secret key for both processes: process 1's token is good on process 2.
            detail = http.get(f"{two.url}{API}/windows/{window['id']}", headers=headers, timeout=10)
            assert detail.status_code == 200, detail.text
            assert detail.json()["current"]["number"] == ticket["number"]

        # Match on the stored event ids: other runs may share this Redis channel.
        issued_id = stored_event_id(database, ticket["id"], "ticket.issued")
        called_id = stored_event_id(database, ticket["id"], "ticket.called")
        _, got_issued = listener.wait_for(
            lambda n, d: n == "ticket.issued" and d.get("event_id") == issued_id, "ticket.issued"
        )
        _, got_called = listener.wait_for(
            lambda n, d: n == "ticket.called" and d.get("event_id") == called_id, "ticket.called"
        )
        assert got_issued["ticket_number"] == ticket["number"]
        assert (got_called["ticket_number"], got_called["window"]) == (ticket["number"], "10")
        mine = [
            name
            for name, data in listener.events
            if isinstance(data, dict) and data.get("event_id") in {issued_id, called_id}
        ]
        assert mine == ["ticket.issued", "ticket.called"]  # each once, in order
    finally:
        listener.client.disconnect()
    for server in (one, two):
        assert "Traceback" not in server.output(), server.output()
