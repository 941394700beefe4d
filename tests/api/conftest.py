"""Fixtures of the HTTP API and live-event tests: the app on each database, staff, tokens.

``app`` is built by ``create_app`` on the ``db`` fixture of ``tests/conftest.py`` (demo hall ZMD,
SQLite and PostgreSQL) with the frozen ``clock``. Staff accounts are created with ``add_user``;
their scrypt hashes are computed once per password and reused, so that a test does not pay
~50 ms per account. Tokens are signed by the app itself (the same ``issue_token`` that
``POST /auth/token`` uses); the login endpoint has tests of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import SECRET, Hall, add_staff, make_app
from flask.testing import FlaskClient

from hall_app.auth import issue_token
from hall_app.live import LivePublisher
from hall_app.state import hall_services
from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.clock import FrozenClock


@pytest.fixture
def staff(db: Database, clock: FrozenClock) -> dict[str, str]:
    """The staff accounts of STAFF in hall ZMD; returns username → password."""
    return add_staff(db, clock.now())


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No message queue, and an instance folder of the test's own (no files in the repo)."""
    monkeypatch.setenv("HALL_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HALL_SECRET_KEY", SECRET)
    monkeypatch.delenv("HALL_MESSAGE_QUEUE", raising=False)
    monkeypatch.delenv("HALL_DATABASE_URL", raising=False)
    # The per-process refresher thread loops forever; tests call refresh() themselves so that
    # no thread of an earlier test's app emits into a later test's rooms.
    monkeypatch.setattr(LivePublisher, "ensure_refresher", lambda self: None)


@pytest.fixture
def app(
    app_env: None, db_url: str, db: Database, clock: FrozenClock, staff: dict[str, str]
) -> Iterator[Any]:
    application = make_app(db_url, clock)
    yield application
    application.extensions["hall"].db.dispose()


@pytest.fixture
def client(app: Any) -> FlaskClient:
    return app.test_client()  # type: ignore[no-any-return]


@pytest.fixture
def token(app: Any) -> Callable[[str], str]:
    """A bearer token for a staff member, signed by this app."""

    @functools.cache
    def make(username: str) -> str:
        with app.test_request_context():
            user = hall_services().accounts.find(username)
            assert user is not None, username
            return issue_token(user)

    return make


@pytest.fixture
def auth(token: Callable[[str], str]) -> Callable[[str], dict[str, str]]:
    """``auth("clerk10")`` → the Authorization header of that staff member."""
    return lambda username: {"Authorization": f"Bearer {token(username)}"}


@pytest.fixture
def hall(client: FlaskClient, auth: Callable[[str], dict[str, str]]) -> Hall:
    return Hall(client, auth)
