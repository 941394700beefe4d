"""Plan vs actual (issue 21) on a hand-made event log whose answers are worked out here."""

from __future__ import annotations

import io
from datetime import date

import pytest

from analytics.load import read_events_csv
from simulations.plan_actual import compare

HEADER = (
    "event_id,hall,ts,type,ticket_id,ticket_number,service,window,clerk,channel,priority,payload"
)


def row(n: int, clock: str, kind: str, ticket: str = "", window: str = "", clerk: str = "") -> str:
    service = "SOCIAL" if ticket else ""
    number = f"A{ticket[-1]}" if ticket else ""
    channel = "kiosk" if kind == "ticket.issued" else ""
    return (
        f"e{n},ZMD,2026-11-30T{clock}:00+08:00,{kind},{ticket},{number},{service},{window},"
        f"{clerk},{channel},,{{}}"
    )


# Monday 30 November 2026, intervals 08:30, 09:00, 09:30.
# Window 1: open 08:30–09:30. Window 2: open 09:00, paused 09:15, but serving C until 09:40.
# A issued 08:35, called 08:40 (wait 5); B issued 08:50, called 09:10 (wait 20);
# C issued 09:05, called 09:12 at window 2 (wait 7); D issued 09:35, cancelled uncalled.
LOG = "\n".join(
    [
        HEADER,
        row(1, "08:30", "window.opened", window="1", clerk="c1"),
        row(2, "08:35", "ticket.issued", "tA"),
        row(3, "08:40", "ticket.called", "tA", "1", "c1"),
        row(4, "08:41", "ticket.started", "tA", "1", "c1"),
        row(5, "08:50", "ticket.finished", "tA", "1", "c1"),
        row(6, "08:50", "ticket.issued", "tB"),
        row(7, "09:00", "window.opened", window="2", clerk="c2"),
        row(8, "09:05", "ticket.issued", "tC"),
        row(9, "09:10", "ticket.called", "tB", "1", "c1"),
        row(10, "09:12", "ticket.called", "tC", "2", "c2"),
        row(11, "09:13", "ticket.started", "tC", "2", "c2"),
        row(12, "09:15", "window.paused", window="2", clerk="c2"),
        row(13, "09:20", "ticket.finished", "tB", "1", "c1"),
        row(14, "09:30", "window.closed", window="1", clerk="c1"),
        row(15, "09:35", "ticket.issued", "tD"),
        row(16, "09:40", "ticket.finished", "tC", "2", "c2"),
        row(17, "09:45", "ticket.cancelled", "tD"),
    ]
)

INTERVALS = ["08:30", "09:00", "09:30"]


def day_plan(day: str, expected: list[float]) -> dict[str, object]:
    return {
        "date": day,
        "open": True,
        "intervals": [
            {"start": s, "expected": e, "low": e - 1, "high": e + 1}
            for s, e in zip(INTERVALS, expected, strict=True)
        ],
    }


PLAN = {
    "forecast": {"days": [day_plan("2026-11-30", [2, 1, 0]), day_plan("2026-12-01", [1, 1, 1])]},
    "requirement": {
        "interval_minutes": 30,
        "intervals": INTERVALS,
        "days": [{"windows": [1, 1, 1]}, {"windows": [1, 1, 1]}],
    },
    "roster": {
        "days": [
            {"date": "2026-11-30", "rostered": [1, 2, 1]},
            {"date": "2026-12-01", "rostered": [1, 1, 1]},
        ]
    },
}


def test_forecast_windows_and_waits_against_the_log() -> None:
    events = read_events_csv(io.StringIO(LOG), "Asia/Shanghai")
    result = compare(PLAN, events, date(2026, 12, 1), {"within_minutes": 15})
    monday, tuesday = result["days"]
    assert monday["happened"] and not tuesday["happened"] and "arrivals" not in tuesday
    assert monday["forecast"] == [2, 1, 0] and monday["rostered"] == [1, 2, 1]
    assert monday["arrivals"] == [2, 1, 1]  # A, B | C | D
    # window 1 the whole of 08:30 and 09:00, closed at 09:30; window 2 09:00–09:40
    assert monday["open_windows"] == [1.0, 2.0, pytest.approx(0.33)]
    assert monday["windows_seen"] == [1, 2, 1]
    assert monday["mean_wait"] == [12.5, 7.0, None]  # (5 + 20) / 2 | 7 | D never called
    assert monday["within_target"] == [0.5, 1.0, None]  # B waited 20 > 15
    figures = monday["day"]
    assert (figures["forecast"], figures["arrivals"], figures["error_pct"]) == (3, 4, -25.0)
    assert figures["called"] == 3 and figures["mean_wait"] == pytest.approx(32 / 3, abs=0.01)
    assert figures["within_target"] == pytest.approx(2 / 3, abs=1e-4)
    assert figures["open_window_hours"] == 1.7  # (1 + 2 + 1/3) × 0.5 h
    assert figures["required_window_hours"] == 1.5 and figures["rostered_window_hours"] == 2.0
    assert result["total"]["days_happened"] == 1 and result["total"]["arrivals"] == 4


def test_a_plan_whose_days_are_ahead_has_no_actual_figures() -> None:
    events = read_events_csv(io.StringIO(LOG), "Asia/Shanghai")
    result = compare(PLAN, events, date(2026, 11, 30), {})
    assert [d["happened"] for d in result["days"]] == [False, False]
    assert result["total"]["mean_wait"] is None and result["targets"]["within_minutes"] == 15


def test_a_day_with_windows_open_but_nobody_coming() -> None:
    log = "\n".join([HEADER, row(1, "08:30", "window.opened", window="1", clerk="c1"),
                     row(2, "09:00", "window.closed", window="1", clerk="c1")])  # fmt: skip
    events = read_events_csv(io.StringIO(log), "Asia/Shanghai")
    monday = compare(PLAN, events, date(2026, 12, 1), {})["days"][0]
    assert monday["arrivals"] == [0, 0, 0] and monday["open_windows"] == [1.0, 0.0, 0.0]
    assert monday["mean_wait"] == [None, None, None] and monday["day"]["error_pct"] is None
