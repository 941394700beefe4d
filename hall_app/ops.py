"""What operators and load balancers ask a server process: alive? ready? figures?

``/healthz`` answers as long as the process serves requests (liveness: restart it if not).
``/readyz`` also checks that the database and, when configured, the Redis message queue
answer (readiness: send it traffic only then); 503 with the failing parts otherwise.
``/metrics`` is Prometheus' text format (see ``observability``), for monitoring only: it
answers a bearer token (``HALL_METRICS_TOKEN``) or a client address in ``HALL_METRICS_ALLOW``
(by default loopback, and nothing else once a token is set). Queue lengths and request counts
are no secret of a citizen, but they tell an outsider when the hall is empty and which routes
exist; nginx's template serves the path to loopback only as well.
"""

from __future__ import annotations

import hmac
import ipaddress

import redis
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from .config import LOOPBACK, Settings
from .errors import error_response
from .observability import register_request_metrics, render_metrics
from .security import init_security
from .state import hall_services

ops = Blueprint("ops", __name__)
PROBE_TIMEOUT = 1.0


@ops.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok", "node": current_app.config["HALL_NODE"]})


@ops.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = {"database": _database_ok(), "message_queue": _message_queue_ok()}
    ready = all(value in ("ok", "not configured") for value in checks.values())
    body = {
        "status": "ready" if ready else "unavailable",
        "node": current_app.config["HALL_NODE"],
        "checks": checks,
    }
    return jsonify(body), 200 if ready else 503


@ops.get("/metrics")
def metrics() -> Response:
    refused = _refuse_scraper()
    if refused is not None:
        return refused
    return Response(render_metrics(hall_services()), mimetype="text/plain; version=0.0.4")


def _refuse_scraper() -> Response | None:
    """None for the metrics token or an allowed address; else 401 (a token is set) or 403."""
    token = current_app.config.get("HALL_METRICS_TOKEN") or ""
    header = request.headers.get("Authorization", "")
    bearer = header[7:].strip() if header.startswith("Bearer ") else ""
    if token and bearer and hmac.compare_digest(bearer.encode(), token.encode()):
        return None
    if _allowed(request.remote_addr, current_app.config.get("HALL_METRICS_ALLOW", LOOPBACK)):
        return None
    if token:
        response = error_response(401, "unauthorized", "/metrics needs its bearer token")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return error_response(403, "forbidden", "/metrics answers the monitoring addresses only")


def _allowed(address: str | None, networks: tuple[str, ...]) -> bool:
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped is not None:
        client = client.ipv4_mapped  # ::ffff:127.0.0.1 from a dual-stack socket
    return any(client in ipaddress.ip_network(network, strict=False) for network in networks)


def _database_ok() -> str:
    try:
        hall_services().accounts.database_ok()
    except SQLAlchemyError as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _message_queue_ok() -> str:
    url = current_app.config.get("MESSAGE_QUEUE")
    if not url:
        return "not configured"
    client = redis.Redis.from_url(
        url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        return f"error: {exc.__class__.__name__}"
    finally:
        client.close()
    return "ok"


def init_ops(app: Flask, settings: Settings) -> None:
    """Health, readiness and metrics endpoints, request metrics and logs, HTTP hardening."""
    app.config.setdefault("HALL_NODE", settings.node)
    init_security(app, settings)
    register_request_metrics(app)
    app.register_blueprint(ops)
