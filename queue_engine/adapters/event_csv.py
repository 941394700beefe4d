"""The event log as a CSV file (SPEC §5): the same columns from the live hall and the simulation."""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from typing import IO, Any
from zoneinfo import ZoneInfo

from queue_engine.domain.cells import spreadsheet_safe
from queue_engine.domain.events import EVENT_COLUMNS, EventType
from queue_engine.domain.redaction import mask_personal_data

PERSON_KEYS = ("citizen", "proxy")


def csv_row(stored: Mapping[Any, Any], zone: ZoneInfo, salt: bytes | None = None) -> dict[str, str]:
    """One stored event (a mapping with the log's columns) as a CSV row, times in the hall zone.

    Cells a spreadsheet would run as formulas are escaped (``spreadsheet_safe``). A citizen's
    keyed hash (``citizen``, ``proxy`` in ``ticket.issued``) leaves only as a pseudonym under
    ``salt`` (one per export: returns count within a file, never across files or to the hall).
    """
    if stored.get("type") == EventType.TICKET_ISSUED and stored.get("payload"):
        stored = {**stored, "payload": _pseudonymised(str(stored["payload"]), salt)}
    row = {
        column: "" if stored.get(column) is None else str(spreadsheet_safe(str(stored[column])))
        for column in EVENT_COLUMNS
    }
    row["ts"] = stored["ts"].astimezone(zone).isoformat()
    if stored.get("type") == EventType.WINDOW_PAUSED and stored.get("payload"):
        row["payload"] = _masked_pause(str(stored["payload"]))
    return row


def _pseudonymised(payload: str, salt: bytes | None) -> str:
    try:
        data = json.loads(payload)
    except ValueError:
        return payload
    if not isinstance(data, dict) or not any(k in data for k in PERSON_KEYS):
        return payload
    key = salt or secrets.token_bytes(32)
    for name in PERSON_KEYS:
        if isinstance(data.get(name), str):
            digest = hmac.new(key, data[name].encode(), hashlib.sha256).hexdigest()
            data[name] = digest[:20]
    return json.dumps(data, ensure_ascii=False)


def _masked_pause(payload: str) -> str:
    """A pause logged before reasons were masked leaves the hall masked all the same."""
    try:
        data = json.loads(payload)
    except ValueError:
        return payload
    reason = data.get("reason") if isinstance(data, dict) else None
    if not isinstance(reason, str) or mask_personal_data(reason) == reason:
        return payload
    return json.dumps({**data, "reason": mask_personal_data(reason)}, ensure_ascii=False)


def write_csv(rows: Iterable[Mapping[Any, Any]], zone: ZoneInfo, out: IO[str]) -> int:
    """Write events as CSV with the SPEC's header; returns the number of rows written."""
    writer = csv.DictWriter(out, fieldnames=list(EVENT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    count = 0
    salt = secrets.token_bytes(32)  # one per export
    for stored in rows:
        writer.writerow(csv_row(stored, zone, salt))
        count += 1
    return count
