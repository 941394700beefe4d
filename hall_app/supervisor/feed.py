"""The supervisors' live feed: alerts and today's figures pushed to their screens.

The supervision desk (service layer) evaluates the alert rules after events and on its timer;
this feed sends what it raises and clears to the room ``supervise:<hall>``, which only
signed-in supervisors of the hall can join — never to the public hall, window or ticket rooms —
and keeps their figures fresh.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask

from analytics.figures import day_figures
from analytics.kpis import Ledger
from analytics.load import read_events_db
from queue_engine.bootstrap import HallServices
from queue_engine.domain.events import StoredEvent
from queue_engine.services.supervision import SupervisionDesk

from ..extensions import socketio
from ..serialize import alert_json, iso, queue_json, window_json

log = logging.getLogger(__name__)
FIGURES_SECONDS = 5.0


def supervise_room(hall: str) -> str:
    return f"supervise:{hall}"


class SupervisorFeed:
    """What supervisors' screens are sent: alert events as they happen, figures as they move."""

    def __init__(self, app: Flask, services: HallServices) -> None:
        self.app = app
        self.services = services
        self.supervision: SupervisionDesk = services.supervision
        self._dirty: set[str] = set()
        self._figures_due: dict[str, float] = {}
        self._lock = threading.Lock()

    # -- bus events ---------------------------------------------------------------------------

    def on_events(self, stored: Sequence[StoredEvent]) -> None:
        """Bus handler: alert events to the hall's supervisors; other events move the figures."""
        for item in stored:
            e = item.event
            if str(e.type).startswith("alert."):
                try:
                    alert = self.supervision.alert(int(e.payload["alert"]))
                except Exception:  # a vanished alert is not worth failing the publisher
                    log.exception("alert %s not readable", e.payload.get("alert"))
                    continue
                socketio.emit(str(e.type), alert_json(alert), to=supervise_room(e.hall))
            else:
                with self._lock:
                    self._dirty.add(e.hall)

    # -- the timer ----------------------------------------------------------------------------

    def push_figures(self, full: bool = False) -> None:
        """Periodic job: fresh figures to supervisors of the halls that changed (all if full)."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        halls = {c.code for c in self.services.engine.halls()} if full else dirty
        for hall in sorted(halls):
            self._push_figures(hall, force=False)

    def _push_figures(self, hall: str, force: bool) -> None:
        room = supervise_room(hall)
        members = socketio.server.manager.rooms.get("/", {}).get(room)
        if not members:
            return
        now = time.monotonic()
        if not force and self._figures_due.get(hall, 0.0) > now:
            return
        self._figures_due[hall] = now + FIGURES_SECONDS
        with self.app.app_context():
            socketio.emit("kpis.changed", self.figures(hall), to=room)

    # -- snapshots ----------------------------------------------------------------------------

    def alerts(self, hall: str, evaluate: bool = True) -> list[dict[str, Any]]:
        """Open alerts and today's recent ones, newest first (evaluated afresh by default)."""
        if evaluate:
            self.supervision.evaluate(hall)
        return [alert_json(a) for a in self.supervision.alerts(hall)]

    def open_alerts(self, hall: str) -> list[dict[str, Any]]:
        self.supervision.evaluate(hall)
        return [alert_json(a) for a in self.supervision.open_alerts(hall)]

    def board(self, hall: str) -> dict[str, Any]:
        """Every window (with its ticket's times and handling limit) and every queue, now."""
        engine = self.services.engine
        config = engine.hall_config(hall)
        settings = self.supervision.settings(hall)
        windows = []
        for status, ticket in engine.windows(hall):
            item = window_json(status, ticket, staff=True)
            if ticket is not None:
                service = config.service(ticket.service)
                factor = settings.for_service(service.code).handling_factor
                item["current_ticket"].update(
                    called_at=iso(ticket.called_at),
                    started_at=iso(ticket.started_at),
                    limit_minutes=round(factor * service.standard_minutes, 1),
                    service_name=service.name_zh,
                    service_name_en=service.name_en,
                )
            windows.append(item)
        return {
            "hall": hall,
            "now": engine.clock.now().isoformat(),
            "windows": windows,
            "queues": [queue_json(q, config) for q in engine.queues(hall)],
            "paused_minutes": settings.hall.paused_minutes,
            "idle_minutes": settings.hall.idle_minutes,
            "wait_yellow_minutes": settings.hall.wait_yellow_minutes,
            "wait_red_minutes": settings.hall.wait_red_minutes,
        }

    def figures(self, hall: str, day: date | None = None) -> dict[str, Any]:
        engine = self.services.engine
        day = day or engine.business_date(hall)
        events = read_events_db(self.services.db, hall, day, day)
        figures = day_figures(Ledger.from_events(events))
        figures["hall"] = hall
        figures["business_date"] = day.isoformat()
        figures["generated_at"] = datetime.now(UTC).isoformat()
        return figures
