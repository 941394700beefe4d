"""The production server: gunicorn with one worker process of many threads per ``hall serve``.

Flask-SocketIO in threading mode serves WebSocket through simple-websocket, which works with
gunicorn's threaded worker (``gthread``). A Socket.IO session lives in one process, so each
``hall serve`` runs exactly one worker; scale out with more ``hall serve`` processes behind
nginx (sticky sessions), sharing live events through Redis (``HALL_MESSAGE_QUEUE``).
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class HallServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured in code; the app is built in the worker (after the fork)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app

        app = create_app()
        app.extensions["hall_live"].ensure_refresher()  # live figures and the periodic jobs
        return app


def run_gunicorn(host: str, port: int, threads: int) -> None:
    HallServer(
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 30,
            "graceful_timeout": 10,
            "keepalive": 15,
            "accesslog": None,  # our own access log names routes, never paths with ids
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": f"hall-serve-{port}",
        }
    ).run()
