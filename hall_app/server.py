"""The server of ``hall serve``: gunicorn, one worker process of many threads (the default).

Flask-SocketIO in threading mode serves WebSocket through simple-websocket, which works with
gunicorn's threaded worker (``gthread``). A Socket.IO session lives in one process, so each
``hall serve`` runs exactly one worker; scale out with more ``hall serve`` processes behind
nginx (sticky sessions), sharing live events through Redis (``HALL_MESSAGE_QUEUE``).
``hall serve --server werkzeug`` runs Werkzeug's development server instead (``start_app`` is
the same for both).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

log = logging.getLogger(__name__)


def start_app(production: bool, node: str) -> Flask:
    """The app with its live refresher and (one-process default) the embedded outbox worker.

    Then everything built so far (modules, the app, its metadata, compiled templates and
    statements) is moved out of the collector's reach: ``gc.freeze()``. Those objects live as
    long as the process; left in the collector's generations, every full collection walks them
    all again while requests wait (README, "Engine speed (issue 16)").
    """
    from . import create_app

    app = create_app()
    app.extensions["hall_live"].ensure_refresher()  # live figures and the periodic jobs
    # Production runs ``hall worker`` processes; the one-process default delivers notices itself.
    if os.environ.get("HALL_EMBEDDED_WORKER", "0" if production else "1") != "0":
        services = app.extensions["hall"]
        services.worker(f"{node}-embedded").start_thread()
        unconfigured = ", ".join(services.channels.unconfigured)
        if unconfigured:
            click.echo(f"notices: no provider for {unconfigured}; they go to the log channel")
    gc.collect()
    gc.freeze()
    return app


class HallWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's ``gthread`` worker that closes its Socket.IO sessions when told to stop.

    A WebSocket (or a waiting long-poll) is a request that never ends by itself: without this a
    stop (SIGTERM) waits for gunicorn's whole ``graceful_timeout`` with any screen connected,
    and the worker is then killed. Closed, the screens reconnect (to another process behind
    nginx, or to this one once it is back) and the stop takes well under a second.
    """

    def handle_exit(self, sig: int, frame: Any) -> None:
        super().handle_exit(sig, frame)
        threading.Thread(target=close_socket_sessions, name="close-sessions", daemon=True).start()


def close_socket_sessions() -> None:
    from .extensions import socketio

    sockets = list(socketio.server.eio.sockets.values())
    for sock in sockets:
        try:
            sock.close(wait=False)
        except Exception:  # a session already gone: close the others
            log.debug("closing a Socket.IO session failed", exc_info=True)
    log.info("stopping: closed %d Socket.IO sessions", len(sockets))


class HallServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured in code; the app is built in the worker (after the fork)."""

    def __init__(self, options: dict[str, Any], production: bool, node: str) -> None:
        self.options = options
        self.production = production
        self.node = node
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        # gunicorn 25.1+ opens a control socket at one path per user ($HOME/.gunicorn): every
        # ``hall serve`` of the machine would share it, and closing it costs a stop ~2 s.
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        return start_app(self.production, self.node)


def run_gunicorn(host: str, port: int, threads: int, production: bool, node: str) -> None:
    HallServer(
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": HallWorker,  # gthread
            "threads": threads,
            "timeout": 30,
            "graceful_timeout": 10,
            "keepalive": 15,
            "accesslog": None,  # our own access log names routes, never paths with ids
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": f"hall-serve-{port}",
        },
        production,
        node,
    ).run()
