"""The administration desk of the web app: who is acting, and open pages told about changes."""

from __future__ import annotations

import logging

from flask import Flask, current_app, request

from queue_engine.services.admin import Actor, AdminDesk

from ..auth import current_user
from ..extensions import socketio
from ..live import hall_room, window_room

log = logging.getLogger(__name__)


def init_desk(app: Flask) -> AdminDesk:
    """One desk per app, sharing the queue engine's database, clock and caches."""
    state = app.extensions["hall"]
    admin = AdminDesk(state.db, state.engine.clock)
    admin.subscribe(lambda hall: refresh_pages(app, hall))
    app.extensions["hall_admin"] = admin
    return admin


def desk() -> AdminDesk:
    found: AdminDesk = current_app.extensions["hall_admin"]
    return found


def actor() -> Actor:
    """The signed-in staff member (views are behind ``require_roles``/``staff_page``)."""
    user = current_user()
    assert user is not None
    return Actor(user.username, user.role, user.hall, request.remote_addr or "")


def refresh_pages(app: Flask, hall: str) -> None:
    """After a change: boards and kiosks get a fresh snapshot, window screens theirs.

    Through the message queue (Redis) this reaches the pages of every process. A failure
    here never undoes the committed change: pages also resynchronise on their own.
    """
    publisher = app.extensions.get("hall_live")
    if publisher is None:
        return
    try:
        with app.app_context():
            snapshot = publisher.hall_snapshot(hall)
            socketio.emit("snapshot", snapshot, to=hall_room(hall))
            socketio.emit(
                "queue.changed", {"hall": hall, "queues": snapshot["queues"]}, to=hall_room(hall)
            )
            for window in snapshot["windows"]:
                socketio.emit(
                    "snapshot",
                    publisher.window_snapshot(window["id"]),
                    to=window_room(hall, window["number"]),
                )
    except Exception:
        log.exception("could not refresh the pages of hall %s", hall)
