"""Several services on one ticket in the simulation (issue 18): the scenario key, the script,
the order and place of later services, and the event log as the live hall writes it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from simulations.eventlog import events
from simulations.kpis import summarize
from simulations.model import DONE, Arrivals, Hall, simulate
from simulations.scenario import ScenarioError, load_scenario, parse_scenario
from tests.helpers.scenarios import EXAMPLE

EXP2 = {"dist": "exponential", "mean_minutes": 2}


def weekday(**multi: Any) -> Any:
    sc = load_scenario(EXAMPLE).model_dump(mode="json")
    sc["multi_service"] = multi
    return parse_scenario(sc)


def chains(a: Arrivals) -> list[list[int]]:
    out = []
    for i in np.flatnonzero(a.first):
        rows = [int(i)]
        while a.next is not None and a.next[rows[-1]] >= 0:
            rows.append(int(a.next[rows[-1]]))
        out.append(rows)
    return out


@pytest.mark.parametrize(
    ("multi", "message"),
    [
        ({"share_two": 0.7, "share_three": 0.4}, "more than 1"),
        ({"share_two": 0.1, "chains": {"A": ["Z"]}}, r"unknown services \['Z'\]"),
        ({"share_two": 0.1, "chains": {"A": ["A"]}}, "distinct services"),
        ({"share_two": 0.1, "chains": {"A": []}}, "distinct services"),
        ({"share_two": 0.1, "chain": {"A": ["B"]}}, "chain"),
    ],
)
def test_a_bad_multi_service_key_is_refused_with_the_reason(
    multi: dict[str, Any], message: str
) -> None:
    with pytest.raises(ScenarioError, match=message):
        weekday(**multi)


def test_the_script_gives_the_shares_of_two_and_three_services_along_the_chain() -> None:
    sc = parse_scenario(
        {
            "horizon_minutes": 20000,
            "services": [
                {"code": c, "arrivals_per_hour": r, "service_time": EXP2}
                for c, r in (("A", 60), ("B", 5), ("C", 5))
            ],
            "windows": [{"count": 6, "services": ["A", "B", "C"]}],
            "multi_service": {"share_two": 0.3, "share_three": 0.2, "chains": {"A": ["B", "C"]}},
        }
    )  # fmt: skip
    a = Hall(sc, 3).arrivals
    codes = ["A", "B", "C"]
    by_length: dict[int, int] = {}
    starts_a = 0
    for rows in chains(a):
        names = [codes[int(a.service[r])] for r in rows]
        if names[0] != "A":
            assert names == [names[0]]  # only A has a chain
            continue
        starts_a += 1
        assert names == ["A", "B", "C"][: len(names)]
        by_length[len(rows)] = by_length.get(len(rows), 0) + 1
        assert all(a.t[r] == a.t[rows[0]] for r in rows)  # queued at the ticket's issue time
        assert all(math.isinf(a.gives_up[r]) and not a.no_show[r] for r in rows[1:])
    assert by_length[2] / starts_a == pytest.approx(0.3, abs=0.02)
    assert by_length[3] / starts_a == pytest.approx(0.2, abs=0.02)


def test_a_later_service_is_served_after_the_previous_in_its_original_place() -> None:
    sc = parse_scenario(
        {
            "horizon_minutes": 100,
            "services": [
                {"code": c, "arrivals_per_hour": 0, "service_time": EXP2}
                for c in ("A", "B")
            ],
            "windows": [{"count": 1, "services": ["A", "B"]}],
        }
    )  # fmt: skip
    # citizen 0 (t=0): A then B (row 2); citizen 1 (t=1): B only. One window, 5 minutes each.
    arrivals = Arrivals(
        np.array([0.0, 1.0, 0.0]), np.array([0, 1, 1]), np.zeros(3, bool), np.full(3, np.nan),
        np.full(3, 5.0), np.full(3, math.inf), np.zeros(3, bool), next=np.array([2, -1, -1]),
    )  # fmt: skip
    r = Hall(sc, 0, arrivals=arrivals).run()
    assert (r.status == DONE).all()
    assert r.called.tolist() == [0.0, 10.0, 5.0]  # B of citizen 0 before citizen 1's B
    assert r.ready is not None and r.ready[2] == 5.0  # it joined when A was done


def test_a_multi_service_ticket_is_one_ticket_in_the_log_with_its_next_service_events() -> None:
    result = simulate(weekday(share_two=0.25, chains={"A": ["B"]}), 5)
    a = result.arrivals
    later = np.flatnonzero(~a.first)
    assert later.size > 20
    logged = list(events(result))
    moved = [e for e in logged if str(e.type) == "ticket.next_service"]
    served_later = int((result.status[later] == DONE).sum())
    assert served_later > 0 and len(moved) >= served_later
    ticket = moved[0].ticket_id
    life = [str(e.type) for e in logged if e.ticket_id == ticket]
    assert life[0] == "ticket.issued" and life.count("ticket.issued") == 1
    issued = next(e for e in logged if e.ticket_id == ticket)
    assert issued.payload["services"] == ["A", "B"]
    assert moved[0].payload == {"from_service": "A", "to_service": "B", "segment": 1, "segments": 2}
    # the summary counts citizens as tickets, and each service as a visit of its own
    single = summarize(simulate(weekday(), 5))["overall"]
    multi = summarize(result)["overall"]
    assert multi["arrived"] == pytest.approx(single["arrived"], rel=0.1)
    assert multi["utilization"] > single["utilization"]
