"""最多跑一次 ("come at most once"): how many visits a citizen's matter took, from the event log.

A *matter* is one citizen's business with one service. Each finished service segment of a
ticket with an identity is a visit of that matter; a visit whose outcome is ``needs_documents``
(补正材料) means the citizen must come back, so the matter stays open and the next visit of
the same citizen and service within ``WINDOW_DAYS`` of its first visit belongs to it. Any other
outcome closes the matter.

* visits per matter = visits ÷ matters (citizens with an identity only);
* share done in one visit = matters closed at their first visit ÷ matters;
* returns for missing documents = segments finished ``needs_documents``, by service, window
  and month (every ticket, identity or not);
* proxy visits (代办) = visits of tickets taken by someone for the citizen (the ``proxy`` key
  of ``ticket.issued``); they count for the citizen served, as every other visit.

The citizen is the ``citizen`` key of the ``ticket.issued`` payload: the hall's keyed hash in
the live log, a per-export pseudonym in a CSV file; both count returns the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

WINDOW_DAYS = 30
RETURN_OUTCOME = "needs_documents"


@dataclass(frozen=True)
class Visit:
    citizen: str
    service: str
    ts: datetime
    outcome: str
    window: str | None
    proxy: bool = False  # 代办: the ticket was taken by someone for the citizen


def _payload(text: Any) -> dict[str, Any]:
    if not isinstance(text, str) or not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _rows(frame: pd.DataFrame) -> Iterable[tuple[Any, Any, Any, Any, Any]]:
    columns = ("ticket_id", "service", "window", "ts", "payload")
    return zip(*(frame[c].tolist() for c in columns), strict=True)


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) or value == "" else str(value)


def identified_visits(events: pd.DataFrame) -> list[Visit]:
    """The finished segments of tickets with an identity, in time order."""
    issued = events[events["type"] == "ticket.issued"]
    payloads = dict(zip(issued["ticket_id"], map(_payload, issued["payload"]), strict=True))
    citizens = {
        tid: p["citizen"] for tid, p in payloads.items() if isinstance(p.get("citizen"), str)
    }
    proxies = {tid for tid, p in payloads.items() if isinstance(p.get("proxy"), str)}
    finished = events[(events["type"] == "ticket.finished") & events["ticket_id"].isin(citizens)]
    out = []
    for tid, service, window, ts, payload in _rows(finished):
        outcome = _payload(payload).get("outcome")
        if isinstance(outcome, str):
            proxy = tid in proxies
            out.append(Visit(citizens[tid], str(service), ts, outcome, _text(window), proxy))
    return sorted(out, key=lambda v: v.ts)


def matters(visits: Iterable[Visit]) -> list[list[Visit]]:
    """Visits grouped into matters (see the module's definition)."""
    open_: dict[tuple[str, str], list[Visit]] = {}
    done: list[list[Visit]] = []
    for visit in visits:
        key = (visit.citizen, visit.service)
        current = open_.get(key)
        if current is not None and visit.ts - current[0].ts > timedelta(days=WINDOW_DAYS):
            done.append(open_.pop(key))
            current = None
        if current is None:
            current = open_[key] = []
        current.append(visit)
        if visit.outcome != RETURN_OUTCOME:
            done.append(open_.pop(key))
    return done + list(open_.values())


def one_visit_report(events: pd.DataFrame) -> dict[str, Any]:
    """The 最多跑一次 figures as JSON-ready data (``hall kpis`` key ``one_visit``)."""
    visits = identified_visits(events)
    grouped = matters(visits)
    count = len(grouped)
    once = sum(1 for m in grouped if len(m) == 1 and m[0].outcome != RETURN_OUTCOME)
    by_service: dict[str, dict[str, Any]] = {}
    for m in grouped:
        entry = by_service.setdefault(m[0].service, {"matters": 0, "visits": 0, "one_visit": 0})
        entry["matters"] += 1
        entry["visits"] += len(m)
        entry["one_visit"] += int(len(m) == 1 and m[0].outcome != RETURN_OUTCOME)
    for entry in by_service.values():
        entry["share_one_visit"] = round(entry["one_visit"] / entry["matters"], 4)
        entry["visits_per_matter"] = round(entry["visits"] / entry["matters"], 4)
    return {
        "matters": count,
        "visits": sum(len(m) for m in grouped),
        "visits_per_matter": round(sum(len(m) for m in grouped) / count, 4) if count else None,
        "share_one_visit": round(once / count, 4) if count else None,
        "by_service": dict(sorted(by_service.items())),
        "proxy_visits": sum(1 for v in visits if v.proxy),
        "returns_for_documents": returns_for_documents(events),
    }


def returns_for_documents(events: pd.DataFrame) -> list[dict[str, Any]]:
    """Segments finished ``needs_documents`` per month, service and window."""
    finished = events[events["type"] == "ticket.finished"]
    counts: dict[tuple[str, str, str], int] = {}
    for _, service, window, ts, payload in _rows(finished):
        if _payload(payload).get("outcome") != RETURN_OUTCOME:
            continue
        key = (pd.Timestamp(ts).strftime("%Y-%m"), str(service), _text(window) or "")
        counts[key] = counts.get(key, 0) + 1
    return [
        {"month": m, "service": s, "window": w, "returns": n}
        for (m, s, w), n in sorted(counts.items())
    ]


def segment_outcomes(events: pd.DataFrame) -> pd.DataFrame:
    """Every finished segment with an outcome: ``window``, ``service``, ``returned`` (补正材料).

    Identity or not: whether a window's citizens had to come back for missing documents is a
    fact of the segment, the measure of its 一次性告知 (telling everything needed at once).
    """
    finished = events[(events["type"] == "ticket.finished") & events["window"].notna()]
    rows = [
        (str(window), str(service), outcome == RETURN_OUTCOME)
        for _, service, window, _, payload in _rows(finished)
        if isinstance(outcome := _payload(payload).get("outcome"), str)
    ]
    return pd.DataFrame(rows, columns=["window", "service", "returned"])
