"""``hall serve`` picks its server: gunicorn by default on every setting, Werkzeug on request.

In-process, with the servers themselves replaced: what the command hands them. A real
``hall serve`` (log, Socket.IO, stop) is ``tests/cluster/test_serve_default.py``.
"""

from __future__ import annotations

import gc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

import hall_app.server
from hall_app import cli


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """Run ``serve`` without migrating or serving; record which server it would start."""
    for name in ("HALL_SERVER", "HALL_THREADS", "HALL_ENV", "HALL_EMBEDDED_WORKER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HALL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("HALL_DATABASE_URL", f"sqlite:///{tmp_path / 'hall.db'}")
    got: dict[str, Any] = {}
    monkeypatch.setattr("queue_engine.adapters.database.migrate", lambda url: None)
    monkeypatch.setattr(
        hall_app.server, "run_gunicorn", lambda *args: got.setdefault("gunicorn", args)
    )
    monkeypatch.setattr(
        hall_app.server, "start_app", lambda *args: got.setdefault("start_app", args) and "app"
    )
    monkeypatch.setattr(
        "hall_app.extensions.socketio.run",
        lambda app, **options: got.setdefault("werkzeug", (app, options)),
    )
    return got


def serve(*args: str, **env: str) -> Any:
    return CliRunner().invoke(cli.serve, ["--port", "5999", *args], env=env)


def test_the_default_server_is_gunicorn_with_one_worker_of_threads(calls: dict[str, Any]) -> None:
    result = serve()
    assert result.exit_code == 0, result.output
    assert "with gunicorn" in result.output
    host, port, threads, production, _node = calls["gunicorn"]
    assert (host, port, threads, production) == ("127.0.0.1", 5999, 200, False)
    assert "werkzeug" not in calls


def test_threads_and_the_server_from_the_environment(calls: dict[str, Any]) -> None:
    assert serve(HALL_THREADS="12").exit_code == 0
    assert calls["gunicorn"][2] == 12
    calls.clear()
    assert serve("--threads", "30").exit_code == 0
    assert calls["gunicorn"][2] == 30
    calls.clear()
    result = serve(HALL_SERVER="werkzeug")
    assert result.exit_code == 0 and "gunicorn" not in calls and "werkzeug" in calls


def test_werkzeug_on_request(calls: dict[str, Any]) -> None:
    result = serve("--server", "werkzeug")
    assert result.exit_code == 0, result.output
    assert "with werkzeug" in result.output and "gunicorn" not in calls
    app, options = calls["werkzeug"]
    assert app == "app" and options["port"] == 5999 and options["use_reloader"] is False
    assert calls["start_app"][0] is False  # not production


def test_an_unknown_server_is_refused_before_anything_starts(calls: dict[str, Any]) -> None:
    result = serve(HALL_SERVER="uwsgi")
    assert result.exit_code == 2 and "HALL_SERVER must be gunicorn or werkzeug" in result.output
    assert not calls


def test_gunicorn_is_configured_as_the_socketio_threading_mode_needs() -> None:
    server = hall_app.server.HallServer(
        {"bind": "127.0.0.1:5999", "workers": 1, "worker_class": hall_app.server.HallWorker},
        production=False,
        node="n1",
    )
    assert server.cfg.workers == 1
    assert issubclass(server.cfg.worker_class, hall_app.server.ThreadWorker)  # gthread
    if "control_socket_disable" in server.cfg.settings:  # gunicorn 25.1+
        assert server.cfg.control_socket_disable is True


class FakeServices:
    def __init__(self) -> None:
        self.started: list[str] = []
        self.channels = SimpleNamespace(unconfigured=["sms"])

    def worker(self, name: str) -> Any:
        return SimpleNamespace(start_thread=lambda: self.started.append(name))


@pytest.mark.parametrize(
    ("production", "setting", "embedded"),
    [
        (False, None, True),  # the one-process default delivers notices itself
        (True, None, False),  # production runs ``hall worker``
        (False, "0", False),
        (True, "1", True),
    ],
)
def test_start_app_starts_the_refresher_the_embedded_worker_and_freezes_the_heap(
    monkeypatch: pytest.MonkeyPatch,
    production: bool,
    setting: str | None,
    embedded: bool,
) -> None:
    services = FakeServices()
    refreshed: list[bool] = []
    live = SimpleNamespace(ensure_refresher=lambda: refreshed.append(True))
    app = SimpleNamespace(extensions={"hall_live": live, "hall": services})
    monkeypatch.setattr("hall_app.create_app", lambda: app)
    if setting is None:
        monkeypatch.delenv("HALL_EMBEDDED_WORKER", raising=False)
    else:
        monkeypatch.setenv("HALL_EMBEDDED_WORKER", setting)
    frozen_before = gc.get_freeze_count()
    try:
        assert hall_app.server.start_app(production, "n1") is app
        assert refreshed == [True]
        assert services.started == (["n1-embedded"] if embedded else [])
        assert gc.get_freeze_count() > frozen_before  # start-up objects out of the collector
    finally:
        gc.unfreeze()
