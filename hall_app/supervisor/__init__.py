"""智慧效能监察 for supervisors: the dashboard, reports, thresholds and the red/black flags."""

from __future__ import annotations

from typing import Any

from flask_socketio import emit, join_room

from queue_engine.domain.access import Role, may
from queue_engine.domain.errors import DomainError

from ..auth import current_user, user_from_token
from ..errors import status_for
from ..extensions import socketio
from . import (
    cases,  # noqa: F401  (its routes join the supervisor pages' blueprint)
    reports,  # noqa: F401  (its routes join the supervisor pages' blueprint)
)
from .api import supervision_api, thresholds_json
from .feed import SupervisorFeed, supervise_room
from .pages import supervisor_pages

__all__ = [
    "SupervisorFeed",
    "register_supervise_room",
    "supervision_api",
    "supervisor_pages",
]


def register_supervise_room(feed: SupervisorFeed) -> None:
    @socketio.on("supervise")
    def on_supervise(data: Any) -> None:
        """``{"hall": "ZMD", "token": T}`` (or the page session): supervisors of the hall only."""
        if not isinstance(data, dict) or not isinstance(data.get("hall"), str):
            emit("error", {"error": "invalid", "message": "supervise with {hall}", "status": 422})
            return
        token = data.get("token")
        user = user_from_token(token) if isinstance(token, str) else current_user()
        hall = data["hall"]
        if user is None or not may(user, hall, Role.SUPERVISOR):
            emit("error", {"error": "forbidden", "message": "supervisors only", "status": 403})
            return
        try:
            snapshot = {
                "room": supervise_room(hall),
                "alerts": feed.alerts(hall),
                "figures": feed.figures(hall),
                "thresholds": thresholds_json(hall, feed.supervision.settings(hall)),
            }
        except DomainError as exc:
            emit("error", {"error": exc.code, "message": exc.message, "status": status_for(exc)})
            return
        join_room(supervise_room(hall))
        emit("supervisor.snapshot", snapshot)
