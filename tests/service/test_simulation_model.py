"""The SimPy model: agrees with queueing theory, follows the policy exactly, logs like the hall."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_engine.domain.kpi import TicketTimes, wait_minutes
from queue_engine.domain.policy import WindowView, choose_next
from simulations.eventlog import write_event_log
from simulations.kpis import ci95, summarize, waits
from simulations.model import ABANDONED, DONE, Arrivals, Hall, simulate
from simulations.replicate import seeds
from simulations.scenario import load_scenario, parse_scenario
from simulations.theory import ErlangA, ErlangC
from tests.helpers.scenarios import EXAMPLE


def steady(
    lam_per_hour: float, mean: float, c: int, patience: float | None = None, **extra: Any
) -> Any:
    service: dict[str, Any] = {
        "code": "A",
        "arrivals_per_hour": lam_per_hour,
        "service_time": {"dist": "exponential", "mean_minutes": mean},
    }
    if patience is not None:
        service["patience"] = {"dist": "exponential", "mean_minutes": patience}
    return parse_scenario(
        {
            "horizon_minutes": 30000,
            "warmup_minutes": 500,
            "services": [service],
            "windows": [{"count": c, "services": ["A"]}],
            **extra,
        }
    )


def test_mmc_mean_wait_agrees_with_erlang_c() -> None:
    sc = steady(48, 5.0, 5)  # 4 Erlangs on 5 windows: ρ = 0.8
    theory = ErlangC(48 / 60, 1 / 5, 5)
    mean_wait, within, busy = [], [], []
    for s in seeds(1, 8):
        r = simulate(sc, s)
        w = waits(r)[(r.arrivals.t >= 500) & ~np.isnan(r.called)]
        mean_wait.append(float(w.mean()))
        within.append(float((w <= 10.0).mean()))
        busy.append(sum(x.busy for x in r.windows) / (5 * 30000))
    _, lo, hi = ci95(mean_wait)
    assert lo <= theory.mean_wait <= hi, (theory.mean_wait, lo, hi)
    assert hi - lo < 0.4 * theory.mean_wait  # tight enough to catch a wrong model
    _, lo, hi = ci95(within)
    assert lo <= theory.share_within(10.0) <= hi
    assert np.mean(busy) == pytest.approx(0.8, abs=0.02)


def test_mmc_with_abandonment_agrees_with_erlang_a() -> None:
    sc = steady(60, 5.0, 4, patience=10.0)  # 5 Erlangs on 4 windows: only patience keeps it finite
    theory = ErlangA(1.0, 0.2, 4, 0.1)
    abandon, wait_all = [], []
    for s in seeds(2, 8):
        r = simulate(sc, s)
        a = r.arrivals
        counted = (a.t >= 500) & (a.t < 29000)
        left = np.where(r.status == ABANDONED, r.ended, r.called)
        wait_all.append(float((left - a.t)[counted].mean()))
        abandon.append(float((r.status[counted] == ABANDONED).mean()))
    lo, hi = ci95(abandon)[1:]
    assert lo <= theory.abandon_share <= hi, (theory.abandon_share, lo, hi)
    lo, hi = ci95(wait_all)[1:]
    assert lo <= theory.mean_wait <= hi, (theory.mean_wait, lo, hi)


def test_windows_keep_their_lunch_break_and_stop_when_closed() -> None:
    sc = load_scenario(EXAMPLE)
    r = simulate(sc, 3)
    by6 = r.called[r.window == 6]
    assert by6.size > 0
    assert not ((by6 >= 12 * 60) & (by6 < 13 * 60)).any()
    assert (r.status != 0).all()  # nobody is left in limbo at the end of the day


def test_same_seed_same_day_and_replications_differ() -> None:
    sc = load_scenario(EXAMPLE)
    a, b, c = (summarize(simulate(sc, s)) for s in (5, 5, 6))
    assert a == b
    assert a != c


def test_event_log_gives_the_same_waits_as_the_live_kpi_definition() -> None:
    sc = load_scenario(EXAMPLE)
    r = simulate(sc, 4, record_estimates=True)
    out = io.StringIO()
    write_event_log(r, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == [
        "event_id", "hall", "ts", "type", "ticket_id", "ticket_number", "service", "window",
        "clerk", "channel", "priority", "payload",
    ]  # fmt: skip
    issued: dict[str, dict[str, Any]] = {}
    first_call: dict[str, datetime] = {}
    for row in rows:
        ts = datetime.fromisoformat(row["ts"])
        assert ts.utcoffset() == timedelta(hours=8)
        payload = json.loads(row["payload"])
        if row["type"] == "ticket.issued":
            assert "estimated_wait" in payload
            assert ("slot_start" in payload) == (row["channel"] == "appointment")
            issued[row["ticket_id"]] = {"ts": ts, **payload}
        elif row["type"] == "ticket.called":
            first_call.setdefault(row["ticket_id"], ts)
    found = []
    for ticket, info in issued.items():
        if ticket in first_call:
            slot = datetime.fromisoformat(info["slot_start"]) if "slot_start" in info else None
            w = wait_minutes(TicketTimes("done", info["ts"], slot, first_call[ticket], None, None))
            assert w is not None
            found.append(w)
    ours = summarize(r)["overall"]  # analytics on the same log
    assert len(issued) == ours["arrived"]
    assert np.mean(found) == pytest.approx(ours["mean_wait_minutes"], abs=1e-3)
    fast = waits(r)  # the array shortcut of the staffing search
    assert np.nanmean(fast) == pytest.approx(np.mean(found), abs=1e-6)


SERVICES = ["A", "B", "C"]


@st.composite
def situations(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=14))
    gaps = draw(st.lists(st.floats(0.0, 15.0), min_size=n, max_size=n))
    return {
        "t": list(np.cumsum(gaps) + 540.0),
        "service": draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)),
        "priority": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        "slot": draw(
            st.lists(
                st.one_of(st.none(), st.sampled_from([540.0, 570.0, 600.0, 630.0, 700.0])),
                min_size=n,
                max_size=n,
            )
        ),
        "skills": draw(st.dictionaries(st.sampled_from(SERVICES), st.booleans(), min_size=1)),
        "guard": draw(st.sampled_from(["none", "aging", "ratio"])),
        "aging": draw(st.sampled_from([5.0, 20.0, 60.0])),
        "ratio": draw(st.tuples(st.integers(1, 3), st.integers(1, 3))),
        "cycle": draw(st.integers(0, 5)),
        "later": draw(st.floats(0.0, 90.0)),
        "calls": draw(st.integers(1, 6)),
    }


@settings(max_examples=150, deadline=None)
@given(situations())
def test_the_model_calls_exactly_the_ticket_the_policy_picks_from_the_whole_queue(
    case: dict[str, Any],
) -> None:
    sc = parse_scenario(
        {
            "services": [
                {
                    "code": c,
                    "arrivals_per_hour": 1,
                    "service_time": {"dist": "exponential", "mean_minutes": 5},
                }
                for c in SERVICES
            ],
            "windows": [
                {
                    "id": 1,
                    "services": [c for c, p in case["skills"].items() if p] or list(case["skills"]),
                    "secondary": [
                        c
                        for c, p in case["skills"].items()
                        if not p and any(case["skills"].values())
                    ],
                }
            ],
            "dispatch": {
                "guard": case["guard"],
                "aging_minutes": case["aging"],
                "ratio_priority": case["ratio"][0],
                "ratio_regular": case["ratio"][1],
            },
        }
    )
    n = len(case["t"])
    slot = np.array([np.nan if s is None else s for s in case["slot"]])
    arrivals = Arrivals(
        np.array(case["t"]), np.array(case["service"]), np.array(case["priority"]) & np.isnan(slot),
        slot, np.ones(n), np.full(n, math.inf), np.zeros(n, bool),
    )  # fmt: skip
    hall = Hall(sc, 0, arrivals=arrivals)
    for i in range(n):
        hall.enqueue(i, case["service"][i], not math.isnan(slot[i]), bool(arrivals.priority[i]))
    window = hall.windows[0]
    window.cycle = case["cycle"]
    now = case["t"][-1] + case["later"]
    waiting = [hall._candidate(i) for i in range(n)]
    cycle = case["cycle"]
    for _ in range(case["calls"]):
        view = WindowView(1, window.skills, cycle)
        expected = choose_next(view, waiting, hall.t0 + timedelta(minutes=now), hall.rules)
        got = hall.pick(window, now)
        if expected is None:
            assert got is None
            break
        assert got == int(expected.ticket_id)
        cycle = expected.next_cycle_position
        assert window.cycle % hall.rules.cycle_length == cycle % hall.rules.cycle_length
        waiting = [c for c in waiting if c.ticket_id != expected.ticket_id]
        now += 3.0


def test_abandoned_tickets_are_never_called() -> None:
    r = simulate(steady(80, 5.0, 4, patience=3.0), 9)
    gave_up = r.status == ABANDONED
    assert gave_up.any()
    assert np.isnan(r.called[gave_up]).all()
    served = r.status == DONE
    assert (r.called[served] < r.arrivals.gives_up[served]).all()


class WholeHallEstimate(Hall):
    """The estimate as it was first written: the whole hall recounted for every citizen."""

    def _estimate(self, s: int, now: float) -> tuple[float, float]:
        from queue_engine.domain.estimate import HandlingStats, OpenWindow, estimate_wait

        waiting = {
            c: len(self.regular[k]) + len(self.urgent[k]) + len(self.booked[k])
            for k, c in enumerate(self.codes)
        }
        spec = self.scenario.services[s].service_time
        cv = getattr(spec, "cv", 1.0)
        windows = [OpenWindow(w.skills, w.idle) for w in self.windows if w.available(now)]
        code = self.codes[s]
        est = estimate_wait(
            code, waiting[code], windows, waiting, HandlingStats(spec.mean_minutes, cv)
        )
        return est.median_minutes, est.p90_minutes


def test_the_kept_per_service_state_gives_the_estimate_of_the_whole_hall() -> None:
    from simulations.demo import demo_scenario

    sc = demo_scenario(days=2)  # secondary skills, lunch breaks, appointments, patience
    fast = Hall(sc, 3, record_estimates=True).run()
    whole = WholeHallEstimate(sc, 3, record_estimates=True).run()
    assert fast.estimates is not None and len(fast.estimates) > 3000
    assert fast.estimates == whole.estimates
    assert len(set(fast.estimates)) > 100  # not a constant
    assert Hall(sc, 3).run().estimates is None  # not worked out unless recorded
