"""Shared fixtures: a frozen clock, databases, the app and its clients, Debian's chromium.

- ``clock``: Thursday 26 November 2026, 10:00 in the hall, standing still until a test moves it.
- ``db_url`` → ``db`` → ``engine``: an empty migrated database (SQLite, and PostgreSQL when
  reachable), then the demo hall ZMD on it, then the ``QueueEngine`` of that hall.
- ``app`` → ``client`` → ``runner``, as in Flask's tutorial: the app built by ``create_app`` on
  ``db`` with the frozen clock and the ``staff`` accounts, its test client and its CLI runner;
  ``token``/``auth`` sign staff in, ``hall`` is the short hand of ``tests.helpers.api``.
- ``browser``: one headless Debian chromium for the whole session.

Staff accounts are created with ``add_staff``; their scrypt hashes are computed once per password
and reused, so that a test does not pay ~50 ms per account. Tokens are signed by the app itself
(the same ``issue_token`` that ``POST /auth/token`` uses); the login endpoint has tests of its own.

``HALL_REQUIRE_SERVICES=1`` turns a missing PostgreSQL (or Redis, or chromium) into a test
failure instead of a skip: CI sets it so that those tests always run.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from queue_engine.adapters.database import migrate, normalize_url
from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.clock import FrozenClock
from queue_engine.seed import demo_hall
from queue_engine.services.admin import AdminDesk
from queue_engine.services.tickets import QueueEngine
from tests.helpers.services import unavailable

if TYPE_CHECKING:
    from flask.testing import FlaskClient, FlaskCliRunner

    from tests.helpers.api import Hall

POSTGRES_ADMIN_URL = os.environ.get(
    "HALL_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test"
)

# Thursday 26 November 2026, 10:00 in Zhumadian (02:00 UTC): an ordinary working morning.
HALL_MORNING = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


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


# -- the web app and its clients -------------------------------------------------------------
# The web modules are imported by the fixtures that need them: a unit test run never loads Flask.


@pytest.fixture
def staff(db: Database, clock: FrozenClock) -> dict[str, str]:
    """The staff accounts of STAFF in hall ZMD; returns username → password."""
    from tests.helpers.api import add_staff

    return add_staff(db, clock.now())


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No message queue, and an instance folder of the test's own (no files in the repo)."""
    from hall_app.live import LivePublisher
    from tests.helpers.api import SECRET

    monkeypatch.setenv("HALL_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HALL_SECRET_KEY", SECRET)
    monkeypatch.delenv("HALL_MESSAGE_QUEUE", raising=False)
    monkeypatch.delenv("HALL_DATABASE_URL", raising=False)
    monkeypatch.delenv("HALL_PII_PEPPER", raising=False)
    # The per-process refresher thread loops forever; tests call refresh() themselves so that
    # no thread of an earlier test's app emits into a later test's rooms.
    monkeypatch.setattr(LivePublisher, "ensure_refresher", lambda self: None)


@pytest.fixture
def app(
    app_env: None, db_url: str, db: Database, clock: FrozenClock, staff: dict[str, str]
) -> Iterator[Any]:
    from tests.helpers.api import make_app

    application = make_app(db_url, clock)
    yield application
    application.extensions["hall"].db.dispose()


@pytest.fixture
def client(app: Any) -> FlaskClient:
    return app.test_client()  # type: ignore[no-any-return]


@pytest.fixture
def runner(app: Any) -> FlaskCliRunner:
    return app.test_cli_runner()  # type: ignore[no-any-return]


@pytest.fixture
def token(app: Any) -> Callable[[str], str]:
    """A bearer token for a staff member, signed by this app."""
    from hall_app.auth import issue_token
    from hall_app.state import hall_services

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
    from tests.helpers.api import Hall

    return Hall(client, auth)
