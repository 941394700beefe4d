"""A fake resident-ID card reader bridge: the kiosk PC's local HTTP/JSON service (issue 18).

A real kiosk has a card reader (身份证阅读器) on USB and a small bridge program that answers the
kiosk page on loopback. The protocol is the one the kiosk page speaks:

- ``GET /card`` → ``200 {"id_number", "name"}`` while a card lies on the reader, ``204`` when none;
- ``GET /qr`` → ``200 {"code"}`` once for each QR code scanned (an electronic ID or the
  government app's code, the text as scanned), ``204`` when nothing new was scanned;
- CORS: any page origin may read (``Access-Control-Allow-Origin``), with the Private Network
  Access answer (``Access-Control-Allow-Private-Network: true``) to the browser's preflight.

This fake adds what a person does with a card, for tests and demos: ``place(id_number, name)``
and ``take()`` from Python, or ``POST /card {id_number, name}`` / ``DELETE /card`` over
HTTP, ``scan(code)`` or ``POST /qr {code}`` for a QR code held to the scanner, and a small
page at ``/`` with buttons to place a synthetic card and take it away, and a field to scan a
code. It keeps only the card lying on it and the last scan, logs no request and never writes
anything down.

    python -m tests.fakes.card_reader [--port 18650]
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_PORT = 18650
# Synthetic cards with valid GB 11643 check digits: one born 1950 (elderly), one born 1990.
DEMO_CARDS = {
    "elder": ("110101195003071235", "王秀英"),
    "adult": ("110105199003070025", "李明"),
}

PAGE = """<!doctype html><meta charset="utf-8"><title>模拟读卡器</title>
<style>body{font:18px sans-serif;margin:2em}
button{font-size:18px;margin:.3em;padding:.4em 1em}</style>
<h1>模拟身份证读卡器 (fake card reader)</h1><p id="s"></p>
<button data-card="elder">放入长辈身份证 (1950)</button>
<button data-card="adult">放入身份证 (1990)</button>
<button data-card="">取走身份证</button>
<p><input id="qr" size="40" placeholder="二维码内容 (QR code text)">
<button data-qr>扫码</button></p>
<script src="/page.js"></script>"""

PAGE_JS = """const s = document.getElementById("s");
const cards = %s;
async function state() {
  const r = await fetch("/card");
  s.textContent = r.status === 200 ? "读卡器上有卡" : "读卡器上没有卡";
}
document.addEventListener("click", async (e) => {
  const b = e.target.closest("button"); if (!b) return;
  if (b.hasAttribute("data-qr")) {
    const code = document.getElementById("qr").value;
    await fetch("/qr", {method: "POST", body: JSON.stringify({code: code})});
    return;
  }
  const card = cards[b.dataset.card];
  await fetch("/card", card ? {method: "POST", body: JSON.stringify(
    {id_number: card[0], name: card[1]})} : {method: "DELETE"});
  state();
});
state();"""


class FakeCardReader:
    """A card reader bridge on 127.0.0.1 (``port=0``: any free port)."""

    def __init__(self, port: int = 0) -> None:
        self._card: dict[str, str] | None = None
        self._scanned: str | None = None  # the last QR code scanned, until the page reads it
        self._lock = threading.Lock()
        self.reads = 0  # GET /card answered with a card
        reader = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return  # a reader bridge never logs: its answers carry ID numbers

            def _send(self, status: int, body: bytes = b"", kind: str = "") -> None:
                self.send_response(status)
                self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
                self.send_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "Content-Type")
                self.send_header("Access-Control-Allow-Private-Network", "true")
                self.send_header("Vary", "Origin")
                self.send_header("Cache-Control", "no-store")
                if kind:
                    self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_OPTIONS(self) -> None:
                self._send(204)

            def do_GET(self) -> None:
                if self.path == "/card":
                    card = reader.card()
                    if card is None:
                        self._send(204)
                    else:
                        reader.reads += 1
                        self._send(200, json.dumps(card).encode(), "application/json")
                elif self.path == "/qr":
                    code = reader.scanned()
                    if code is None:
                        self._send(204)
                    else:
                        self._send(200, json.dumps({"code": code}).encode(), "application/json")
                elif self.path == "/":
                    self._send(200, PAGE.encode(), "text/html; charset=utf-8")
                elif self.path == "/page.js":
                    js = PAGE_JS % json.dumps(DEMO_CARDS)
                    self._send(200, js.encode(), "text/javascript; charset=utf-8")
                else:
                    self._send(404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                    if self.path == "/qr":
                        reader.scan(str(body["code"]))
                        self._send(204)
                        return
                    reader.place(str(body["id_number"]), str(body.get("name") or ""))
                except (ValueError, KeyError, TypeError):
                    self._send(400)
                    return
                self._send(204)

            def do_DELETE(self) -> None:
                reader.take()
                self._send(204)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def card(self) -> dict[str, str] | None:
        with self._lock:
            return None if self._card is None else dict(self._card)

    def place(self, id_number: str, name: str) -> None:
        """A citizen lays a card on the reader."""
        with self._lock:
            self._card = {"id_number": id_number, "name": name}

    def take(self) -> None:
        """The citizen takes the card away."""
        with self._lock:
            self._card = None

    def scan(self, code: str) -> None:
        """A citizen holds an electronic ID's (or the app's) QR code to the scanner."""
        with self._lock:
            self._scanned = code

    def scanned(self) -> str | None:
        """The code scanned since the last call (a scan is read once), None when none."""
        with self._lock:
            code, self._scanned = self._scanned, None
            return code

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    try:
        reader = FakeCardReader(args.port)
    except OSError as exc:  # a real bridge (or another demo) already has the port
        print(f"fake card reader not started: {exc}", file=sys.stderr)
        return 1
    print("URL", reader.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    reader.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
