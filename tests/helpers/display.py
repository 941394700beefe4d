"""Helpers of the display tests: named clerks, a stand-in espeak-ng, a real ``hall serve``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

HALL = str(Path(sys.executable).parent / "hall")  # the entry point of this environment
CLERK_PASSWORD = "zmd-clerk-2026"
# Public screens may show a clerk's display name; these tests give clerks names of their own.
CLERK_NAMES = {"clerk10": "李晓梅 · 工号 1010", "clerk11": "王建国 · 工号 1011"}
MORNING = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


FAKE_ESPEAK = """#!/bin/sh
case "$1" in
  --voices*)
    echo "Pty Language Age/Gender VoiceName File Other Languages"
    echo " 5  cmn --/M Chinese_(Mandarin) sit/cmn"
    echo " 5  cmn-latn-pinyin --/M Chinese_(Mandarin,_latin_as_Pinyin) sit/cmn-Latn-pinyin"
    exit 0;;
esac
out=""; previous=""
for arg in "$@"; do [ "$previous" = "-w" ] && out="$arg"; previous="$arg"; done
text=$(cat)
echo "$1 $2 $3 $4 $5 $6|$text" >> "$0.calls"
cp "$0.wav" "$out"
"""


def fake_espeak(folder: Path) -> Path:
    """A stand-in for espeak-ng: logs its options and text, "says" a tenth of a second."""
    path = folder / "espeak-ng"
    path.write_text(FAKE_ESPEAK)
    path.chmod(0o755)
    with wave.open(f"{path}.wav", "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(22050)
        recording.writeframes(b"\x00\x01" * 2205)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class HallServer:
    """``hall serve`` in a subprocess; ``restart()`` keeps its database, folder and port."""

    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HALL_")}
        env.update(
            HALL_DATABASE_URL=f"sqlite:///{self.root / 'hall.db'}",
            HALL_INSTANCE_PATH=str(self.root / "instance"),
            # The tests take app tickets from one address faster than a citizen would.
            HALL_RATE_LIMIT_TICKETS="10000 per minute",
            PYTHONUNBUFFERED="1",
        )
        return env

    def init(self) -> None:
        subprocess.run(
            [HALL, "init", "--demo", "--always-open"],
            env=self.env,
            cwd=self.root,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def start(self) -> None:
        log = (self.root / "serve.log").open("ab")
        try:
            self.process = subprocess.Popen(
                [HALL, "serve", "--port", str(self.port)],
                env=self.env,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()  # the child has its own copy
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hall serve exited: {self.log()[-2000:]}")
            try:
                if requests.get(f"{self.url}/api/v1/halls/ZMD/windows", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"hall serve did not answer: {self.log()[-2000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        path = self.root / "serve.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- the JSON API, as clerks and citizens use it --

    def auth(self, username: str, password: str = CLERK_PASSWORD) -> dict[str, str]:
        if username not in self.tokens:
            response = requests.post(
                f"{self.url}/api/v1/auth/token",
                json={"username": username, "password": password},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            self.tokens[username] = response.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def issue(self, service: str) -> dict[str, Any]:
        response = requests.post(
            f"{self.url}/api/v1/halls/ZMD/tickets",
            json={"service": service, "channel": "app"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def window(self, number: int, action: str, clerk: str, **body: Any) -> requests.Response:
        """A clerk's action on a window (window ids equal numbers in a fresh demo hall)."""
        return requests.post(
            f"{self.url}/api/v1/windows/{number}/{action}",
            headers=self.auth(clerk),
            json=body or None,
            timeout=10,
        )

    def windows(self) -> dict[int, dict[str, Any]]:
        """Every window of ZMD by number, as the public API lists them."""
        response = requests.get(f"{self.url}/api/v1/halls/ZMD/windows", timeout=10)
        assert response.status_code == 200, response.text
        return {w["number"]: w for w in response.json()["windows"]}

    def ticket(self, ticket_id: str, action: str, clerk: str) -> requests.Response:
        return requests.post(
            f"{self.url}/api/v1/tickets/{ticket_id}/{action}", headers=self.auth(clerk), timeout=10
        )

    def call_next(self, number: int, clerk: str) -> dict[str, Any]:
        response = self.window(number, "call-next", clerk)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]
