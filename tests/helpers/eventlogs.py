"""Small hand-made event logs for KPI, profile and flag tests, written as SPEC §5 CSV files."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from queue_engine.domain.events import EVENT_COLUMNS

CST = timezone(timedelta(hours=8))


def at(day: int, hhmm: str, month: int = 11) -> datetime:
    """A local (UTC+8) time in 2026: ``at(26, "09:04")``."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(2026, month, day, hour, minute, tzinfo=CST)


@dataclass
class Log:
    """Events appended in any order; written sorted by time (stable), like the live log."""

    hall: str = "ZMD"
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, ts: datetime, **columns: Any) -> None:
        payload = columns.pop("payload", {})
        row = {c: "" for c in EVENT_COLUMNS}
        row.update({k: "" if v is None else str(v) for k, v in columns.items()})
        row.update(hall=self.hall, ts=ts, type=kind, payload=json.dumps(payload))
        self.rows.append(row)

    def ticket(
        self,
        tid: str,
        number: str,
        service: str,
        issued: datetime,
        *,
        channel: str = "kiosk",
        priority: str = "none",
        estimate: tuple[float, float] | None = None,
        slot: datetime | None = None,
    ) -> Ticket:
        payload: dict[str, Any] = {
            "estimated_wait": {"median_minutes": estimate[0], "p90_minutes": estimate[1]}
            if estimate
            else None
        }
        if slot is not None:
            payload["slot_start"] = slot.isoformat()
        t = Ticket(self, tid, number, service, channel, priority)
        t.emit("ticket.issued", issued, payload=payload)
        return t

    def window(self, window: str, kind: str, ts: datetime, clerk: str = "") -> None:
        self.add(f"window.{kind}", ts, window=window, clerk=clerk)

    def write(self, path: Path) -> Path:
        ordered = sorted(self.rows, key=lambda r: r["ts"])
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(EVENT_COLUMNS), lineterminator="\n")
            writer.writeheader()
            for n, row in enumerate(ordered):
                writer.writerow({**row, "event_id": f"e{n:05d}", "ts": row["ts"].isoformat()})
        return path


@dataclass
class Ticket:
    log: Log
    tid: str
    number: str
    service: str
    channel: str
    priority: str
    window: str = ""
    clerk: str = ""

    def emit(self, kind: str, ts: datetime, **payload: Any) -> Ticket:
        self.log.add(
            kind,
            ts,
            ticket_id=self.tid,
            ticket_number=self.number,
            service=self.service,
            window=self.window,
            clerk=self.clerk,
            channel=self.channel,
            priority=self.priority,
            payload=payload.get("payload", payload),
        )
        return self

    def call(self, ts: datetime, window: str, clerk: str) -> Ticket:
        self.window, self.clerk = window, clerk
        return self.emit("ticket.called", ts)

    def recall(self, ts: datetime) -> Ticket:
        return self.emit("ticket.recalled", ts, recalls=1)

    def start(self, ts: datetime) -> Ticket:
        return self.emit("ticket.started", ts)

    def finish(self, ts: datetime) -> Ticket:
        return self.emit("ticket.finished", ts)

    def no_show(self, ts: datetime, requeued: bool = False) -> Ticket:
        self.emit("ticket.no_show", ts, requeued=requeued)
        if requeued:
            self.window = self.clerk = ""
        return self

    def transfer(self, ts: datetime, to_service: str) -> Ticket:
        self.emit("ticket.transferred", ts, from_service=self.service, to_service=to_service)
        self.service, self.window, self.clerk = to_service, "", ""
        return self

    def cancel(self, ts: datetime) -> Ticket:
        return self.emit("ticket.cancelled", ts, by="holder")

    def rate(self, ts: datetime, score: int, comment: str = "") -> Ticket:
        return self.emit("evaluation", ts, score=score, comment=comment)


def worked_example() -> Log:
    """The log whose KPIs tests/service/test_kpis.py works out by hand.

    Thursday 26 Nov 2026 (UTC+8) and Friday the 27th:

    * T1 A001 kiosk, issued 09:00 (told 4/8 min); window 1 (c1) calls 09:04, starts 09:05,
      finishes 09:11: wait 4, handling 6; rated 5.
    * T2 A002 appointment, slot 09:30, checked in 09:10 (told 3/6); called 09:32 at window 1,
      09:32–09:40: wait 2 (from the slot), handling 8.
    * T3 A003 elderly, issued 09:05 (told 5/10); window 2 (c2) calls 09:12 (wait 7) and marks a
      requeued no-show 09:14; calls again 09:20, starts 09:21, transfers to B 09:25; window 3
      (c3) calls 09:40 (recalled 09:41), 09:41–09:51: handling 10; rated 2 (a bad review).
    * T4 B001 web, issued 09:20 (told 10/20), cancelled 09:30.
    * T5 B002 kiosk, issued 23:50 (told 10/20); window 3 calls 00:10 on the 27th (wait 20):
      no-show 00:12, final. It counts on the 26th.
    * T6 A004 kiosk, issued 27th 10:00 (told 10/15); window 1 calls 10:20, 10:20–10:25.

    Windows: 1 open 09:00–11:00 on the 26th with a pause 10:00–10:30 (90 min) and 10:00–11:00
    on the 27th (60); 2 open 09:10–09:30 (20); 3 open 09:30–00:30 (900).
    """
    log = Log()
    log.window("1", "opened", at(26, "09:00"), "c1")
    log.window("1", "paused", at(26, "10:00"), "c1")
    log.window("1", "resumed", at(26, "10:30"), "c1")
    log.window("1", "closed", at(26, "11:00"), "c1")
    log.window("2", "opened", at(26, "09:10"), "c2")
    log.window("2", "closed", at(26, "09:30"), "c2")
    log.window("3", "opened", at(26, "09:30"), "c3")
    log.window("3", "closed", at(27, "00:30"), "c3")
    log.window("1", "opened", at(27, "10:00"), "c1")
    log.window("1", "closed", at(27, "11:00"), "c1")

    t1 = log.ticket("t1", "A001", "A", at(26, "09:00"), estimate=(4, 8))
    t1.call(at(26, "09:04"), "1", "c1").start(at(26, "09:05")).finish(at(26, "09:11"))
    t1.rate(at(26, "09:12"), 5)
    t2 = log.ticket(
        "t2", "A002", "A", at(26, "09:10"), channel="appointment", estimate=(3, 6),
        slot=at(26, "09:30"),
    )  # fmt: skip
    t2.call(at(26, "09:32"), "1", "c1").start(at(26, "09:32")).finish(at(26, "09:40"))
    t3 = log.ticket("t3", "A003", "A", at(26, "09:05"), priority="elderly", estimate=(5, 10))
    t3.call(at(26, "09:12"), "2", "c2").no_show(at(26, "09:14"), requeued=True)
    t3.call(at(26, "09:20"), "2", "c2").start(at(26, "09:21")).transfer(at(26, "09:25"), "B")
    t3.call(at(26, "09:40"), "3", "c3").recall(at(26, "09:41"))
    t3.start(at(26, "09:41")).finish(at(26, "09:51")).rate(at(26, "09:55"), 2, "太慢")
    t4 = log.ticket("t4", "B001", "B", at(26, "09:20"), channel="web", estimate=(10, 20))
    t4.cancel(at(26, "09:30"))
    t5 = log.ticket("t5", "B002", "B", at(26, "23:50"), estimate=(10, 20))
    t5.call(at(27, "00:10"), "3", "c3").no_show(at(27, "00:12"))
    t6 = log.ticket("t6", "A004", "A", at(27, "10:00"), estimate=(10, 15))
    t6.call(at(27, "10:20"), "1", "c1").start(at(27, "10:20")).finish(at(27, "10:25"))
    return log
