"""Production settings, HTTP hardening, health and metrics, logs without personal data.

In-process on SQLite: what one server process does, whatever sits in front of it.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall_app import create_app, server
from hall_app.auth import issue_token
from hall_app.config import ConfigError, Settings
from hall_app.live import LivePublisher
from hall_app.live_redis import OrderedRedisManager
from hall_app.observability import JsonFormatter, RedactingFilter, redact
from hall_app.security import CSP, HSTS
from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.access import Actor, Role
from queue_engine.domain.accounts import check_password
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.errors import InvalidInput
from queue_engine.seed import demo_hall
from queue_engine.services.admin import AdminDesk, NewUser

API = "/api/v1"
SECRET = "hardening-tests-secret-0123456789abcdef"
PEPPER = "hardening-tests-pepper-0123456789abcdef"
MORNING = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
PG_URL = "postgresql://hall@db.internal/hall"


@pytest.fixture(scope="module")
def database(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    target = tmp_path_factory.mktemp("hardening") / "hall.db"
    shutil.copy(sqlite_template, target)
    url = f"sqlite:///{target}"
    db = Database(url)
    desk = AdminDesk(db, FrozenClock(MORNING))
    desk.seed_hall(demo_hall(always_open=True))
    desk.seed_users([NewUser("kiosk", "zmd-kiosk-2026", Role.KIOSK, "ZMD")])
    db.dispose()
    yield url


@pytest.fixture
def make(database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    monkeypatch.setenv("HALL_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HALL_SECRET_KEY", SECRET)
    for name in ("HALL_MESSAGE_QUEUE", "HALL_DATABASE_URL", "HALL_ENV", "HALL_CORS_ORIGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(LivePublisher, "ensure_refresher", lambda self: None)
    apps: list[Any] = []

    def build(**config: Any) -> Any:
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": database,
                "RATELIMIT_ENABLED": False,
                "PROPAGATE_EXCEPTIONS": False,
                **config,
            },
            clock=FrozenClock(MORNING),
        )
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["hall"].db.dispose()


def kiosk_headers(app: Any) -> dict[str, str]:
    with app.test_request_context():
        token = issue_token(Actor("kiosk", Role.KIOSK, "ZMD", "kiosk"))
    return {"Authorization": f"Bearer {token}"}


def issue(client: Any, **headers: str) -> Any:
    body = {"service": "SOCIAL", "channel": "app"}
    return client.post(f"{API}/halls/ZMD/tickets", json=body, headers=headers)


# -- secrets only from the environment in production ------------------------------------------

PRODUCTION = {
    "HALL_ENV": "production",
    "HALL_SECRET_KEY": SECRET,
    "HALL_PII_PEPPER": PEPPER,
    "HALL_PII_KEY": "k1:" + "A" * 43 + "=",  # 32 zero bytes, base64
    "HALL_DATABASE_URL": PG_URL,
}


@pytest.mark.parametrize(
    "change",
    [
        {"HALL_SECRET_KEY": ""},
        {"HALL_SECRET_KEY": "short-secret"},
        {"HALL_PII_PEPPER": ""},
        {"HALL_PII_PEPPER": SECRET},
        {"HALL_DATABASE_URL": "sqlite:///hall.db"},
        {"HALL_PII_KEY": ""},
    ],
    ids=["no-secret", "short-secret", "no-pepper", "pepper-is-secret", "sqlite", "no-pii-key"],
)
def test_production_refuses_to_start_without_secrets_from_the_environment(
    change: dict[str, str],
) -> None:
    environ = {**PRODUCTION, **change}
    with pytest.raises(ConfigError):
        Settings.from_env(environ).check(environ)


def test_production_starts_with_its_secrets_and_development_needs_none() -> None:
    Settings.from_env(PRODUCTION).check(PRODUCTION)
    Settings.from_env({}).check({})
    assert Settings.from_env(PRODUCTION).log_format == "json"


def test_database_pool_bounds_come_from_the_environment() -> None:
    assert (Settings.from_env({}).db_pool_size, Settings.from_env({}).db_max_overflow) == (10, 10)
    chosen = Settings.from_env({"HALL_DB_POOL_SIZE": "4", "HALL_DB_MAX_OVERFLOW": "0"})
    assert (chosen.db_pool_size, chosen.db_max_overflow) == (4, 0)
    for name, value in [
        ("HALL_DB_POOL_SIZE", "0"),
        ("HALL_DB_POOL_SIZE", "ten"),
        ("HALL_DB_MAX_OVERFLOW", "-1"),
        ("HALL_DB_MAX_OVERFLOW", "2.5"),
    ]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})
    engine = Database(PG_URL, pool_size=4, max_overflow=2).engine  # nothing connects yet
    assert (engine.pool.size(), engine.pool._max_overflow, engine.pool._timeout) == (4, 2, 10)  # type: ignore[attr-defined]


def test_create_app_in_production_without_a_secret_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HALL_ENV", "production")
    monkeypatch.setenv("HALL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("HALL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="HALL_SECRET_KEY"):
        create_app()
    assert not (tmp_path / "secret_key").exists()  # no generated key either


# -- headers, CORS, rate limits --------------------------------------------------------------


def test_pages_and_api_carry_the_security_headers_and_no_hsts_without_tls(make: Any) -> None:
    client = make().test_client()
    for path in ("/", f"{API}/halls/ZMD/services", "/healthz"):
        response = client.get(path)
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in response.headers
    assert "'unsafe-inline'" not in CSP and "frame-ancestors 'none'" in CSP


def test_hsts_only_behind_tls(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALL_HTTPS", "1")
    response = make().test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"] == HSTS


def test_cors_is_closed_by_default(make: Any) -> None:
    client = make().test_client()
    response = client.get(f"{API}/halls/ZMD/services", headers={"Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(f"{API}/halls/ZMD/tickets", headers={"Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_cors_allows_exactly_the_listed_origins(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HALL_CORS_ORIGINS", "https://app.hall.example https://web.hall.example")
    client = make().test_client()
    allowed = {"Origin": "https://app.hall.example"}
    preflight = client.options(f"{API}/halls/ZMD/tickets", headers=allowed)
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.hall.example"
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    other = client.get(f"{API}/halls/ZMD/services", headers={"Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in other.headers
    page = client.get("/", headers=allowed)  # pages stay same-origin
    assert "Access-Control-Allow-Origin" not in page.headers


def test_public_tickets_are_rate_limited_per_client_but_kiosks_are_not(make: Any) -> None:
    app = make(RATELIMIT_ENABLED=True, HALL_RATE_LIMITS={"tickets": "2 per minute"})
    client = app.test_client()
    first, second, third = (issue(client) for _ in range(3))
    assert (first.status_code, second.status_code) == (201, 201)
    assert third.status_code == 429
    assert third.get_json()["error"] == "too_many_requests"
    kiosk = kiosk_headers(app)
    for _ in range(4):
        response = client.post(
            f"{API}/halls/ZMD/tickets",
            json={"service": "SOCIAL", "channel": "kiosk"},
            headers=kiosk,
        )
        assert response.status_code == 201
    # A made-up token is no way around the limit.
    assert issue(client, Authorization="Bearer forged").status_code == 429


# -- health, readiness, metrics --------------------------------------------------------------


def test_healthz_and_readyz(make: Any) -> None:
    client = make().test_client()
    assert client.get("/healthz").get_json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "message_queue": "not configured"}


def test_readyz_is_503_when_the_database_is_unreachable(make: Any, tmp_path: Path) -> None:
    app = make(DATABASE_URL=f"sqlite:///{tmp_path}")  # a folder: no database opens there
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"].startswith("error")
    assert client.get("/healthz").status_code == 200  # alive: do not restart it for this
    down = issue(client)
    assert down.status_code == 503
    assert down.get_json()["error"] == "database_unavailable"


def test_metrics_count_requests_by_route_and_tickets_and_read_queues(make: Any) -> None:
    app = make()
    client = app.test_client()
    ticket = issue(client).get_json()["id"]
    assert client.get(f"{API}/tickets/{ticket}").status_code == 200
    text = client.get("/metrics").get_data(as_text=True)
    assert 'hall_tickets_issued_total{channel="app",hall="ZMD",service="SOCIAL"}' in text
    assert 'route="/api/v1/tickets/<string:ticket_id>"' in text
    assert ticket not in text  # routes, never paths
    waiting = [line for line in text.splitlines() if line.startswith("hall_queue_length{")]
    assert any('service="SOCIAL"' in line and not line.endswith(" 0.0") for line in waiting)
    assert "hall_push_latency_seconds_bucket" in text


# -- logs ---------------------------------------------------------------------------------


def test_the_access_log_names_the_route_never_the_ticket_id(
    make: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = make().test_client()
    ticket = issue(client).get_json()["id"]
    with caplog.at_level(logging.INFO, logger="hall.access"):
        client.get(f"{API}/tickets/{ticket}")
    (record,) = [r for r in caplog.records if r.name == "hall.access"]
    assert record.route == "/api/v1/tickets/<string:ticket_id>"  # type: ignore[attr-defined]
    assert ticket not in record.getMessage()


def test_json_log_lines_mask_personal_data() -> None:
    record = logging.LogRecord(
        "hall", logging.INFO, __file__, 1, "booking %s by %s for ticket:%s", None, None
    )
    record.args = ("11010519491231002X", "13812345678", "9f" * 16)
    RedactingFilter().filter(record)
    line = json.loads(JsonFormatter("node1").format(record))
    assert line["message"] == "booking <id-number> by <phone> for ticket:<id>"
    assert line["node"] == "node1" and line["level"] == "info"


@settings(max_examples=50, deadline=None)
@given(
    before=st.text(alphabet="abc :/-", max_size=10),
    phone=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    after=st.text(alphabet="abc :/-", max_size=10),
)
def test_no_phone_survives_redaction(before: str, phone: str, after: str) -> None:
    assert phone not in redact(before + phone + after)


# -- live events while Redis is down ------------------------------------------------------------


def test_events_reach_this_process_clients_while_redis_is_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    manager = OrderedRedisManager(
        f"redis://127.0.0.1:{port}/0", channel="t", redis_options={"socket_connect_timeout": 0.5}
    )
    delivered: list[dict[str, Any]] = []
    monkeypatch.setattr(manager, "_handle_emit", delivered.append)
    manager.emit("ticket.issued", {"ticket_number": "F001"}, to="hall:ZMD")
    assert [(m["event"], m["room"], m["data"]) for m in delivered] == [
        ("ticket.issued", "hall:ZMD", [{"ticket_number": "F001"}])
    ]


# -- staff passwords -------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["admin123", "P@ssw0rd", "woaini1314", "x1" * 129])
def test_common_or_huge_passwords_are_refused(password: str) -> None:
    with pytest.raises(InvalidInput):
        check_password(password)


def test_nginx_drops_idle_upstream_connections_before_the_servers_do() -> None:
    """Else a request sent as gunicorn closes an idle connection fails; a POST is not retried."""
    template = (Path(server.__file__).parents[1] / "deploy" / "nginx.conf.template").read_text()
    upstreams = re.findall(r"upstream \w+ \{\{(.*?)\}\}", template, re.S)
    assert len(upstreams) == 2
    with mock.patch.object(server, "HallServer") as hall_server:
        server.run_gunicorn("127.0.0.1", 0, 4, False, "test")
    backend = hall_server.call_args.args[0]["keepalive"]
    for block in upstreams:
        assert "keepalive " in block
        timeout = re.search(r"keepalive_timeout (\d+)s;", block)
        assert timeout is not None and int(timeout.group(1)) < backend, block
