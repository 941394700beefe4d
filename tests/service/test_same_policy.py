"""The planning model and the live engine call the same tickets in the same situation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pytest

from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from queue_engine.seed import DEMO_SERVICES, DEMO_WINDOWS
from queue_engine.services.tickets import QueueEngine
from simulations.model import Arrivals, Hall, midnight
from simulations.scenario import parse_scenario

COMPREHENSIVE = next(w for w in DEMO_WINDOWS if w.name == "综合窗口1")
EXP5 = {"dist": "exponential", "mean_minutes": 5}


@dataclass(frozen=True)
class Visit:
    minute: float  # after the start of the test morning (10:00 local)
    service: str
    priority: str = "none"
    slot: float | None = None  # appointment slot start, minutes after 10:00


# a morning at window 17 (primary SOCIAL, MEDICAL, HPF, RESIDENCE; secondary TALENT, DEEDTAX):
# early secondary-skill tickets that age past 20 minutes, priority citizens, an appointment
# whose slot has begun and one whose slot has not, and a service the window does not serve
VISITS = [
    Visit(0, "TALENT"),
    Visit(2, "SOCIAL"),
    Visit(3, "DEEDTAX"),
    Visit(5, "REALTY"),
    Visit(14, "HPF", "elderly"),
    Visit(16, "MEDICAL"),
    Visit(18, "HPF", slot=20.0),
    Visit(19, "SOCIAL", slot=60.0),
    Visit(21, "RESIDENCE", "disabled"),
    Visit(23, "TALENT"),
    Visit(24, "SOCIAL"),
    Visit(25, "MEDICAL", "military"),
]
CALL_AT = 30.0


def live_order(engine: QueueEngine, db: Database, clock: FrozenClock) -> list[int]:
    start = clock.now()
    issued: dict[str, int] = {}
    for n, v in enumerate(VISITS):
        clock.set(start + timedelta(minutes=v.minute))
        slot = None if v.slot is None else start + timedelta(minutes=v.slot)
        channel = "appointment" if slot is not None else "kiosk"
        ticket = engine.issue("ZMD", v.service, channel, v.priority, slot_start=slot).ticket
        issued[ticket.id] = n
    clock.set(start + timedelta(minutes=CALL_AT))
    with UnitOfWork(db, write=False) as uow:
        window = db.hall_config(uow.conn, "ZMD")[1].window_by_number(COMPREHENSIVE.number).id
    engine.open_window(window, "clerk17")
    order = []
    while (ticket := engine.call_next(window, "clerk17")) is not None:
        order.append(issued[ticket.id])
        engine.start(ticket.id, "clerk17")
        engine.finish(ticket.id, "clerk17")
    return order


def model_order(first_minute: float) -> list[int]:
    codes = [s.code for s in DEMO_SERVICES]
    sc = parse_scenario(
        {
            "start_date": "2026-11-26",
            "services": [{"code": c, "arrivals_per_hour": 0, "service_time": EXP5} for c in codes],
            "windows": [
                {
                    "id": COMPREHENSIVE.number,
                    "services": list(COMPREHENSIVE.primary),
                    "secondary": list(COMPREHENSIVE.secondary),
                }
            ],
        }
    )
    n = len(VISITS)
    slot = np.array([np.nan if v.slot is None else first_minute + v.slot for v in VISITS])
    arrivals = Arrivals(
        t=np.array([first_minute + v.minute for v in VISITS]),
        service=np.array([codes.index(v.service) for v in VISITS]),
        priority=np.array([v.priority != "none" for v in VISITS]),
        slot=slot, handling=np.ones(n), gives_up=np.full(n, np.inf), no_show=np.zeros(n, bool),
    )  # fmt: skip
    hall = Hall(sc, 0, arrivals=arrivals)
    for i, v in enumerate(VISITS):
        hall.enqueue(i, int(arrivals.service[i]), v.slot is not None, v.priority != "none")
    window = hall.windows[0]
    order = []
    while (i := hall.pick(window, first_minute + CALL_AT)) is not None:
        order.append(i)
    return order


def test_model_and_live_engine_call_the_same_tickets_in_the_same_order(
    engine: QueueEngine, db: Database, clock: FrozenClock
) -> None:
    one = {"code": "A", "arrivals_per_hour": 0, "service_time": EXP5}
    sc_midnight = midnight(
        parse_scenario(
            {"start_date": "2026-11-26", "services": [one], "windows": [{"services": ["A"]}]}
        )
    )
    first_minute = (clock.now() - sc_midnight).total_seconds() / 60
    assert first_minute == pytest.approx(600.0)  # 10:00 in Zhumadian
    live = live_order(engine, db, clock)
    assert live == model_order(first_minute)
    assert 3 not in live  # REALTY is not window 17's
    assert live[0] == 6  # the begun appointment first
    assert live[1] == 0  # then the aged secondary-skill ticket
