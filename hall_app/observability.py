"""Structured logs without personal data, and Prometheus metrics.

Logs: one JSON object a line (``HALL_LOG_FORMAT=json``, the production default). The access
log names the *route* (``/api/v1/tickets/<ticket_id>``), never the path: ticket ids and
appointment codes are the holders' keys, and they stay out of logs. A filter also masks
anything in a message that looks like a phone number, a resident ID number or a long token.

Metrics: request counts and latency per route, tickets issued and called, queue lengths (read
from the database when scraped), and the push latency of live events. With
``PROMETHEUS_MULTIPROC_DIR`` set (one folder shared by the server processes of a machine)
``/metrics`` of any process reports the sum over all of them; without it, each process reports
its own figures with its ``node`` label.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from queue_engine.bootstrap import HallServices
from queue_engine.domain.events import EventType, StoredEvent

ACCESS = logging.getLogger("hall.access")

REQUESTS = Counter(
    "hall_http_requests_total", "HTTP requests by route and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "hall_http_request_duration_seconds",
    "HTTP request latency by route",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
ISSUED = Counter("hall_tickets_issued_total", "Tickets issued", ["hall", "service", "channel"])
CALLED = Counter("hall_tickets_called_total", "Tickets called to a window", ["hall"])
PUSH = Histogram(
    "hall_push_latency_seconds",
    "From a committed change to its live event handed to Socket.IO",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)

# Personal data and secrets that must never reach a log line.
_MASKS = (
    (re.compile(r"\b\d{17}[\dXx]\b"), "<id-number>"),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "<phone>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<id>"),
    (re.compile(r"(Bearer\s+)\S+"), r"\1<token>"),
    (re.compile(r"\b(ticket|appointment|a|t):[A-Za-z0-9_-]{6,}"), r"\1:<id>"),
)


def redact(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks personal data in every record's message (arguments merged first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extra fields."""

    EXTRA = ("method", "route", "status", "duration_ms", "node")

    def __init__(self, node: str) -> None:
        super().__init__()
        self.node = node

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "node": self.node,
        }
        for key in self.EXTRA:
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


def configure_logging(log_format: str, node: str) -> None:
    """Root handler on stderr (JSON or text), PII filter on it; no Werkzeug request lines."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "hall", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.hall = True  # type: ignore[attr-defined]
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(node))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.setLevel(logging.INFO)
    # Werkzeug's request lines carry raw paths (ticket ids, appointment codes): ours replace them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def register_request_metrics(app: Flask) -> None:
    @app.before_request
    def _started() -> None:
        g.hall_started = time.perf_counter()

    @app.after_request
    def _finished(response: Any) -> Any:
        started = g.get("hall_started")
        if started is None or request.path.startswith("/socket.io"):
            return response
        elapsed = time.perf_counter() - started
        route = _route()
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(route).observe(elapsed)
        ACCESS.info(
            "%s %s %s",
            request.method,
            route,
            response.status_code,
            extra={
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )
        return response


def observe_events(stored: Sequence[StoredEvent]) -> None:
    """An engine subscriber: ticket counters and the push latency of what was just committed."""
    now = datetime.now(UTC)
    for item in stored:
        e = item.event
        if e.type is EventType.TICKET_ISSUED:
            ISSUED.labels(e.hall, e.service or "", e.channel or "").inc()
        elif e.type is EventType.TICKET_CALLED:
            CALLED.labels(e.hall).inc()
        delay = (now - e.ts).total_seconds()
        if 0 <= delay < 60:  # a test's frozen clock is not a latency
            PUSH.observe(delay)


class QueueCollector(Collector):
    """Waiting tickets per hall and service, read from the database when scraped."""

    def __init__(self, state: HallServices) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        length = GaugeMetricFamily(
            "hall_queue_length", "Tickets waiting", labels=["hall", "service"]
        )
        longest = GaugeMetricFamily(
            "hall_queue_longest_wait_seconds", "Longest current wait", labels=["hall", "service"]
        )
        engine = self.state.engine
        for config in engine.halls():
            for queue in engine.queues(config.code):
                length.add_metric([config.code, queue.code], queue.waiting)
                longest.add_metric([config.code, queue.code], queue.longest_wait_minutes * 60)
        yield length
        yield longest


class OutboxCollector(Collector):
    """The outbox (issue 17): rows per status from the database, this process's workers' work."""

    def __init__(self, state: HallServices) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from queue_engine.services.outbox import METRICS

        rows = GaugeMetricFamily("hall_outbox_rows", "Outbox rows by status", labels=["status"])
        for status, n in sorted(self.state.deliveries.counts().items()):
            rows.add_metric([status], n)
        yield rows
        done = GaugeMetricFamily(
            "hall_outbox_deliveries", "Deliveries settled by this process", labels=["outcome"]
        )
        for outcome in ("sent", "failed", "dead", "postponed"):
            done.add_metric([outcome], getattr(METRICS, outcome))
        yield done
        latency = GaugeMetricFamily(
            "hall_outbox_latency_seconds",
            "Cause to hand-over, recent deliveries of this process",
            labels=["quantile"],
        )
        for q in (0.5, 0.99):
            value = METRICS.quantile(q)
            if value is not None:
                latency.add_metric([str(q)], value)
        yield latency


def render_metrics(state: HallServices) -> bytes:
    """The Prometheus text of this process (or of all, in multi-process mode) plus the queues."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        own = generate_latest(registry)
    else:
        own = generate_latest(REGISTRY)
    queues = CollectorRegistry()
    queues.register(QueueCollector(state))
    queues.register(OutboxCollector(state))
    return own + generate_latest(queues)
