"""A fake identity platform (电子证照 / 政务 app) on loopback, for tests and demos (issue 18).

It speaks the protocol of ``queue_engine.adapters.eid``: ``POST /resolve`` with a signed JSON
body ``{"app_id", "code", "nonce", "timestamp"}`` → ``200 {"id_number", "name"}``; ``410
{"error": "expired"}`` for a code past its lifetime; ``404 {"error": "invalid"}`` for a code it
never issued or already resolved (a code resolves once); ``401`` for a wrong app id or
signature, a stale timestamp or a nonce seen before. ``issue(id_number, name, ttl)`` makes a
code as the citizen's app would show it; for demos, ``GET /demo-code?card=adult`` (or
``elder``) answers a fresh code of a synthetic card of the fake reader as text, to paste into
the fake reader's page. It logs nothing.

    python -m tests.fakes.eid_platform [--port 18651] [--key KEY]
"""

from __future__ import annotations

import argparse
import hmac
import json
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from queue_engine.adapters.eid import (
    APP_ID_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)
from tests.fakes.card_reader import DEMO_CARDS

DEFAULT_PORT = 18651
APP_ID = "hall-demo"
KEY = "demo-eid-key-0123456789abcdef0123456789"
MAX_SKEW = 300  # seconds a request's timestamp may be off


class FakeEidPlatform:
    """An identity platform on 127.0.0.1 (``port=0``: any free port)."""

    def __init__(self, port: int = 0, *, app_id: str = APP_ID, key: str = KEY) -> None:
        self.app_id = app_id
        self.key = key
        self._codes: dict[str, tuple[str, str, float]] = {}  # code → (id_number, name, until)
        self._nonces: set[str] = set()
        self._lock = threading.Lock()
        self.requests = 0
        self.refused = 0  # requests with a bad signature, app id, timestamp or nonce
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return  # its answers carry ID numbers

            def _send(self, status: int, body: dict[str, Any] | None = None) -> None:
                data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if not self.path.startswith("/demo-code"):
                    self._send(404, {"error": "not_found"})
                    return
                card = DEMO_CARDS["elder" if "card=elder" in self.path else "adult"]
                data = platform.issue(*card).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                platform.requests += 1
                if self.path != "/resolve":
                    self._send(404, {"error": "not_found"})
                    return
                if not platform._signed(self.headers, raw):
                    platform.refused += 1
                    self._send(401, {"error": "signature"})
                    return
                try:
                    code = str(json.loads(raw)["code"])
                except (ValueError, KeyError, TypeError):
                    self._send(400, {"error": "invalid"})
                    return
                status, body = platform._resolve(code)
                self._send(status, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/resolve"

    def issue(self, id_number: str, name: str, ttl: float = 120.0) -> str:
        """A QR code's text for this identity, valid ``ttl`` seconds (negative: expired)."""
        code = "EID1." + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = (id_number, name, time.time() + ttl)
        return code

    def _signed(self, headers: Any, raw: bytes) -> bool:
        timestamp = headers.get(TIMESTAMP_HEADER) or ""
        nonce = headers.get(NONCE_HEADER) or ""
        given = headers.get(SIGNATURE_HEADER) or ""
        if headers.get(APP_ID_HEADER) != self.app_id or not timestamp.isdigit() or not nonce:
            return False
        if abs(time.time() - int(timestamp)) > MAX_SKEW:
            return False
        if not hmac.compare_digest(given, signature(self.key, timestamp, nonce, raw)):
            return False
        with self._lock:
            if nonce in self._nonces:
                return False
            self._nonces.add(nonce)
        return True

    def _resolve(self, code: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            found = self._codes.pop(code, None)  # a code resolves once
        if found is None:
            return 404, {"error": "invalid"}
        id_number, name, until = found
        if time.time() > until:
            return 410, {"error": "expired"}
        return 200, {"id_number": id_number, "name": name}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--key", default=KEY)
    args = parser.parse_args(argv)
    try:
        platform = FakeEidPlatform(args.port, key=args.key)
    except OSError as exc:
        print(f"fake identity platform not started: {exc}", file=sys.stderr)
        return 1
    print("URL", platform.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    platform.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
