"""最多跑一次 figures from an event log with known returns come out exact."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from analytics.visits import one_visit_report

ZONE = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 2, 9, 0, tzinfo=ZONE)


def log(visits: list[tuple[str, str | None, str, int, str, str]]) -> pd.DataFrame:
    """(ticket, citizen, service, day offset, outcome, window) → issued + finished rows."""
    rows = []
    for ticket, citizen, service, offset, outcome, window in visits:
        ts = DAY + timedelta(days=offset)
        issued = {"services": [service]} | ({"citizen": citizen} if citizen else {})
        rows.append(("ticket.issued", ticket, service, None, ts, json.dumps(issued)))
        done = {"outcome": outcome, "segment": 0, "segments": 1}
        rows.append(("ticket.finished", ticket, service, window, ts, json.dumps(done)))
    return pd.DataFrame(rows, columns=["type", "ticket_id", "service", "window", "ts", "payload"])


def test_share_done_in_one_visit_and_returns_per_service_are_exact() -> None:
    events = log(
        [
            ("t1", "c1", "SOCIAL", 0, "completed", "10"),  # matter 1: one visit
            ("t2", "c2", "SOCIAL", 0, "needs_documents", "10"),  # matter 2: two visits
            ("t3", "c2", "SOCIAL", 3, "completed", "11"),
            ("t4", "c3", "TAX", 0, "needs_documents", "8"),  # matter 3: three visits
            ("t5", "c3", "TAX", 1, "needs_documents", "8"),
            ("t6", "c3", "TAX", 2, "accepted", "9"),
            ("t7", "c4", "TAX", 0, "needs_documents", "8"),  # matter 4: returned too late
            ("t8", "c4", "TAX", 31, "completed", "8"),  # matter 5: a new one, one visit
            ("t9", None, "SOCIAL", 0, "needs_documents", "10"),  # no identity: a return only
        ]
    )
    report = one_visit_report(events)
    assert report["matters"] == 5 and report["visits"] == 8
    assert report["share_one_visit"] == round(2 / 5, 4)
    assert report["visits_per_matter"] == round(8 / 5, 4)
    assert report["by_service"]["SOCIAL"] == {
        "matters": 2,
        "visits": 3,
        "one_visit": 1,
        "share_one_visit": 0.5,
        "visits_per_matter": 1.5,
    }
    assert report["by_service"]["TAX"]["one_visit"] == 1
    assert report["returns_for_documents"] == [
        {"month": "2026-11", "service": "SOCIAL", "window": "10", "returns": 2},
        {"month": "2026-11", "service": "TAX", "window": "8", "returns": 3},
    ]


def test_a_proxy_ticket_is_a_proxy_visit_of_the_citizen_served() -> None:
    events = log(
        [
            ("t1", "c1", "SOCIAL", 0, "needs_documents", "10"),
            ("t2", "c1", "SOCIAL", 2, "completed", "10"),  # the return, taken by an agent
            ("t3", "c2", "TAX", 0, "completed", "8"),
        ]
    )
    issued = (events["type"] == "ticket.issued") & (events["ticket_id"] == "t2")
    events.loc[issued, "payload"] = json.dumps(
        {"services": ["SOCIAL"], "citizen": "c1", "proxy": "agent"}
    )
    report = one_visit_report(events)
    assert report["proxy_visits"] == 1
    assert report["matters"] == 2 and report["visits"] == 3  # the agent's visit is c1's


def test_a_log_without_identities_has_no_matters() -> None:
    report = one_visit_report(log([("t1", None, "SOCIAL", 0, "completed", "10")]))
    assert report["matters"] == 0 and report["share_one_visit"] is None


def test_the_export_carries_a_per_export_pseudonym_never_the_hash() -> None:
    import io

    from queue_engine.adapters.event_csv import write_csv

    stored = {
        "event_id": "1",
        "hall": "ZMD",
        "ts": DAY,
        "type": "ticket.issued",
        "ticket_id": "t1",
        "payload": json.dumps({"citizen": "a" * 64, "proxy": "b" * 64}),
    }
    first, second = io.StringIO(), io.StringIO()
    write_csv([stored, stored], ZONE, first)
    write_csv([stored], ZONE, second)
    assert "a" * 64 not in first.getvalue() and "b" * 64 not in first.getvalue()
    lines = first.getvalue().splitlines()
    assert lines[1] == lines[2]  # the same citizen within one export: returns still count
    assert lines[1] != second.getvalue().splitlines()[1]  # another export, another pseudonym
