"""The database reader gives the frame the CSV reader gives (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from analytics.kpis import kpis
from analytics.load import read_events_csv, read_events_db
from queue_engine.adapters.event_csv import write_csv
from queue_engine.adapters.repository import append_events, events_between
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.errors import NotFound
from queue_engine.domain.events import DomainEvent, EventType
from tests.helpers.eventlogs import worked_example

ZONE = ZoneInfo("Asia/Shanghai")


def _store(db: Database) -> None:
    log = worked_example()
    rows = sorted(log.rows, key=lambda r: r["ts"])
    events = [
        DomainEvent(
            type=EventType(r["type"]),
            hall=r["hall"],
            ts=r["ts"],
            payload=json.loads(r["payload"]),
            **{
                k: r[k] or None
                for k in (
                    "ticket_id",
                    "ticket_number",
                    "service",
                    "window",
                    "clerk",
                    "channel",
                    "priority",
                )
            },
        )
        for r in rows
    ]
    with UnitOfWork(db) as uow:
        append_events(uow.conn, events)
        uow.commit()


def test_database_and_csv_give_the_same_frame(db: Database) -> None:
    _store(db)
    with UnitOfWork(db, write=False) as uow:
        out = io.StringIO()
        write_csv(events_between(uow.conn, "ZMD", None, None), ZONE, out)
    from_csv = read_events_csv(io.StringIO(out.getvalue()))
    from_db = read_events_db(db, "ZMD")
    assert list(from_db.columns) == list(from_csv.columns)
    assert dict(from_db.dtypes) == dict(from_csv.dtypes)
    pd.testing.assert_frame_equal(from_db, from_csv, check_categorical=False)
    assert from_db.attrs["timezone"] == "Asia/Shanghai"
    assert kpis(from_db).iloc[0]["wait_mean"] == pytest.approx(10.6)


def test_a_date_range_keeps_tickets_whole_past_midnight(db: Database) -> None:
    _store(db)
    thursday = read_events_db(db.url, "ZMD", date(2026, 11, 26), date(2026, 11, 26))
    row = kpis(thursday).iloc[0]
    assert row["tickets"] == 5  # T6 (Friday) is out
    assert row["no_show_rate"] == pytest.approx(1 / 5)  # T5's no-show at 00:12 Friday is in
    instants = read_events_db(
        db,
        "ZMD",
        datetime(2026, 11, 26, 9, 3, tzinfo=ZONE),
        datetime(2026, 11, 26, 9, 6, tzinfo=ZONE),
    )
    assert kpis(instants).iloc[0]["tickets"] == 1  # T3, issued 09:05; its later events too
    assert kpis(instants).iloc[0]["served"] == 1


def test_unknown_hall(db: Database) -> None:
    with pytest.raises(NotFound):
        read_events_db(db, "NOPE")
