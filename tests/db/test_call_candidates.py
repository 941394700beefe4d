"""call_next reads only the tickets that can decide a call: the decision must not change.

``repo.line_heads`` returns, per window, the first queued tickets of each service and priority
reason, begun appointments per service and tickets transferred to that window (issue 16).
``choose_next`` must pick the same ticket from them as from the window's whole queue, for every
window, moment, guard and ratio position, on both databases; the rows read hold
``policy.line_heads`` of the whole queue. Positions counted in the database
(``repo.line_counts``) must equal the ones ``queue_order`` gives on the whole list.
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
from queue_engine.domain.policy import (
    DispatchRules,
    GuardKind,
    aged_before,
    choose_next,
    line_heads,
    queue_key,
    queue_order,
)
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
                    skills = list(window.skills)
                    few = repo.line_heads(uow.conn, hall_id, day, skills, now, 1, window.id)
                    assert set(few) <= set(full), round_
                    bounded_smaller += len(few) < len(full)
                    every = [repo.candidate_from_row(r) for r in full.values()]
                    some = [repo.candidate_from_row(r) for r in few.values()]
                    pure = line_heads(every, now, 1, window.view())
                    assert {c.ticket_id for c in pure} <= set(few), round_
                    deeper = repo.line_heads(uow.conn, hall_id, day, skills, now, 3, window.id)
                    assert {c.ticket_id for c in line_heads(every, now, 3, window.view())} <= set(
                        deeper
                    )
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


def test_positions_counted_in_the_database_are_those_of_the_whole_queue(
    engine: QueueEngine, db: Database, clock: FrozenClock
) -> None:
    rng = random.Random(20261203)
    with UnitOfWork(db, write=False) as uow:
        hall_id, config = db.hall_config(uow.conn, "ZMD")
    windows = [w.id for w in config.windows]
    services = [s.code for s in config.services if s.active][:4]
    ids = [
        engine.issue(
            "ZMD",
            rng.choice(services),
            priority=rng.choice([Priority.NONE] * 4 + list(Priority)),
        ).ticket.id
        for _ in range(120)
    ]
    day = config.business_date(clock.now())
    compared = 0
    for round_ in range(3):
        shuffle_queue(db, rng, rng.sample(ids, 90), windows, clock.now())
        for minutes in (0, 3, 25):
            now = clock.now() + timedelta(minutes=minutes)
            for rules in RULES:
                with UnitOfWork(db, write=False) as uow:
                    waiting = repo.waiting_candidates(uow.conn, hall_id, day)
                    for mine in rng.sample(waiting, 12):
                        lines, ahead = repo.line_counts(
                            uow.conn,
                            hall_id,
                            day,
                            mine.service,
                            queue_key(mine, now, rules),
                            now,
                            aged_before(now, rules),
                        )
                        same = [c for c in waiting if c.service == mine.service]
                        assert ahead == queue_order(same, now, rules).index(mine), (
                            round_,
                            minutes,
                            rules,
                        )
                        assert lines[mine.service].waiting == len(same)
                        assert lines[mine.service].first_queued == min(c.queued_at for c in same)
                        compared += 1
                    for service in services:  # the first tickets of a service, as turn notices
                        heads = repo.line_heads(uow.conn, hall_id, day, [service], now, 4)
                        some = [repo.candidate_from_row(r) for r in heads.values()]
                        same = [c for c in waiting if c.service == service]
                        assert (
                            queue_order(some, now, rules)[:4] == queue_order(same, now, rules)[:4]
                        )
    assert compared > 300
