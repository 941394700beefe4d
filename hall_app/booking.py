"""Appointments and 好差评 in the web app: the desks, the PII pepper and periodic chores.

Set up when the API blueprint is registered (no change to the app factory): the desks share
the app's queue engine, "your turn is near" listens to its committed events, and the no-show
sweep and reminders run at most every ``CHORE_SECONDS`` in each process (from requests and
from the live refresher), besides ``hall appointments sweep`` on the command line.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

from queue_engine.adapters.log_notifier import LogNotifier
from queue_engine.services.appointments import AppointmentDesk, TurnNotices
from queue_engine.services.evaluations import EvaluationDesk

from .state import HallState

log = logging.getLogger(__name__)
CHORE_SECONDS = 30.0


@dataclass
class Booking:
    desk: AppointmentDesk
    ratings: EvaluationDesk
    notifier: LogNotifier
    _next_chore: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def chores(self, force: bool = False) -> None:
        """Sweep no-shows and send reminders, at most every ``CHORE_SECONDS`` unless forced."""
        with self._lock:
            if not force and time.monotonic() < self._next_chore:
                return
            self._next_chore = time.monotonic() + CHORE_SECONDS
        try:
            self.desk.sweep()
            self.desk.send_reminders()
        except Exception:  # a chore never breaks the request that happened to run it
            log.exception("appointment chores failed")


def pii_pepper(instance: Path) -> bytes:
    """The key of ID and phone hashes: ``HALL_PII_PEPPER``, else a file in the instance folder.

    It is not the session secret, so rotating that secret keeps people recognisable.
    """
    configured = os.environ.get("HALL_PII_PEPPER")
    if configured:
        return configured.encode()
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "pii_pepper"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def init_booking(app: Flask) -> Booking:
    state: HallState = app.extensions["hall"]
    notifier = LogNotifier()
    desk = AppointmentDesk(state.engine, pii_pepper(Path(app.instance_path)), notifier)
    booking = Booking(desk, EvaluationDesk(state.engine), notifier)
    state.engine.subscribe(TurnNotices(desk))
    app.extensions["booking"] = booking
    app.extensions["hall_periodic"] = booking.chores

    @app.before_request
    def run_chores() -> None:
        booking.chores()

    return booking


def booking() -> Booking:
    found: Booking = current_app.extensions["booking"]
    return found
