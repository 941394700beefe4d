"""The unit of work: one transaction, the hall's configuration, and events for after commit."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from queue_engine.adapters import repository as repo
from queue_engine.adapters.database import make_engine
from queue_engine.adapters.fair_gate import FairGate
from queue_engine.adapters.prepared import run_sql
from queue_engine.adapters.staff_store import record_audit
from queue_engine.domain.access import AuditEntry
from queue_engine.domain.errors import Busy
from queue_engine.domain.estimate import HandlingStats, handling_stats
from queue_engine.domain.events import DomainEvent, StoredEvent
from queue_engine.domain.model import HallConfig

HANDLING_WINDOW = timedelta(hours=3)
HANDLING_TTL_SECONDS = 30.0
WINDOW_STATES_TTL_SECONDS = 1.0
WRITE_GATE_SECONDS = 60.0
POOL_GATE_SECONDS = 10.0  # as long as the pool itself would wait for a connection


class Database:
    """One database: engine, session factories and small caches that are safe to share.

    A hall's configuration is cached and reused while its ``config_version`` is unchanged, so
    an administrator's change takes effect in every process with the next transaction.
    """

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        self.reader_engine = (
            self.engine.execution_options(sqlite_begin="DEFERRED")
            if self.engine.dialect.name == "sqlite"
            else self.engine
        )
        self._configs: dict[int, HallConfig] = {}
        self._handling: dict[int, tuple[float, dict[str, HandlingStats]]] = {}
        self._windows: dict[int, tuple[float, list[tuple[int, str, str | None]]]] = {}
        self._lock = threading.Lock()
        # SQLite lets one writer in at a time and makes the others poll; queueing this
        # process's writers on a lock first is fairer and keeps pool connections free.
        self.write_gate: threading.Lock | None = (
            threading.Lock() if self.engine.dialect.name == "sqlite" else None
        )
        # On a database server, units of work take the pool's connections in the order they
        # asked for them (``FairGate``): none waits out the pool's timeout while others keep
        # taking the connections they have just given back.
        self.pool_gate: FairGate | None = (
            None if self.engine.dialect.name == "sqlite" else FairGate(pool_size + max_overflow)
        )

    def hall_config(self, conn: Connection, code: str) -> tuple[int, HallConfig]:
        hall_id, version = repo.hall_version(conn, code)
        return hall_id, self.config_at(conn, hall_id, version)

    def hall_config_by_id(self, conn: Connection, hall_id: int) -> HallConfig:
        _, version = repo.hall_version_by_id(conn, hall_id)
        return self.config_at(conn, hall_id, version)

    def config_at(self, conn: Connection, hall_id: int, version: int) -> HallConfig:
        """The hall's configuration at ``version`` (read again only when it changed)."""
        cached = self._configs.get(hall_id)
        if cached is not None and cached.version == version:
            return cached
        config = repo.load_hall_config(conn, hall_id)
        with self._lock:
            self._configs[hall_id] = config
        return config

    def window_states(self, conn: Connection, hall_id: int) -> list[tuple[int, str, str | None]]:
        """Window states for wait estimates: at most a second old (an estimate, not a claim)."""
        cached = self._windows.get(hall_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        states = repo.window_states(conn, hall_id)
        with self._lock:
            self._windows[hall_id] = (time.monotonic() + WINDOW_STATES_TTL_SECONDS, states)
        return states

    def known_config(self, code: str) -> HallConfig | None:
        """The configuration this process last read for a hall (no database round trip)."""
        for config in list(self._configs.values()):
            if config.code == code:
                return config
        return None

    def handling(self, conn: Connection, hall_id: int, now: datetime) -> dict[str, HandlingStats]:
        """Handling-time statistics per service from recent tickets (refreshed every 30 s).

        Services with too few recent tickets are missing; callers fall back to the standard.
        """
        cached = self._handling.get(hall_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        samples = repo.recent_handling_minutes(conn, hall_id, now - HANDLING_WINDOW)
        stats = {
            code: s for code, values in samples.items() if (s := handling_stats(values)) is not None
        }
        with self._lock:
            self._handling[hall_id] = (time.monotonic() + HANDLING_TTL_SECONDS, stats)
        return stats

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """``with UnitOfWork(db) as uow: ...; uow.commit()``: nothing is kept unless committed.

    Events collected with ``record`` are written in the same transaction as the change and
    returned by ``commit`` for publishing once the unit has closed.
    """

    def __init__(
        self, db: Database, *, write: bool = True, audit: AuditEntry | None = None
    ) -> None:
        self.db = db
        self.audit = audit  # the staff action this unit's change is made for, if any
        self._engine = db.engine if write else db.reader_engine
        self._events: list[DomainEvent] = []
        self._session: Session | None = None
        self._after_exit: list[Callable[[], None]] = []
        self._deferred: list[Callable[[], None]] = []
        self._pool_gate: FairGate | None = None
        self._savepoints = 0

    def __enter__(self) -> UnitOfWork:
        self._gate = self.db.write_gate if self._engine is self.db.engine else None
        if self._gate is not None and not self._gate.acquire(timeout=WRITE_GATE_SECONDS):
            raise Busy("the database is busy; try again")
        self._pool_gate = self.db.pool_gate
        if self._pool_gate is not None and not self._pool_gate.enter(POOL_GATE_SECONDS):
            self._pool_gate = None
            self._release()
            raise Busy("the database is busy; try again")
        try:
            self.conn: Connection = self._engine.connect()
            self._tx = self.conn.begin()
        except BaseException:
            self._release()
            raise
        return self

    def _release(self) -> None:
        if self._pool_gate is not None:
            self._pool_gate.leave()
            self._pool_gate = None
        if self._gate is not None:
            self._gate.release()
            self._gate = None

    @property
    def session(self) -> Session:
        """An ORM session inside this unit's transaction, for the less travelled paths."""
        if self._session is None:
            self._session = Session(bind=self.conn, join_transaction_mode="create_savepoint")
        return self._session

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._session is not None:
                self._session.close()
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.close()
            self._release()
            for callback in self._after_exit:  # after the locks are gone: e.g. publishing
                callback()

    def after_exit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this unit has closed its connection and released its locks."""
        self._after_exit.append(callback)

    def defer(self, write: Callable[[], None]) -> None:
        """Run ``write`` (a statement whose result nobody reads) with the commit.

        On PostgreSQL the deferred writes, the events and the COMMIT are sent together
        (psycopg's pipeline mode): one wait for the server instead of one per statement.
        """
        self._deferred.append(write)

    def record(self, *events: DomainEvent) -> None:
        self._events.extend(events)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint around the block: an error undoes the block's writes, not the unit's.

        Plain ``SAVEPOINT``/``RELEASE`` on the driver (``run_sql``); the ORM session, if the
        block uses one, nests its own savepoint inside. A lost connection is not rolled back
        to the savepoint: the error goes on, and the unit fails.
        """
        self._savepoints += 1
        name = f"hall_sp_{self._savepoints}"
        run_sql(self.conn, f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if not self.conn.invalidated:
                run_sql(self.conn, f"ROLLBACK TO SAVEPOINT {name}")
                run_sql(self.conn, f"RELEASE SAVEPOINT {name}")
            raise
        run_sql(self.conn, f"RELEASE SAVEPOINT {name}")

    def pending(self) -> list[DomainEvent]:
        """The events recorded and not yet committed."""
        return list(self._events)

    def commit(self) -> list[StoredEvent]:
        if self._session is not None:
            self._session.flush()
        stored = repo.stored_events(self._events)
        if stored:
            self.record_audit(stored[0].event.ts, {"events": [str(s.event.type) for s in stored]})
        try:
            with self._pipeline():
                for write in self._deferred:
                    write()
                repo.insert_events(self.conn, stored)
                self._tx.commit()
        except BaseException:
            self._end_failed_commit()
            raise
        self._events = []
        self._deferred = []
        return stored

    def _end_failed_commit(self) -> None:
        """Roll the server's transaction back after a failed commit, or drop the connection.

        In pipeline mode a failing write aborts the pipeline: the COMMIT behind it is never
        run, the server's transaction stays open and aborted, and SQLAlchemy (whose commit was
        called) skips the pool's rollback on return. Without this the pool would hand the
        aborted transaction to the next command ("current transaction is aborted").
        """
        if self.conn.invalidated or self.conn.closed:
            return
        try:
            driver: Any = self.conn.connection.dbapi_connection
            if driver is not None:
                driver.rollback()
        except Exception:  # the connection is unusable: the pool replaces it
            self.conn.invalidate()

    def _pipeline(self) -> AbstractContextManager[object]:
        """psycopg's pipeline mode for the last writes and the COMMIT (else nothing)."""
        if self.conn.dialect.name != "postgresql":
            return nullcontext()
        driver: Any = self.conn.connection.dbapi_connection
        return driver.pipeline() if hasattr(driver, "pipeline") else nullcontext()

    def record_audit(self, ts: datetime, detail: dict[str, Any]) -> bool:
        """Write this unit's audit entry with ``detail`` (once); False without an entry."""
        entry = self.audit
        if entry is None:
            return False
        if not entry.recorded:
            record_audit(
                self.conn,
                ts,
                entry.actor,
                entry.role,
                entry.action,
                entry.target,
                detail,
                entry.remote_addr,
            )
            entry.recorded = True
        return True

    def rollback(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        self._tx.rollback()
        self._events = []
        self._deferred = []
