"""智慧效能监察: live alerts, the supervisor dashboard, reports and the red/black flags."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_socketio import emit, join_room

from queue_engine.adapters.staff_store import StaffUser
from queue_engine.domain.accounts import Role
from queue_engine.domain.errors import DomainError

from ..auth import _user_from_token, current_user
from ..errors import status_for
from ..extensions import csrf, socketio
from ..state import HallState
from . import reports  # noqa: F401  (its routes join the pages blueprint)
from .api import supervision_api, thresholds_json
from .desk import SupervisorDesk, supervise_room
from .pages import supervisor_pages


def init_supervisor(app: Flask) -> SupervisorDesk:
    """Blueprints, the engine subscription, the timer and the supervisors' Socket.IO room."""
    state: HallState = app.extensions["hall"]
    desk = SupervisorDesk(app, state)
    app.extensions["supervisor_desk"] = desk
    csrf.exempt(supervision_api)
    app.register_blueprint(supervision_api)
    app.register_blueprint(supervisor_pages)
    state.engine.subscribe(desk.on_events)
    previous = app.extensions.get("hall_periodic")

    def periodic() -> None:
        if previous is not None:
            previous()
        desk.tick()

    app.extensions["hall_periodic"] = periodic
    _register_socket(desk)
    return desk


def _supervisor(data: dict[str, Any]) -> StaffUser | None:
    token = data.get("token")
    user = _user_from_token(token) if isinstance(token, str) else current_user()
    if user is None or user.role not in (Role.SUPERVISOR, Role.ADMIN):
        return None
    return user


def _register_socket(desk: SupervisorDesk) -> None:
    @socketio.on("supervise")
    def on_supervise(data: Any) -> None:
        """``{"hall": "ZMD", "token": T}`` (or the page session): supervisors of the hall only."""
        if not isinstance(data, dict) or not isinstance(data.get("hall"), str):
            emit("error", {"error": "invalid", "message": "supervise with {hall}", "status": 422})
            return
        user = _supervisor(data)
        hall = data["hall"]
        if user is None or (user.role is not Role.ADMIN and user.hall not in (None, hall)):
            emit("error", {"error": "forbidden", "message": "supervisors only", "status": 403})
            return
        try:
            snapshot = {
                "room": supervise_room(hall),
                "alerts": desk.alerts(hall),
                "figures": desk.figures(hall),
                "thresholds": thresholds_json(hall, desk.supervision.settings(hall)),
            }
        except DomainError as exc:
            emit("error", {"error": exc.code, "message": exc.message, "status": status_for(exc)})
            return
        join_room(supervise_room(hall))
        emit("supervisor.snapshot", snapshot)
