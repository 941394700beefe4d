"""call_next reads only the tickets that can decide a call: the decision must not change.

``repo.window_candidates`` returns, per window, the first queued ticket of each service and
priority reason, tickets transferred to that window and begun appointments. ``choose_next`` must
pick the same ticket from them as from the window's whole queue, for every window, moment,
guard and ratio position, on both databases.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import update

from queue_engine.adapters import repository as repo
from queue_engine.adapters.orm import TicketRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.model import Priority
from queue_engine.domain.policy import DispatchRules, GuardKind, choose_next
from queue_engine.services.tickets import QueueEngine

RULES = (
    DispatchRules(GuardKind.AGING, aging_minutes=20),
    DispatchRules(GuardKind.RATIO, ratio_priority=1, ratio_regular=2),
    DispatchRules(GuardKind.NONE),
)


def shuffle_queue(
    db: Database, rng: random.Random, ids: list[str], windows: list[int], now: datetime
) -> None:
    """Queue times with ties, window transfers, appointments (begun and not), cancellations."""
    with UnitOfWork(db) as uow:
        for ticket_id in ids:
            minutes = rng.choice([0, 1, 5, 5, 19, 21, 40, rng.uniform(0, 60)])
            values: dict[str, object] = {"queued_at": now - timedelta(minutes=minutes)}
            roll = rng.random()
            if roll < 0.08:
                values["target_window_id"] = rng.choice(windows)
            elif roll < 0.16:
                values["slot_start"] = now + timedelta(minutes=rng.choice([-30, -5, 0, 5, 30]))
            elif roll < 0.2:
                values["status"] = "cancelled"
            uow.conn.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(**values))
        uow.commit()


def test_bounded_candidates_give_the_same_call_as_the_whole_queue(
    engine: QueueEngine, db: Database, clock: FrozenClock
) -> None:
    rng = random.Random(20261126)
    with UnitOfWork(db, write=False) as uow:
        hall_id, config = db.hall_config(uow.conn, "ZMD")
    windows = [w.id for w in config.windows]
    services = [s.code for s in config.services if s.active]
    ids = [
        engine.issue(
            "ZMD",
            rng.choice(services),
            priority=rng.choice([Priority.NONE] * 4 + list(Priority)),
        ).ticket.id
        for _ in range(160)
    ]
    day = config.business_date(clock.now())
    checked = bounded_smaller = 0
    for round_ in range(4):
        shuffle_queue(db, rng, rng.sample(ids, 120), windows, clock.now())
        for minutes in (0, 3, 25):
            now = clock.now() + timedelta(minutes=minutes)
            with UnitOfWork(db, write=False) as uow:
                for window in config.windows:
                    full = repo.waiting_for_window(uow.conn, hall_id, day, window)
                    few = repo.window_candidates(uow.conn, hall_id, day, window, now)
                    assert set(few) <= set(full), round_
                    bounded_smaller += len(few) < len(full)
                    every = [repo.candidate_from_row(r) for r in full.values()]
                    some = [repo.candidate_from_row(r) for r in few.values()]
                    for rules in RULES:
                        for position in range(rules.cycle_length):
                            view = window.view(position)
                            expected = choose_next(view, every, now, rules)
                            assert choose_next(view, some, now, rules) == expected, (
                                round_,
                                window.number,
                                rules,
                                position,
                            )
                            checked += expected is not None
    assert checked > 500  # the comparison really ran on non-empty queues
    assert bounded_smaller > 50  # and the bounded read really was smaller
