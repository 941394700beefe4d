"""The event log as a CSV file (SPEC §5): the same columns from the live hall and the simulation."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO, Any
from zoneinfo import ZoneInfo

from queue_engine.domain.events import EVENT_COLUMNS


def csv_row(stored: Mapping[Any, Any], zone: ZoneInfo) -> dict[str, str]:
    """One stored event (a mapping with the log's columns) as a CSV row, times in the hall zone."""
    row = {
        column: "" if stored.get(column) is None else str(stored[column])
        for column in EVENT_COLUMNS
    }
    row["ts"] = stored["ts"].astimezone(zone).isoformat()
    return row


def write_csv(rows: Iterable[Mapping[Any, Any]], zone: ZoneInfo, out: IO[str]) -> int:
    """Write events as CSV with the SPEC's header; returns the number of rows written."""
    writer = csv.DictWriter(out, fieldnames=list(EVENT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    count = 0
    for stored in rows:
        writer.writerow(csv_row(stored, zone))
        count += 1
    return count
