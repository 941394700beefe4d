"""Hot-path statements: SQLAlchemy Core compiled once per dialect, run on the DBAPI cursor.

``Connection.execute`` spends 20 to 60 µs of Python on every statement (execution events,
compiled-cache lookup, parameter and type processing, result metadata) around a SQLite statement
that itself takes a few microseconds. Issuing a ticket and calling the next one run about ten
statements between them, so that overhead, not the database, decided the queue's throughput.

A ``Prepared`` statement keeps what matters of ``Connection.execute`` and drops the rest:

- the SQL is SQLAlchemy's own compilation of the Core statement for the connection's dialect,
  so both databases run the same statement object (with its ``FOR UPDATE``, ``RETURNING`` and
  casts rendered per dialect, as before);
- parameters and results pass through the column types' own bind and result processors, so
  ``UTCDateTime`` and dates are stored and read exactly as ``Connection.execute`` does;
- driver errors become SQLAlchemy's exceptions (``IntegrityError``, ``OperationalError``…) and
  a lost connection is invalidated, as ``Connection.execute`` would do;
- it runs on the caller's connection, inside the caller's transaction;
- ``before_cursor_execute`` listeners see it (without an execution context), as they see
  every other statement: a statement counter counts these too.

Rows come back as named tuples with the statement's column names, read like ``Row`` objects.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable

Processor = Callable[[Any], Any]


class _Compiled:
    """One statement for one dialect: SQL text, parameter order, processors, row type."""

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.escaped_bind_names or compiled.literal_execute_params:
            raise ValueError("prepared statements need plain bound parameters")
        self.sql: str = compiled.string
        self.positional: bool = compiled.positional
        names = compiled.positiontup if compiled.positional else list(compiled.binds)
        # One slot per parameter: (name, bind processor, whether None goes through it too,
        # fixed value); the name is None for a value fixed in the statement ("= 'waiting'").
        self.slots: list[tuple[str | None, Processor | None, bool, Any]] = []
        for name in names:
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                self.slots.append((name, process, bind.type.should_evaluate_none, None))
            else:
                value = process(bind.effective_value) if process else bind.effective_value
                self.slots.append((None, None, False, value))
        self.names: list[str] = list(names)
        self.dialect = dialect
        self.columns = list(statement.exported_columns)  # selected or RETURNING columns
        self._row: Callable[[Any], Any] | None = None  # known with the first result
        self.record: Any = (
            namedtuple("Record", [c.key for c in self.columns]) if self.columns else None
        )

    def args(self, params: Mapping[str, Any]) -> Any:
        """The driver's parameters: processed by their types, in the statement's order."""
        values = []
        for name, process, keep_none, fixed in self.slots:
            if name is None:
                values.append(fixed)
                continue
            value = params[name]
            if process is not None and (value is not None or keep_none):
                value = process(value)
            values.append(value)
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))

    def reader(self, cursor: Any) -> Callable[[Any], Any]:
        """Turns the cursor's raw rows into processed records."""
        if self._row is None:  # result processors may depend on the driver's type codes
            self._row = self._make_reader(cursor.description)
        return self._row

    def _make_reader(self, description: Any) -> Callable[[Any], Any]:
        readers = [
            (i, process)
            for i, (column, described) in enumerate(zip(self.columns, description, strict=True))
            if (
                process := column.type.dialect_impl(self.dialect).result_processor(
                    self.dialect, described[1]
                )
            )
            is not None
        ]
        make: Callable[[Any], Any] = self.record._make
        if not readers:
            return make

        def row(raw: Any) -> Any:
            values = list(raw)
            for i, process in readers:
                values[i] = process(values[i])
            return make(values)

        return row


class Prepared:
    """A Core statement run with little more than the driver's own cost (see module doc)."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._by_dialect: weakref.WeakKeyDictionary[Dialect, _Compiled] = (
            weakref.WeakKeyDictionary()
        )
        self._last: tuple[Dialect, _Compiled] | None = None

    def _compiled(self, dialect: Dialect) -> _Compiled:
        last = self._last
        if last is not None and last[0] is dialect:
            return last[1]
        compiled = self._by_dialect.get(dialect)
        if compiled is None:
            compiled = self._by_dialect[dialect] = _Compiled(self.statement, dialect)
        self._last = (dialect, compiled)
        return compiled

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        compiled = self._compiled(conn.dialect)
        return compiled, _execute(conn, compiled.sql, compiled.args(params))

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row of the result, processed."""
        compiled, cursor = self._run(conn, params)
        try:
            return list(map(compiled.reader(cursor), cursor.fetchall()))
        finally:
            cursor.close()

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        """The first row of the result, processed, or None."""
        compiled, cursor = self._run(conn, params)
        try:
            raw = cursor.fetchone()
            return None if raw is None else compiled.reader(cursor)(raw)
        finally:
            cursor.close()

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run a statement without result rows; the number of rows it changed."""
        _, cursor = self._run(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()


def run_sql(conn: Connection, sql: str) -> None:
    """Run a statement without parameters or rows (``SAVEPOINT x``) on the caller's connection.

    The same path as a ``Prepared`` statement: listeners see it, driver errors become
    SQLAlchemy's and a lost connection is invalidated. ``Connection.begin_nested`` costs about
    as much Python as a whole prepared read for each of its two statements (issue 16).
    """
    _execute(conn, sql, ()).close()


def _execute(conn: Connection, sql: str, args: Any) -> Any:
    """``sql`` with ``args`` on a new cursor of the caller's connection: the cursor, executed.

    ``before_cursor_execute`` listeners see it (e.g. a statement counter); a driver error
    closes the cursor and becomes SQLAlchemy's exception.
    """
    dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None
    cursor = dbapi_connection.cursor()
    if conn._has_events or conn.engine._has_events:
        for listener in conn.dispatch.before_cursor_execute:
            sql, args = listener(conn, cursor, sql, args, None, False)
    try:
        cursor.execute(sql, args)
    except conn.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        raise _wrap(conn, sql, args, exc) from exc
    return cursor


def _wrap(conn: Connection, sql: str, args: Any, exc: Any) -> BaseException:
    """The SQLAlchemy exception ``Connection.execute`` would raise for this driver error."""
    dialect = conn.dialect
    lost = dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)
    if lost:
        conn.invalidate(exc)
    error: BaseException = DBAPIError.instance(
        sql,
        args,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=conn.engine.hide_parameters,
        connection_invalidated=lost,
        dialect=dialect,
    )
    return error
