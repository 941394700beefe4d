"""The event log into pandas: from the CSV file of SPEC §5, or straight from the database.

Both readers give the same frame: the columns of ``queue_engine.domain.events.EVENT_COLUMNS``,
``ts`` as timezone-aware UTC instants, the short repeated codes (type, service, window…) as
categories, missing values as NaN, rows in the order they were logged. The hall's time zone
travels in ``frame.attrs["timezone"]``: business dates and hours are local to the hall.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from queue_engine.domain.events import EVENT_COLUMNS

if TYPE_CHECKING:  # the database reader imports SQLAlchemy when used: a CSV needs none of it
    from sqlalchemy import Table

    from queue_engine.adapters.unit_of_work import Database

DEFAULT_TIMEZONE = "Asia/Shanghai"
CATEGORY_COLUMNS = ("hall", "type", "service", "window", "clerk", "channel", "priority")
TEXT_COLUMNS = ("event_id", "ticket_id", "ticket_number", "payload")
# A ticket's events go on after the end of the range (called after midnight, say); how far to
# read past it so those tickets stay whole.
TAIL = timedelta(hours=12)
_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)$")


# Text of categories kept in plain Python strings even when pyarrow is installed (then pandas
# would store them in Arrow): turning a few million codes back into text stays a numpy take.
TEXT = pd.StringDtype("python", na_value=np.nan)


def text_index(labels: list[str]) -> pd.Index:
    """Category labels (sorted, as pandas sorts them), stored as plain Python strings."""
    return pd.Index(labels, dtype=TEXT)


def zone_of(events: pd.DataFrame) -> tzinfo:
    """The hall's time zone of an event frame: an IANA zone or a fixed UTC offset."""
    name = str(events.attrs.get("timezone") or DEFAULT_TIMEZONE)
    match = _OFFSET.fullmatch(name) if name[:1] in "+-" else None
    if match is not None:
        sign = -1 if match.group(1) == "-" else 1
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        return timezone(sign * timedelta(minutes=minutes))
    return ZoneInfo(name)


def read_events_csv(path: str | Path | IO[str], timezone_name: str | None = None) -> pd.DataFrame:
    """Read an event-log CSV file (SPEC §5).

    The hall's zone is ``timezone_name`` when given, else the UTC offset written in the file's
    first timestamp (the export writes times with the hall's offset).
    """
    if not isinstance(path, str | Path):
        path = io.StringIO(path.read())  # a text stream is read once, and may be read twice
    frame = _read_arrow(path)
    blanks = frame is None  # pyarrow reads empty fields as missing; pandas as "" here
    if frame is None:
        if isinstance(path, io.StringIO):
            path.seek(0)
        frame = pd.read_csv(
            path,
            dtype=object,  # text as it is: categories would read window "1" as the number 1.0
            usecols=list(EVENT_COLUMNS),
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8",
        )
    tz = timezone_name
    if tz is None:
        first = _first_ts(path) if _is_datetime(frame["ts"]) else _text(frame["ts"])
        match = _OFFSET.search(first)
        tz = (match.group(0) if match else None) or DEFAULT_TIMEZONE
        if tz in ("+08:00",):
            tz = DEFAULT_TIMEZONE  # the default hall zone has had no other offset since 1991
    return _typed(frame, tz, blanks)


def _text(values: pd.Series) -> str:
    return str(values.iloc[0]) if len(values) else ""


def _is_datetime(values: pd.Series) -> bool:
    return bool(pd.api.types.is_datetime64_any_dtype(values))


def _read_arrow(source: str | Path | io.StringIO) -> pd.DataFrame | None:
    """The file through pyarrow's CSV reader: several times faster than pandas' own parser,
    with the timestamps parsed and the short codes dictionary-encoded (categories) as it reads.

    ``None`` (the caller reads it with pandas instead) when pyarrow is missing or the file has
    anything it reads differently: timestamps it cannot parse to the microsecond, a missing
    column, bad UTF-8…, so that both ways give the same frame or the same error.
    """
    try:
        import pyarrow as pa
        from pyarrow import csv
    except ImportError:  # pragma: no cover - pyarrow is a dependency; pandas still reads it
        return None
    types = {c: pa.string() for c in EVENT_COLUMNS}
    # codes and, for the text a ticket repeats (its id, number; payloads mostly "{}"), one
    # string per distinct value: fewer Python strings to make, and equal ones are the same
    # object (fast to hash and compare when events are matched to their tickets)
    shared = (*CATEGORY_COLUMNS, *(c for c in TEXT_COLUMNS if c != "event_id"))
    types.update({c: pa.dictionary(pa.int32(), pa.string()) for c in shared})
    types["ts"] = pa.timestamp("us", tz="UTC")
    data = io.BytesIO(source.getvalue().encode()) if isinstance(source, io.StringIO) else source
    try:
        table = csv.read_csv(
            data,
            parse_options=csv.ParseOptions(newlines_in_values=True),
            convert_options=csv.ConvertOptions(
                column_types=types,
                include_columns=list(EVENT_COLUMNS),
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, OSError, ValueError):
        return None
    text = [c for c in TEXT_COLUMNS if c != "event_id"]
    frame: pd.DataFrame = table.drop_columns(text).to_pandas()
    for column in text:
        frame[column] = pd.Series(_objects(table.column(column)), dtype=object)
    return frame


def _objects(column: Any) -> np.ndarray[Any, Any]:
    """A dictionary-encoded pyarrow column as Python strings (``None``: missing), block by
    block: no merging of the blocks' dictionaries, no pandas categories on the way."""
    parts = []
    for chunk in column.chunks:
        distinct = np.empty(len(chunk.dictionary) + 1, dtype=object)
        distinct[:-1] = chunk.dictionary.to_numpy(zero_copy_only=False)  # last: None
        parts.append(distinct[chunk.indices.fill_null(-1).to_numpy()])
    return np.concatenate(parts) if parts else np.empty(0, dtype=object)


def _first_ts(source: str | Path | io.StringIO) -> str:
    """The first timestamp as written in the file (its UTC offset names the hall's zone)."""
    if isinstance(source, io.StringIO):
        source.seek(0)
        head = pd.read_csv(source, dtype=object, usecols=["ts"], nrows=1, keep_default_na=False)
    else:
        head = pd.read_csv(
            source, dtype=object, usecols=["ts"], nrows=1, keep_default_na=False, encoding="utf-8"
        )
    return _text(head["ts"])


def read_events_db(
    database_or_url: Database | str,
    hall: str,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
) -> pd.DataFrame:
    """A hall's logged events from the database, as ``read_events_csv`` gives them.

    ``start``/``end`` as dates are business dates in the hall's zone, both inclusive (as in
    ``hall events export``); as datetimes they are instants, ``end`` exclusive. Tickets issued
    in the range are read whole, events after ``end`` included.
    """
    from sqlalchemy import select

    from queue_engine.adapters.orm import HallRow
    from queue_engine.adapters.unit_of_work import Database, UnitOfWork
    from queue_engine.domain.errors import NotFound

    db = Database(database_or_url) if isinstance(database_or_url, str) else database_or_url
    try:
        with UnitOfWork(db, write=False) as uow:
            tz = uow.conn.execute(
                select(HallRow.timezone).where(HallRow.code == hall)
            ).scalar_one_or_none()
            if tz is None:
                raise NotFound(f"no hall {hall}")
            zone = ZoneInfo(tz)
            lo = _instant(start, zone, 0)
            hi = _instant(end, zone, 1)
            rows = _fetch(uow.conn, hall, lo, None if hi is None else hi + TAIL)
    finally:
        if isinstance(database_or_url, str):
            db.dispose()
    frame = pd.DataFrame.from_records(rows, columns=list(EVENT_COLUMNS))
    frame["ts"] = _instants(frame["ts"], db.engine.dialect.name)
    if hi is not None:
        frame = _cut(frame, pd.Timestamp(hi))
    return _typed(frame, tz)


def _raw_ts(e: Table, dialect: str) -> Any:
    """The timestamp column in a form pandas converts in bulk (no per-row datetimes)."""
    from sqlalchemy import Float, String, cast, func

    if dialect == "postgresql":
        return cast(func.extract("epoch", e.c.ts), Float).label("ts")
    return cast(e.c.ts, String).label("ts")  # SQLite keeps naive UTC text


def _instants(values: pd.Series, dialect: str) -> pd.Series:
    if dialect == "postgresql":
        micros = (values.astype("float64") * 1e6).round().astype("int64")
        return pd.to_datetime(micros, unit="us", utc=True)
    return pd.to_datetime(values, format="ISO8601").dt.tz_localize("UTC")


def _fetch(conn: Any, hall: str, lo: datetime | None, hi: datetime | None) -> list[Any]:
    from sqlalchemy import select

    from queue_engine.adapters.orm import EventRow

    e: Table = EventRow.__table__  # type: ignore[assignment]
    columns = [_raw_ts(e, conn.dialect.name) if c == "ts" else e.c[c] for c in EVENT_COLUMNS]
    stmt = select(*columns).where(e.c.hall == hall).order_by(e.c.id)
    if lo is not None:
        stmt = stmt.where(e.c.ts >= lo)
    if hi is not None:
        stmt = stmt.where(e.c.ts < hi)
    return [tuple(r) for r in conn.execute(stmt)]


def _cut(frame: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Keep events before ``end`` and the later events of tickets issued before it."""
    before = frame["ts"] < end
    issued_before = frame.loc[before & (frame["type"] == "ticket.issued"), "ticket_id"]
    keep = before | frame["ticket_id"].isin(issued_before)
    return frame.loc[keep].reset_index(drop=True)


def _instant(day: date | datetime | None, zone: ZoneInfo, plus_days: int) -> datetime | None:
    if day is None:
        return None
    if isinstance(day, datetime):
        if day.tzinfo is None:
            raise ValueError("give aware datetimes (or dates) to read events")
        return day
    return datetime.combine(day + timedelta(days=plus_days), time(0), zone)


def _timestamps(values: pd.Series) -> pd.Series:
    """ISO 8601 with offset; the common whole-second form first (several times faster)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    try:
        return pd.to_datetime(values, utc=True, format="%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return pd.to_datetime(values, utc=True, format="ISO8601")


def _typed(frame: pd.DataFrame, tz: str, blanks: bool = True) -> pd.DataFrame:
    """The one set of dtypes both readers return (empty text counts as missing)."""
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for column in EVENT_COLUMNS:
        values = frame[column].reset_index(drop=True)
        if column == "ts":
            out[column] = _timestamps(values)
            continue
        if column in CATEGORY_COLUMNS:
            category = (
                values
                if isinstance(values.dtype, pd.CategoricalDtype)
                else values.astype(object).astype("category")
            )
            labels = sorted(str(c) for c in category.cat.categories if c != "")
            out[column] = category.cat.set_categories(text_index(labels))
        elif values.dtype == object and not blanks:  # from ``_objects``: missing is None
            out[column] = pd.Series(values.to_numpy(), dtype=object)
        else:
            # missing: None (pandas-stubs do not know na_value=None)
            text = values.to_numpy(dtype=object, na_value=None, copy=True)  # type: ignore[call-overload]
            if blanks and column != "payload":
                text[text == ""] = None
            out[column] = pd.Series(text, dtype=object)
    out.attrs["timezone"] = tz
    return out
