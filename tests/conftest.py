"""Shared fixtures: a frozen clock, and databases (SQLite always, PostgreSQL when reachable).

``HALL_REQUIRE_SERVICES=1`` turns a missing PostgreSQL (or Redis, or chromium) into a test
failure instead of a skip: CI sets it so that those tests always run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from queue_engine.adapters.database import migrate, normalize_url
from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.clock import FrozenClock
from queue_engine.seed import demo_hall
from queue_engine.services.admin import AdminDesk
from queue_engine.services.tickets import QueueEngine

POSTGRES_ADMIN_URL = os.environ.get(
    "HALL_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test"
)
REQUIRE_SERVICES = os.environ.get("HALL_REQUIRE_SERVICES") == "1"

# Thursday 26 November 2026, 10:00 in Zhumadian (02:00 UTC): an ordinary working morning.
HALL_MORNING = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def unavailable(what: str) -> None:
    """Skip, or fail when the run requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (HALL_REQUIRE_SERVICES=1) but unavailable")
    pytest.skip(f"{what} unavailable")


CHROMIUM = "/usr/bin/chromium"  # Debian's; a test never downloads a browser
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian chromium, one for the whole session (Playwright allows one sync driver)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as exc:  # any launch failure means "no usable chromium here"
            unavailable(f"chromium at {CHROMIUM} ({exc.__class__.__name__}: {str(exc)[:200]})")
        yield chromium
        chromium.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(HALL_MORNING)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is much faster)."""
    path = tmp_path_factory.mktemp("template") / "hall.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session, migrated to the newest schema."""
    admin = create_engine(normalize_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = f"hall_pytest_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure means "no PostgreSQL here"
        admin.dispose()
        unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL} ({exc.__class__.__name__})")
    url = make_url(normalize_url(POSTGRES_ADMIN_URL)).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    migrate(rendered)
    yield rendered
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = (
            conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname='public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """An empty, migrated database: SQLite, and PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "hall.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """The database with the demo hall ZMD (round-the-clock hours unless a test changes them)."""
    database = Database(db_url)
    AdminDesk(database).seed_hall(demo_hall(always_open=True))
    yield database
    database.dispose()


@pytest.fixture
def engine(db: Database, clock: FrozenClock) -> QueueEngine:
    return QueueEngine(db, clock)
