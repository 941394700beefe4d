"""Live events over Socket.IO: rooms per hall, window and ticket; a snapshot on every join.

Domain events reach clients only after their transaction committed (the engine publishes
after commit). Public rooms (hall boards, citizens' phones) get numbers, never ticket ids or
personal data. A background task per process refreshes queue figures and the positions of the
tickets followed by clients connected to this process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import emit, join_room
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from queue_engine.bootstrap import HallServices
from queue_engine.domain.errors import DomainError, NotFound
from queue_engine.domain.events import EventType, StoredEvent
from queue_engine.services.queries import TicketView

from .errors import status_for
from .extensions import socketio
from .live_redis import OrderedRedisManager
from .serialize import public_event, queue_json, view_json, window_json

log = logging.getLogger(__name__)
REFRESH_SECONDS = 1.0
QUEUE_EVENTS = frozenset(
    {
        EventType.TICKET_ISSUED,
        EventType.TICKET_CALLED,
        EventType.TICKET_CANCELLED,
        EventType.TICKET_TRANSFERRED,
        EventType.TICKET_NO_SHOW,
        EventType.WINDOW_OPENED,
        EventType.WINDOW_CLOSED,
        EventType.WINDOW_PAUSED,
        EventType.WINDOW_RESUMED,
    }
)
WINDOW_EVENTS = frozenset(
    {
        EventType.WINDOW_OPENED,
        EventType.WINDOW_PAUSED,
        EventType.WINDOW_RESUMED,
        EventType.WINDOW_CLOSED,
    }
)

# Names of the emitted events after which queue figures and positions need a refresh.
DIRTYING = frozenset(str(t) for t in QUEUE_EVENTS - WINDOW_EVENTS) | {"window.changed"}

# The SPEC §5 events of tickets and windows; everything else in the log stays off public rooms.
PUBLIC_EVENTS = frozenset(t for t in EventType if t.value.startswith(("ticket.", "window.")))


class UncompressedWebSocket:
    """WSGI middleware: WebSocket upgrades are answered without permessage-deflate.

    simple-websocket accepts compression whenever a client offers it (browsers always do), and
    then every frame is deflated once per socket, in Python: a board message fanned out to
    hundreds of screens is compressed hundreds of times. Live messages are small and the
    hall's network is local, so they travel as they are (a snapshot is a few kilobytes).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.app(environ, start_response)


def hall_room(hall: str) -> str:
    return f"hall:{hall}"


def window_room(hall: str, number: str | int) -> str:
    return f"window:{hall}:{number}"


def ticket_room(ticket_id: str) -> str:
    return f"ticket:{ticket_id}"


class LivePublisher:
    """Turns committed domain events into Socket.IO messages, and keeps figures fresh."""

    def __init__(self, app: Flask, services: HallServices) -> None:
        self.app = app
        self.services = services
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._refresher: Any = None
        self._sent: dict[str, dict[str, Any]] = {}  # ticket room → the snapshot it last got
        # With the ordered Redis manager every process hears every event: each marks the halls
        # it hears of as changed and refreshes its own clients only (no refresh crosses Redis,
        # so a board gets one queue.changed per round, not one per process).
        manager = getattr(socketio.server, "manager", None)
        self._local = isinstance(manager, OrderedRedisManager)
        if isinstance(manager, OrderedRedisManager):
            manager.delivered = self._delivered

    def _delivered(self, name: str, data: Any) -> None:
        if name not in DIRTYING or not data or not isinstance(data[0], dict):
            return
        hall = data[0].get("hall")
        if isinstance(hall, str):
            with self._lock:
                self._dirty.add(hall)

    def publish(self, stored: Sequence[StoredEvent]) -> None:
        for item in stored:
            e = item.event
            if e.type not in PUBLIC_EVENTS:
                continue  # reviews, cases, appointments: staff business, not for boards/phones
            message = public_event(item)
            # When it left this process: screens (and bench/load.py) can tell push latency.
            message["sent_at"] = datetime.now(UTC).isoformat()
            rooms = [hall_room(e.hall)]
            if e.window:
                rooms.append(window_room(e.hall, e.window))
            if e.ticket_id:
                rooms.append(ticket_room(e.ticket_id))
            name = "window.changed" if e.type in WINDOW_EVENTS else str(e.type)
            socketio.emit(name, message, to=rooms)
            if e.type in QUEUE_EVENTS and not self._local:
                with self._lock:
                    self._dirty.add(e.hall)

    def ensure_refresher(self) -> None:
        with self._lock:
            if self._refresher is None:
                self._refresher = socketio.start_background_task(self._refresh_forever)

    def _refresh_forever(self) -> None:
        tick = 0
        while True:
            socketio.sleep(REFRESH_SECONDS)
            tick += 1
            try:
                with self.app.app_context():
                    self.refresh(full=tick % 5 == 0)
                    self.services.run_jobs()  # the composition root's periodic jobs
            except Exception:  # keep refreshing whatever one round hit
                log.exception("live refresh failed")

    def refresh(self, full: bool = False) -> None:
        """Emit fresh queue figures for changed halls and positions for followed tickets."""
        rooms = _local_rooms()
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        halls = {r.split(":", 1)[1] for r in rooms if r.startswith("hall:")}
        for hall in halls if full else halls & dirty:
            socketio.emit(
                "queue.changed", self.queues(hall), to=hall_room(hall), ignore_queue=self._local
            )
        if dirty or full:
            self._refresh_tickets([r for r in rooms if r.startswith("ticket:")])

    def _refresh_tickets(self, rooms: list[str]) -> None:
        """Send followed tickets whose position or estimate changed since they were last sent.

        One read for all of them (each hall's waiting list once), whatever their number.
        """
        engine = self.services.engine
        views = engine.tickets(room.split(":", 1)[1] for room in rooms)
        sent, self._sent = self._sent, {}
        for room in rooms:
            view = views.get(room.split(":", 1)[1])
            if view is None:
                continue
            snapshot = self._ticket_message(view)
            self._sent[room] = snapshot  # rooms nobody follows any more are forgotten
            if sent.get(room) != snapshot:
                socketio.emit("ticket.updated", snapshot, to=room, ignore_queue=self._local)

    def refresh_pages(self, hall: str) -> None:
        """After a configuration change: boards and kiosks get a fresh snapshot, windows theirs.

        Through the message queue (Redis) this reaches the pages of every process. A failure
        here never undoes the committed change: pages also resynchronise on their own.
        """
        try:
            with self.app.app_context():
                snapshot = self.hall_snapshot(hall)
                socketio.emit("snapshot", snapshot, to=hall_room(hall))
                queues = {"hall": hall, "queues": snapshot["queues"]}
                socketio.emit("queue.changed", queues, to=hall_room(hall))
                for window in snapshot["windows"]:
                    socketio.emit(
                        "snapshot",
                        self.window_snapshot(window["id"]),
                        to=window_room(hall, window["number"]),
                    )
        except Exception:
            log.exception("could not refresh the pages of hall %s", hall)

    # -- snapshots ---------------------------------------------------------------------------

    def queues(self, hall: str) -> dict[str, Any]:
        engine = self.services.engine
        config = engine.hall_config(hall)
        return {"hall": hall, "queues": [queue_json(q, config) for q in engine.queues(hall)]}

    def hall_snapshot(self, hall: str) -> dict[str, Any]:
        engine = self.services.engine
        config = engine.hall_config(hall)
        return {
            "room": hall_room(hall),
            "hall": {
                "code": config.code,
                "name_zh": config.name_zh,
                "name_en": config.name_en,
                "timezone": config.timezone,
                "notice": config.notice,
                "silent_zones": sorted(config.silent_zones),
            },
            "windows": [window_json(w, t) for w, t in engine.windows(hall)],
            "queues": self.queues(hall)["queues"],
            "recent_calls": engine.recent_calls(hall),
        }

    def window_snapshot(self, window_id: int) -> dict[str, Any]:
        engine = self.services.engine
        window = engine.window(window_id)
        return {
            "room": window_room(window.hall, window.config.number),
            "window": window_json(window, engine.current_ticket(window_id)),
        }

    def ticket_snapshot(self, ticket_id: str) -> dict[str, Any]:
        return self._ticket_message(self.services.engine.ticket(ticket_id))

    def _ticket_message(self, view: TicketView) -> dict[str, Any]:
        config = self.services.engine.hall_config(view.ticket.hall)
        return {"room": ticket_room(view.ticket.id), "ticket": view_json(view, config)}


def _local_rooms() -> list[str]:
    """Rooms with members connected to this process."""
    rooms = socketio.server.manager.rooms.get("/", {})
    return [r for r in list(rooms) if isinstance(r, str) and ":" in r]


def register_socket_handlers(publisher: LivePublisher) -> None:
    @socketio.on("connect")
    def on_connect(auth: Any = None) -> None:
        # Engine.IO checked the origin at the handshake already; this is the same rule at
        # the Socket.IO connect, whichever way the connection came (test clients included).
        if not current_app.extensions["hall_socket_origins"].allows(request.environ):
            raise ConnectionRefusedError("this origin may not connect")
        publisher.ensure_refresher()

    @socketio.on("join")
    def on_join(data: Any) -> None:
        """``{"hall": "ZMD"}``, ``{"window": 7}`` or ``{"ticket": ID}``: join, then a snapshot."""
        try:
            if not isinstance(data, dict):
                raise NotFound("join with {hall}, {window} or {ticket}")
            if isinstance(data.get("hall"), str):
                snapshot = publisher.hall_snapshot(data["hall"])
            elif type(data.get("window")) is int:  # not bool
                snapshot = publisher.window_snapshot(data["window"])
            elif isinstance(data.get("ticket"), str):
                snapshot = publisher.ticket_snapshot(data["ticket"])
            else:
                raise NotFound("join with {hall}, {window} or {ticket}")
        except DomainError as exc:
            emit("error", {"error": exc.code, "message": exc.message, "status": status_for(exc)})
            return
        except (OperationalError, PoolTimeout) as exc:  # the client asks again (503: retry)
            log.warning("join answered 503: %s", exc.__class__.__name__)
            message = "the database is unavailable or busy; join again"
            emit("error", {"error": "unavailable", "message": message, "status": 503})
            return
        join_room(snapshot["room"])
        emit("snapshot", snapshot)
        log.debug("sid %s joined %s", getattr(request, "sid", "?"), snapshot["room"])
