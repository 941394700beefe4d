"""Fixtures of the appointment API tests: the API test app of ``tests/api`` on each database."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))

from api_helpers import SECRET, Hall, add_staff, make_app

from hall_app.auth import issue_token
from hall_app.live import LivePublisher
from hall_app.state import hall_services
from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.clock import FrozenClock


@pytest.fixture
def staff(db: Database, clock: FrozenClock) -> dict[str, str]:
    return add_staff(db, clock.now())


@pytest.fixture
def app(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    db_url: str,
    db: Database,
    clock: FrozenClock,
    staff: dict[str, str],
) -> Iterator[Any]:
    monkeypatch.setenv("HALL_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HALL_SECRET_KEY", SECRET)
    monkeypatch.delenv("HALL_MESSAGE_QUEUE", raising=False)
    monkeypatch.delenv("HALL_DATABASE_URL", raising=False)
    monkeypatch.delenv("HALL_PII_PEPPER", raising=False)
    monkeypatch.setattr(LivePublisher, "ensure_refresher", lambda self: None)
    application = make_app(db_url, clock)
    yield application
    application.extensions["hall"].db.dispose()


@pytest.fixture
def client(app: Any) -> FlaskClient:
    return app.test_client()  # type: ignore[no-any-return]


@pytest.fixture
def auth(app: Any) -> Callable[[str], dict[str, str]]:
    def make(username: str) -> dict[str, str]:
        with app.test_request_context():
            user = hall_services().accounts.find(username)
            assert user is not None
            return {"Authorization": f"Bearer {issue_token(user)}"}

    return make


@pytest.fixture
def hall(client: FlaskClient, auth: Callable[[str], dict[str, str]]) -> Hall:
    return Hall(client, auth)
