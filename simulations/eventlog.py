"""A simulated run as the hall's event log (SPEC §5), row for row like the live system writes it.

The rows are built with ``queue_engine.domain.events.DomainEvent.to_row`` and written with
``queue_engine.adapters.event_csv`` column order, so analytics cannot tell a simulated day
from a real one except by the ``sim-`` clerk names.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise
from typing import IO, Any

import numpy as np

from queue_engine.domain.events import EVENT_COLUMNS, DomainEvent, EventType
from queue_engine.domain.model import format_number

from .model import ABANDONED, CLOSED, DAY, DONE, IN_SERVICE, NO_SHOW, SimResult, midnight

PREFIXES = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _prefix(codes: list[str], k: int) -> str:
    code = codes[k]
    first = code[:1].upper()
    if first.isascii() and first.isalpha() and sum(c[:1].upper() == first for c in codes) == 1:
        return first
    return PREFIXES[k % len(PREFIXES)]


def window_hours(
    result: SimResult, window: int, starts: list[float], ends: list[float]
) -> list[tuple[float, float]]:
    """When a window really was open: its schedule, kept open past the end of a session (or the
    closing time) until the citizen being served at that moment has finished."""
    sc = result.scenario
    mine = (result.window == window) & ~np.isnan(result.finished)
    called, finished = result.called[mine], result.finished[mine]
    hours = []
    for s, e in zip(starts, ends, strict=True):
        end = e
        if sc.horizon_minutes is None:
            end = min(e, (s // DAY) * DAY + sc.open_minute + sc.day_minutes)
        during = (called >= s) & (called < e)
        if during.any():
            end = max(end, float(finished[during].max()))
        hours.append((s, end))
    return hours


def events(result: SimResult) -> Iterator[DomainEvent]:
    """The run's events in time order (ties keep the life-cycle order of one ticket)."""
    sc = result.scenario
    t0 = midnight(sc)
    hall = sc.hall
    codes = [s.code for s in sc.services]
    prefixes = [_prefix(codes, k) for k in range(len(codes))]
    a = result.arrivals
    keyed: list[tuple[float, int, int, DomainEvent]] = []

    def at(minutes: float) -> Any:
        return t0 + timedelta(minutes=minutes)

    for w in result.windows:
        label, clerk = str(w.id), f"sim-{w.id}"
        for s, e in window_hours(result, w.id, w.starts, w.ends):
            opened = DomainEvent(EventType.WINDOW_OPENED, hall, at(s), window=label, clerk=clerk)
            closed = DomainEvent(EventType.WINDOW_CLOSED, hall, at(e), window=label, clerk=clerk)
            keyed.append((s, -1, 0, opened))
            keyed.append((e, 1 << 40, 0, closed))
    seq: dict[tuple[int, int], int] = {}
    chains = _chains(result)
    for i in np.flatnonzero(a.first).tolist():
        k = int(a.service[i])
        day = int(a.t[i] // 1440)
        seq[(day, k)] = seq.get((day, k), 0) + 1
        slot = float(a.slot[i])
        appointment = not math.isnan(slot)
        common: dict[str, Any] = {
            "ticket_id": f"sim-{i}",
            "ticket_number": format_number(prefixes[k], seq[(day, k)]),
            "service": codes[k],
            "channel": "appointment" if appointment else "kiosk",
            "priority": "elderly" if a.priority[i] else "none",
        }
        payload: dict[str, Any] = {}
        if result.estimates is not None:
            median, p90 = result.estimates[i]
            payload["estimated_wait"] = {"median_minutes": median, "p90_minutes": p90}
        if appointment:
            payload["slot_start"] = at(slot).isoformat()
        chain = chains.get(i, [i])
        if len(chain) > 1:
            payload["services"] = [codes[int(a.service[j])] for j in chain]
        keyed.append(
            (
                float(a.t[i]),
                i,
                0,
                DomainEvent(
                    EventType.TICKET_ISSUED, hall, at(float(a.t[i])), payload=payload, **common
                ),
            )
        )
        status = int(result.status[i])
        if status in (DONE, NO_SHOW, IN_SERVICE):
            label = str(int(result.window[i]))
            called = float(result.called[i])
            end = float(result.finished[i])
            staff: dict[str, Any] = {"window": label, "clerk": f"sim-{label}", **common}
            steps = [(called, EventType.TICKET_CALLED)]
            if status in (DONE, IN_SERVICE):
                steps.append((called, EventType.TICKET_STARTED))
            if status == DONE:
                steps.append((end, EventType.TICKET_FINISHED))
            elif status == NO_SHOW:
                steps.append((end, EventType.TICKET_NO_SHOW))
            for order, (moment, kind) in enumerate(steps, 1):
                keyed.append((moment, i, order, DomainEvent(kind, hall, at(moment), **staff)))
        elif status in (ABANDONED, CLOSED):
            end = float(result.ended[i])
            reason = {"reason": "gave_up" if status == ABANDONED else "hall_closed"}
            event = DomainEvent(EventType.TICKET_CANCELLED, hall, at(end), payload=reason, **common)
            keyed.append((end, i, 4, event))
        keyed.extend(_later_segments(result, chain, common, at, codes))
    keyed.sort(key=lambda item: item[:3])
    for *_, event in keyed:
        yield event


def _chains(result: SimResult) -> dict[int, list[int]]:
    """The rows of each multi-service ticket, by its first row (issue 18)."""
    a = result.arrivals
    nxt = a.next if a.next is not None else np.full(a.t.size, -1)
    out: dict[int, list[int]] = {}
    for i in np.flatnonzero(a.first & (nxt >= 0)).tolist():
        rows = [i]
        while nxt[rows[-1]] >= 0:
            rows.append(int(nxt[rows[-1]]))
        out[i] = rows
    return out


def _later_segments(
    result: SimResult, chain: list[int], common: dict[str, Any], at: Any, codes: list[str]
) -> Iterator[tuple[float, int, int, DomainEvent]]:
    """A multi-service ticket's later services as the live log has them: ``ticket.next_service``
    when the previous one finishes, then the call, start and finish of each (one ticket id)."""
    hall, head = result.scenario.hall, chain[0]
    for n, (before, j) in enumerate(pairwise(chain), 1):
        if int(result.status[j]) not in (DONE, NO_SHOW, IN_SERVICE):
            return  # never reached, or still waiting when the hall closed
        moved = float(result.finished[before])
        service = codes[int(result.arrivals.service[j])]
        previous = codes[int(result.arrivals.service[before])]
        payload = {"from_service": previous, "to_service": service, "segment": n,
                   "segments": len(chain)}  # fmt: skip
        prior = {**common, "service": previous}
        event = DomainEvent(
            EventType.TICKET_NEXT_SERVICE, hall, at(moved), payload=payload, **prior
        )
        yield (moved, head, 10 * n, event)
        label = str(int(result.window[j]))
        staff: dict[str, Any] = {
            **common,
            "service": service,
            "window": label,
            "clerk": f"sim-{label}",
        }
        called, end = float(result.called[j]), float(result.finished[j])
        steps = [(called, EventType.TICKET_CALLED)]
        if int(result.status[j]) in (DONE, IN_SERVICE):
            steps.append((called, EventType.TICKET_STARTED))
        if int(result.status[j]) == DONE:
            steps.append((end, EventType.TICKET_FINISHED))
        for order, (moment, kind) in enumerate(steps, 1):
            yield (moment, head, 10 * n + order, DomainEvent(kind, hall, at(moment), **staff))


def event_frame(result: SimResult) -> Any:
    """The run's event log as ``analytics`` reads it (a pandas frame; steady state: without the
    warm-up tickets), for checking the simulation's own KPIs against the hall's ruler."""
    import io

    from analytics.load import read_events_csv

    buffer = io.StringIO()
    write_event_log(result, buffer)
    buffer.seek(0)
    frame = read_events_csv(buffer, result.scenario.timezone)
    sc = result.scenario
    if sc.horizon_minutes is not None and sc.warmup_minutes > 0:
        early = [f"sim-{i}" for i in np.flatnonzero(result.arrivals.t < sc.warmup_minutes)]
        frame = frame[~frame["ticket_id"].isin(early)].reset_index(drop=True)
    return frame


def write_event_log(result: SimResult, out: IO[str]) -> int:
    """Write the run's event log as CSV with the SPEC's header; returns the number of rows."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(result.scenario.timezone)
    writer = csv.DictWriter(out, fieldnames=list(EVENT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    count = 0
    for n, event in enumerate(events(result), 1):
        writer.writerow(event.to_row(f"sim-{n}", zone))
        count += 1
    return count
