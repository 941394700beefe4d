"""KPI definitions of SPEC §4 on single tickets, and today's live summary.

Waiting time = first call − issue (for appointments: − the later of issue and slot start).
Handling time = finish − start. Service level = share of called tickets whose wait is within
the target (default 5 minutes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

SERVICE_LEVEL_MINUTES = 5.0


@dataclass(frozen=True)
class TicketTimes:
    status: str
    issued_at: datetime
    slot_start: datetime | None
    first_called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


def wait_minutes(t: TicketTimes) -> float | None:
    if t.first_called_at is None:
        return None
    start = max(t.issued_at, t.slot_start) if t.slot_start is not None else t.issued_at
    return max((t.first_called_at - start).total_seconds() / 60, 0.0)


def handling_minutes(t: TicketTimes) -> float | None:
    if t.started_at is None or t.finished_at is None or t.status != "done":
        return None
    return (t.finished_at - t.started_at).total_seconds() / 60


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 2) if values else 0.0


def summary(
    tickets: Iterable[TicketTimes], target_minutes: float = SERVICE_LEVEL_MINUTES
) -> dict[str, float]:
    """Today's counts, mean wait and handling, and service level, for dashboards and consoles."""
    rows = list(tickets)
    waits = [w for t in rows if (w := wait_minutes(t)) is not None]
    handling = [h for t in rows if (h := handling_minutes(t)) is not None]
    by_status: dict[str, int] = {}
    for t in rows:
        by_status[t.status] = by_status.get(t.status, 0) + 1
    return {
        "issued": float(len(rows)),
        "waiting": float(by_status.get("waiting", 0)),
        "served": float(by_status.get("done", 0)),
        "no_show": float(by_status.get("no_show", 0)),
        "cancelled": float(by_status.get("cancelled", 0)),
        "mean_wait_minutes": _mean(waits),
        "mean_handling_minutes": _mean(handling),
        "service_level": round(sum(w <= target_minutes for w in waits) / len(waits), 3)
        if waits
        else 0.0,
    }
