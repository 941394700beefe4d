"""The event log into pandas: from the CSV file of SPEC §5, or straight from the database.

Both readers give the same frame: the columns of ``queue_engine.events.EVENT_COLUMNS``,
``ts`` as timezone-aware UTC instants, the short repeated codes (type, service, window…) as
categories, missing values as NaN, rows in the order they were logged. The hall's time zone
travels in ``frame.attrs["timezone"]``: business dates and hours are local to the hall.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Table, select

from queue_engine.adapters.orm import EventRow, HallRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.errors import NotFound
from queue_engine.events import EVENT_COLUMNS

DEFAULT_TIMEZONE = "Asia/Shanghai"
CATEGORY_COLUMNS = ("hall", "type", "service", "window", "clerk", "channel", "priority")
TEXT_COLUMNS = ("event_id", "ticket_id", "ticket_number", "payload")
# A ticket's events go on after the end of the range (called after midnight, say); how far to
# read past it so those tickets stay whole.
TAIL = timedelta(hours=12)
_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)$")


def zone_of(events: pd.DataFrame) -> tzinfo:
    """The hall's time zone of an event frame: an IANA zone or a fixed UTC offset."""
    name = str(events.attrs.get("timezone") or DEFAULT_TIMEZONE)
    match = _OFFSET.fullmatch(name) if name[:1] in "+-" else None
    if match is not None:
        sign = -1 if match.group(1) == "-" else 1
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        return timezone(sign * timedelta(minutes=minutes))
    return ZoneInfo(name)


def empty_events(tz: str = DEFAULT_TIMEZONE) -> pd.DataFrame:
    """A frame with the log's columns and dtypes and no rows."""
    return _typed(pd.DataFrame({c: pd.Series([], dtype=object) for c in EVENT_COLUMNS}), tz)


def read_events_csv(path: str | Path | IO[str], timezone_name: str | None = None) -> pd.DataFrame:
    """Read an event-log CSV file (SPEC §5).

    The hall's zone is ``timezone_name`` when given, else the UTC offset written in the file's
    first timestamp (the export writes times with the hall's offset).
    """
    frame = pd.read_csv(
        path,
        dtype=dict.fromkeys(EVENT_COLUMNS, str),
        usecols=list(EVENT_COLUMNS),
        keep_default_na=False,
        na_values=[""],
        encoding="utf-8",
    )
    tz = timezone_name
    if tz is None:
        first = str(frame["ts"].iloc[0]) if len(frame) else ""
        match = _OFFSET.search(first)
        tz = (match.group(0) if match else None) or DEFAULT_TIMEZONE
        if tz in ("+08:00",):
            tz = DEFAULT_TIMEZONE  # the default hall zone has had no other offset since 1991
    return _typed(frame, tz)


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
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    if hi is not None:
        frame = _cut(frame, pd.Timestamp(hi))
    return _typed(frame, tz)


def _fetch(conn: Any, hall: str, lo: datetime | None, hi: datetime | None) -> list[Any]:
    e: Table = EventRow.__table__  # type: ignore[assignment]
    stmt = select(*(e.c[c] for c in EVENT_COLUMNS)).where(e.c.hall == hall).order_by(e.c.id)
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


def _typed(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """The one set of dtypes both readers return."""
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for column in EVENT_COLUMNS:
        values = frame[column].reset_index(drop=True)
        if column == "ts":
            out[column] = pd.to_datetime(values, utc=True, format="ISO8601")
        else:
            values = values.astype(object)
            missing = values.isna() | (values == "") if column != "payload" else values.isna()
            values = values.where(~missing, None)
            out[column] = values.astype("category") if column in CATEGORY_COLUMNS else values
    out.attrs["timezone"] = tz
    return out
