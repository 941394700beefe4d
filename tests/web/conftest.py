"""Fixtures of the display route tests: an app on a demo SQLite hall whose clerks have names.

Public screens may show a clerk's display name, so these clerks get names of their own; the
``app`` of ``tests/conftest.py`` (on SQLite and PostgreSQL, with the API tests' staff) serves the
other web tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hall_app import create_app
from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.access import Role
from queue_engine.domain.clock import FrozenClock
from queue_engine.seed import demo_hall
from queue_engine.services.admin import AdminDesk, NewUser
from tests.helpers.display import CLERK_NAMES, CLERK_PASSWORD, MORNING


@pytest.fixture
def hall_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    """Demo hall ZMD (round the clock) on SQLite, with clerks 10 and 11 named as above."""
    target = tmp_path / "hall.db"
    shutil.copy(sqlite_template, target)
    database = Database(f"sqlite:///{target}")
    desk = AdminDesk(database, FrozenClock(MORNING))
    desk.seed_hall(demo_hall(always_open=True))
    desk.seed_users(
        NewUser(username, CLERK_PASSWORD, Role.CLERK, "ZMD", name)
        for username, name in CLERK_NAMES.items()
    )
    yield database
    database.dispose()


@pytest.fixture
def display_app(
    hall_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    monkeypatch.setenv("HALL_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("HALL_MESSAGE_QUEUE", raising=False)
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": hall_db.url,
            "SECRET_KEY": "display-tests-secret",
            "RATELIMIT_ENABLED": False,
        }
    )
    yield application
    application.extensions["hall"].db.dispose()
