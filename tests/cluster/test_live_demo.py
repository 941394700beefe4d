"""``hall demo`` drives a real server through its HTTP API, and stops when the server stops."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, suppress
from pathlib import Path

import pytest

from simulations.live_demo import Client, ServerGone, play

HALL_BIN = Path(sys.executable).with_name("hall")


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    env = {
        **os.environ,
        "HALL_DATABASE_URL": f"sqlite:///{tmp_path / 'hall.db'}",
        "HALL_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    init = subprocess.run(
        [str(HALL_BIN), "init", "--demo", "--always-open"],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr
    port = free_port()
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [str(HALL_BIN), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_demo_plays_citizens_and_clerks_through_the_api_and_stops_with_the_server(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    url, process = server
    stats = play(url, speed=1800, days=1, per_day=3000, windows=4, minutes=40, wait=30)
    assert stats.errors == 0
    assert stats.tickets > 100  # ~3000/9 h → ~220 in 40 minutes
    assert stats.called > 10 and stats.finished > 5
    windows = get(f"{url}/api/v1/halls/ZMD/windows")["windows"]
    assert isinstance(windows, list)
    assert sum(w["state"] != "closed" for w in windows) == 4  # the four clerks' windows are open
    services = get(f"{url}/api/v1/halls/ZMD/services")["services"]
    assert isinstance(services, list)
    assert sum(s["waiting"] for s in services) > 0  # four windows cannot keep up with the day

    process.terminate()
    process.wait(timeout=10)
    started = time.monotonic()
    with pytest.raises(ServerGone), suppress(KeyboardInterrupt):
        play(url, speed=1800, days=0, windows=2, wait=0.5, give_up=1.0)
    assert time.monotonic() - started < 10


def test_client_gives_up_on_a_silent_server() -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", give_up=0.2)
    assert client.call("GET", "/halls/ZMD/services").status == 0
    time.sleep(0.3)
    with pytest.raises(ServerGone):
        client.call("GET", "/halls/ZMD/services")
