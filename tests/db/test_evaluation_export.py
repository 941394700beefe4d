"""``hall evaluations export --date``: the day's file, and the signed, retried push to a local
fake of the provincial platform (an HTTP server on loopback, checking the signature)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import pytest
from click.testing import CliRunner

from hall_app.cli import main
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.adapters.upstream_push import PushSettings, UpstreamPush, signature
from queue_engine.domain.clock import FrozenClock
from queue_engine.services.evaluations import EvaluationDesk, Rating
from queue_engine.services.tickets import QueueEngine

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "evaluations-export.schema.json").read_text("utf-8")
)
SECRET = "whsec_" + base64.b64encode(b"provincial-platform-secret").decode()
MONDAY = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in the hall


class Platform(BaseHTTPRequestHandler):
    """The provincial platform: answers the queued statuses, then 200; keeps what it got."""

    statuses: ClassVar[list[int]] = []
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"headers": dict(self.headers), "body": body})
        status = self.statuses.pop(0) if self.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def platform() -> Iterator[str]:
    Platform.statuses, Platform.received = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Platform)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/haocaiping"
    server.shutdown()
    server.server_close()


def _verify(received: dict[str, Any]) -> dict[str, Any]:
    headers, body = received["headers"], received["body"]
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    document: dict[str, Any] = json.loads(body)
    return document


@pytest.fixture
def rated_day(tmp_path: Path) -> dict[str, str]:
    env = {
        "HALL_DATABASE_URL": f"sqlite:///{tmp_path / 'hall.db'}",
        "HALL_INSTANCE_PATH": str(tmp_path),
    }
    assert CliRunner().invoke(main, ["init", "--demo", "--always-open"], env=env).exit_code == 0
    db = Database(env["HALL_DATABASE_URL"])
    engine = QueueEngine(db, FrozenClock(MONDAY))
    ratings = EvaluationDesk(engine, b"cli-test-rating-secret-0123")
    with UnitOfWork(db, write=False) as uow:
        window = db.hall_config(uow.conn, "ZMD")[1].window_by_number(10).id
    engine.open_window(window, "clerk10")
    for score, reasons in ((5, ()), (1, ("态度",))):
        engine.issue("ZMD", "SOCIAL")
        ticket = engine.call_next(window)
        assert ticket is not None
        engine.finish(engine.start(ticket.id).id)
        ratings.evaluate(ticket.id, score, "", "slip_qr", Rating(reasons=reasons))
    db.dispose()
    return env


def test_the_daily_file_follows_the_schema(rated_day: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = CliRunner().invoke(
        main, ["evaluations", "export", "--date", "2026-11-02", "--out", str(out)], env=rated_day
    )
    assert result.exit_code == 0, result.output
    document = json.loads((out / "haocaiping-ZMD-2026-11-02.json").read_text("utf-8"))
    jsonschema.validate(document, SCHEMA)
    assert [r["level"] for r in document["records"]] == [5, 1]
    assert document["records"][1]["bad_reasons"] == ["态度"]
    bad = CliRunner().invoke(main, ["evaluations", "export", "--date", "2026-11-31"], env=rated_day)
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_the_push_is_signed_and_retried_until_the_platform_takes_it(
    rated_day: dict[str, str], platform: str
) -> None:
    Platform.statuses = [503, 502]
    env = {
        **rated_day,
        "HALL_EVALUATIONS_PUSH_URL": platform,
        "HALL_EVALUATIONS_PUSH_SECRET": SECRET,
        "HALL_EVALUATIONS_PUSH_BACKOFF": "0.01",
    }
    result = CliRunner().invoke(
        main, ["evaluations", "export", "--date", "2026-11-02", "--hall", "ZMD"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "pushed after 3 attempt(s) (HTTP 200)" in result.output
    assert len(Platform.received) == 3
    assert len({r["headers"]["webhook-id"] for r in Platform.received}) == 1  # one message
    document = _verify(Platform.received[-1])
    jsonschema.validate(document, SCHEMA)
    assert document["hall"] == "ZMD" and len(document["records"]) == 2


def test_a_refused_document_is_not_retried_and_a_dead_platform_fails_the_command(
    platform: str,
) -> None:
    sleeps: list[float] = []
    settings = PushSettings(url=platform, secret=b"k" * 16, attempts=4, backoff=0.5)
    push = UpstreamPush(settings, sleep=sleeps.append)
    Platform.statuses = [422]
    refused = push.push({"hall": "ZMD", "records": []})
    assert (refused.delivered, refused.attempts, refused.status) == (False, 1, 422)
    dead = UpstreamPush(
        PushSettings(url="http://127.0.0.1:9/", secret=b"k" * 16), sleep=sleeps.append
    )
    gone = dead.push({"hall": "ZMD", "records": []})
    assert (gone.delivered, gone.attempts, gone.status) == (False, 4, None)
    assert sleeps == [1.0, 2.0, 4.0]  # backoff doubles
    assert signature(b"k", "id", 1, b"{}") == signature(b"k", "id", 1, b"{}")
    assert signature(b"k", "id", 1, b"{}") != signature(b"k", "id", 2, b"{}")
