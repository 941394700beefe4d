"""Engines and schema: SQLite in WAL mode by default, PostgreSQL through psycopg 3."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_MS = 30_000


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs as they are and use the installed psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10, **kwargs: Any) -> Engine:
    """An engine whose transactions are safe for concurrent writers on both databases.

    On a database server a process holds at most ``pool_size + max_overflow`` connections;
    a thread beyond that waits up to ten seconds for one to come back (then ``TimeoutError``),
    so that a burst of requests or Socket.IO joins queues instead of exhausting the server's
    ``max_connections`` across processes.

    On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` so that writers queue on
    the database lock (with a busy timeout) instead of failing when a read lock cannot be
    upgraded; read-only units of work ask for ``BEGIN DEFERRED``.
    """
    url = normalize_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        kwargs.setdefault("pool_timeout", 10)
        engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow, **kwargs)
        _ping_when_idle(engine)
        return engine
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs.setdefault("poolclass", NullPool)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_MS / 1000}, **kwargs
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        # Straight to the driver: this runs for every transaction, and BEGIN has no result.
        connection.connection.driver_connection.execute(f"BEGIN {mode}")

    return engine


PING_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it has sat idle for a while.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip to the server
    per command. A connection handed back a moment ago is alive (and if the server went away
    since, the command's error invalidates the pool, as it would between ping and statement);
    one idle longer than ``PING_IDLE_SECONDS`` is pinged, and replaced when the ping fails.
    """

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_connection: Any, record: Any) -> None:
        record.info["hall_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["hall_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("hall_idle_since", 0.0)
        if time.monotonic() - idle_since <= PING_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: let the pool connect afresh
            raise DisconnectionError() from exc
        if not alive:
            raise DisconnectionError()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def instance_folder(environ: Mapping[str, str] | None = None) -> Path:
    """``HALL_INSTANCE_PATH``, else ``./instance``: the default SQLite file and the secrets."""
    env = os.environ if environ is None else environ
    return Path(env.get("HALL_INSTANCE_PATH", Path.cwd() / "instance")).resolve()


def configured_url(environ: Mapping[str, str] | None = None) -> str:
    """``HALL_DATABASE_URL``, else the SQLite file in the instance folder (every entry point)."""
    env = os.environ if environ is None else environ
    return env.get("HALL_DATABASE_URL") or f"sqlite:///{instance_folder(env) / 'hall.db'}"
