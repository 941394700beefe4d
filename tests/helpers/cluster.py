"""Clients of the loopback cluster: staff tokens, pinned HTTP sessions, Socket.IO listeners."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import engineio.packet
import pytest
import requests
import socketio
import socketio.packet
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, rule
from itsdangerous import URLSafeTimedSerializer
from schemathesis import GenerationMode
from sqlalchemy import create_engine, text

from deploy.cluster import Cluster, _psycopg

API = "/api/v1"
NO_TICKET = "0" * 32
TIMEOUT = 20.0


def token(cluster: Cluster, username: str, role: str) -> str:
    """A bearer token as the servers sign it (hall_app.auth.issue_token; the login endpoint is
    rate-limited per client address, and every test client here is 127.0.0.1)."""
    serializer = URLSafeTimedSerializer(cluster.base_env["HALL_SECRET_KEY"], salt="hall-api-token")
    return str(serializer.dumps({"u": username, "r": role}))


def cookie_for(cluster: Cluster, node: str) -> str:
    """A ``hall_node`` cookie value that nginx sends to ``node``."""
    for i in range(200):
        value = f"pin-{node}-{i}"
        served = requests.get(f"{cluster.url}/healthz", cookies={"hall_node": value}, timeout=5)
        if served.json()["node"] == node:
            return value
    raise AssertionError(f"no cookie reaches {node}")


def session_on(cluster: Cluster, node: str, bearer: str | None = None) -> requests.Session:
    """An HTTP session through nginx that sticks to one process."""
    http = requests.Session()
    http.cookies.set("hall_node", cookie_for(cluster, node))
    if bearer:
        http.headers["Authorization"] = f"Bearer {bearer}"
    return http


class Listener:
    """A Socket.IO client through nginx, pinned to one process by its cookie; on every
    (re)connect it joins the room again and gets a fresh snapshot.

    Events are recorded in the order they arrive on the wire: python-engineio hands each
    message to its handler in a new thread, so handler order is not arrival order.
    """

    def __init__(self, cluster: Cluster, node: str, room: dict[str, Any]) -> None:
        self.cluster = cluster
        self.cookie = cookie_for(cluster, node)
        self.room = room
        self.events: list[tuple[str, Any, float]] = []
        self.connects = 0
        self.changed = threading.Condition()
        self.client = socketio.Client(
            reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1
        )
        self.client.on("connect", self._joined)
        receive = self.client.eio._receive_packet

        def arrived(pkt: Any) -> None:
            if pkt.packet_type == engineio.packet.MESSAGE and isinstance(pkt.data, str):
                decoded = socketio.packet.Packet(encoded_packet=pkt.data)
                if decoded.packet_type == socketio.packet.EVENT and decoded.data:
                    self._record(*decoded.data[:2])
            receive(pkt)

        self.client.eio._receive_packet = arrived

    def connect(self, snapshot: bool = True) -> Listener:
        self.client.connect(
            self.cluster.url,
            headers={"Cookie": f"hall_node={self.cookie}"},
            transports=["polling", "websocket"],
            wait_timeout=10,
        )
        if snapshot:
            self.wait_for(lambda n, d: n == "snapshot", "snapshot")
        return self

    def _joined(self) -> None:
        with self.changed:
            self.connects += 1
        self.client.emit("join", self.room)

    def _record(self, event: str, data: Any = None) -> None:
        with self.changed:
            self.events.append((event, data, time.time()))
            self.changed.notify_all()

    def node(self) -> str:
        return str(
            requests.get(
                f"{self.cluster.url}/healthz", cookies={"hall_node": self.cookie}, timeout=5
            ).json()["node"]
        )

    def event_ids(self, kinds: tuple[str, ...] = ("ticket.", "window.")) -> list[str]:
        with self.changed:
            return [
                d["event_id"]
                for n, d, _ in self.events
                if n.startswith(kinds) and isinstance(d, dict) and "event_id" in d
            ]

    def wait_for(self, predicate: Callable[[str, Any], bool], what: str) -> Any:
        deadline = time.monotonic() + TIMEOUT
        with self.changed:
            while True:
                for name, data, _ in self.events:
                    if predicate(name, data):
                        return data
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"no {what} within {TIMEOUT} s")
                self.changed.wait(remaining)

    def wait_for_ids(self, wanted: set[str]) -> None:
        deadline = time.monotonic() + TIMEOUT
        with self.changed:
            while not wanted <= set(self.event_ids()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    missing = wanted - set(self.event_ids())
                    pytest.fail(f"{len(missing)} of {len(wanted)} events never arrived")
                self.changed.wait(remaining)

    def close(self) -> None:
        self.client.disconnect()


def query(cluster: Cluster, sql: str, **params: Any) -> list[Any]:
    """Rows straight from the cluster's database (not through the cuttable proxy)."""
    engine = create_engine(_psycopg(cluster.database_url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def hall_workflow(schema: Any, base: str, headers: dict[str, str]) -> type[RuleBasedStateMachine]:
    """A Hypothesis state machine of a hall's day over HTTP, bodies from the OpenAPI schema.

    Rules issue tickets, open windows, call, and then act on the tickets and windows they got:
    start, finish, no-show, transfer, cancel, rate, recall, pause, resume, close. Each request
    body is drawn from the operation's schema, usually valid, sometimes not. Every answer must
    be a JSON 2xx/4xx or the 503 of a busy database, never another 5xx.

    What is drawn never depends on the server's answers (a failed issue still adds a ticket id
    to the bundle, one that does not exist): the server's state carries over from one scenario
    to the next, and Hypothesis must not see that as flaky generation.
    """
    services = ["SOCIAL", "TAX", "ENT", "HPF", "MEDICAL", "REALTY", "RESIDENCE"]

    def case_of(data: Any, label: str, real: bool, **path: Any) -> Any:
        operation = schema.find_operation_by_label(label)
        mode = GenerationMode.POSITIVE if real else GenerationMode.NEGATIVE
        case = data.draw(operation.as_strategy(mode, path_parameters=path or None))
        if real and isinstance(case.body, dict) and "service" in case.body:
            case.body["service"] = data.draw(st.sampled_from(services))
        return case

    def send(case: Any) -> Any:
        response = case.call(base_url=base, headers=headers, timeout=10)
        assert response.status_code < 500 or response.status_code == 503, (
            f"{case.operation.label} → {response.status_code}: {response.text[:300]}"
        )
        return response

    class HallDay(RuleBasedStateMachine):
        tickets = Bundle("tickets")
        called = Bundle("called")
        windows = Bundle("windows")

        @rule(target=tickets, data=st.data(), real=st.booleans())
        def issue(self, data: Any, real: bool) -> Any:
            case = case_of(data, "POST /api/v1/halls/{hall}/tickets", real, hall="ZMD")
            response = send(case)
            return response.json()["id"] if response.status_code == 201 else NO_TICKET

        @rule(target=windows, window=st.integers(1, 22))
        def open_window(self, window: int) -> int:
            response = requests.post(
                f"{base}{API}/windows/{window}/open", headers=headers, timeout=10
            )
            assert response.status_code in (200, 409), response.text
            return window

        @rule(target=called, window=windows)
        def call_next(self, window: int) -> Any:
            response = requests.post(
                f"{base}{API}/windows/{window}/call-next", headers=headers, timeout=10
            )
            assert response.status_code in (200, 204, 409), response.text
            return response.json()["id"] if response.status_code == 200 else NO_TICKET

        @rule(
            ticket=tickets,
            data=st.data(),
            real=st.booleans(),
            action=st.sampled_from(
                ["start", "finish", "no-show", "transfer", "cancel", "evaluation"]
            ),
        )
        def act_on_ticket(self, ticket: str, data: Any, real: bool, action: str) -> None:
            label = f"POST /api/v1/tickets/{{ticket_id}}/{action}"
            send(case_of(data, label, real, ticket_id=ticket))

        @rule(ticket=called, data=st.data(), real=st.booleans())
        def serve(self, ticket: str, data: Any, real: bool) -> None:
            for action in ("start", "finish", "evaluation"):
                label = f"POST /api/v1/tickets/{{ticket_id}}/{action}"
                send(case_of(data, label, real or action != "evaluation", ticket_id=ticket))

        @rule(ticket=tickets, data=st.data())
        def read_ticket(self, ticket: str, data: Any) -> None:
            send(case_of(data, "GET /api/v1/tickets/{ticket_id}", True, ticket_id=ticket))

        @rule(
            window=windows,
            data=st.data(),
            real=st.booleans(),
            action=st.sampled_from(["recall", "pause", "resume", "close"]),
        )
        def act_on_window(self, window: int, data: Any, real: bool, action: str) -> None:
            label = f"POST /api/v1/windows/{{window_id}}/{action}"
            send(case_of(data, label, real, window_id=window))

    return HallDay
