"""Rules of the dispatch policy (SPEC §4 "One dispatch policy"), as unit and property tests.

``choose_next`` is pure, so every test builds candidates at a fixed "now" and asks which one a
window gets. Property tests generate candidate pools and arrival streams with hypothesis.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_engine.domain.policy import (
    Candidate,
    Decision,
    DispatchRules,
    GuardKind,
    WindowView,
    choose_next,
    eligible,
    is_aged,
    is_begun_appointment,
    queue_order,
)

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
AGING_MINUTES = 20.0

NO_GUARD = DispatchRules(guard=GuardKind.NONE)
AGING = DispatchRules(guard=GuardKind.AGING, aging_minutes=AGING_MINUTES)
RATIO_1_2 = DispatchRules(guard=GuardKind.RATIO, ratio_priority=1, ratio_regular=2)

# Window 1: primary for A and B, secondary for C; does not serve D.
WINDOW = WindowView(id=1, skills={"A": True, "B": True, "C": False})
OTHER_WINDOW_ID = 2
SERVICES = ("A", "B", "C", "D")

PROPERTY = settings(max_examples=200, deadline=None)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def cand(
    ticket_id: str,
    service: str = "A",
    waited: float = 1.0,
    *,
    seq: int = 0,
    priority: bool = False,
    slot_in: float | None = None,
    target_window: int | None = None,
) -> Candidate:
    """A candidate queued ``waited`` minutes before NOW; ``slot_in`` minutes from NOW to slot."""
    slot_start = None if slot_in is None else NOW + timedelta(minutes=slot_in)
    return Candidate(
        ticket_id=ticket_id,
        service=service,
        queued_at=ago(waited),
        seq=seq,
        priority=priority,
        slot_start=slot_start,
        target_window=target_window,
    )


def pick(
    candidates: list[Candidate],
    rules: DispatchRules = NO_GUARD,
    window: WindowView = WINDOW,
    now: datetime = NOW,
) -> str | None:
    decision = choose_next(window, candidates, now, rules)
    return None if decision is None else decision.ticket_id


def secondary(window: WindowView, c: Candidate) -> bool:
    return not window.skills.get(c.service, True)


def targeted_here(window: WindowView, c: Candidate) -> bool:
    return c.target_window == window.id


# Oracles for the property tests, written from SPEC §4 rather than borrowed from the module.


def allowed(window: WindowView, pool: list[Candidate]) -> list[Candidate]:
    return [
        c
        for c in pool
        if c.target_window == window.id or (c.target_window is None and c.service in window.skills)
    ]


def begun(c: Candidate, now: datetime = NOW) -> bool:
    return c.slot_start is not None and c.slot_start <= now


def aged(c: Candidate, rules: DispatchRules, now: datetime = NOW) -> bool:
    waited = now - c.queued_at
    return rules.guard is GuardKind.AGING and waited >= timedelta(minutes=rules.aging_minutes)


# -- strategies ---------------------------------------------------------------------------

guards = st.sampled_from(list(GuardKind))

rules_strategy = st.builds(
    DispatchRules,
    guard=guards,
    aging_minutes=st.just(AGING_MINUTES),
    ratio_priority=st.integers(1, 3),
    ratio_regular=st.integers(1, 3),
)

windows = st.builds(
    WindowView,
    id=st.sampled_from([1, 2]),
    skills=st.dictionaries(st.sampled_from(SERVICES), st.booleans(), max_size=len(SERVICES)),
    cycle_position=st.integers(0, 2),
)

# Waiting times in seconds, with the aging threshold (1200 s) and its neighbours well covered.
waited_seconds = st.one_of(st.integers(0, 3600), st.sampled_from([0, 1199, 1200, 1201, 600, 2400]))


def _candidate_parts(appointments: bool, targets: bool) -> st.SearchStrategy[tuple[Any, ...]]:
    slot = st.none()
    if appointments:
        slot = st.one_of(st.none(), st.none(), st.none(), st.just(0), st.integers(-30, 30))
    target = st.sampled_from([None, None, None, 1, 2]) if targets else st.none()
    return st.tuples(
        st.sampled_from(SERVICES),
        waited_seconds,
        st.integers(1, 999),
        st.booleans(),
        slot,
        target,
    )


def candidate_pools(
    *, appointments: bool = True, targets: bool = True, max_size: int = 10
) -> st.SearchStrategy[list[Candidate]]:
    """Pools of candidates with distinct ids; queue times, numbers and slots may collide."""

    def build(parts: list[tuple[Any, ...]]) -> list[Candidate]:
        return [
            Candidate(
                ticket_id=f"T{i:03d}",
                service=service,
                queued_at=NOW - timedelta(seconds=waited),
                seq=seq,
                priority=priority,
                slot_start=None if slot is None else NOW + timedelta(minutes=slot),
                target_window=target,
            )
            for i, (service, waited, seq, priority, slot, target) in enumerate(parts)
        ]

    return st.lists(_candidate_parts(appointments, targets), max_size=max_size).map(build)


# -- nothing eligible -----------------------------------------------------------------------


def test_returns_none_when_nobody_waits() -> None:
    assert choose_next(WINDOW, [], NOW, AGING) is None


def test_returns_none_when_no_waiting_service_is_a_skill_of_the_window() -> None:
    assert pick([cand("d1", "D"), cand("d2", "D", priority=True)], AGING) is None


def test_returns_none_when_every_ticket_is_transferred_to_another_window() -> None:
    pool = [
        cand("a1", "A", target_window=OTHER_WINDOW_ID),
        cand("b1", "B", 60, priority=True, target_window=OTHER_WINDOW_ID),
    ]
    assert pick(pool, AGING) is None


def test_returns_none_for_a_window_without_skills() -> None:
    bare = WindowView(id=1, skills={})
    assert pick([cand("a1", "A"), cand("b1", "B")], AGING, window=bare) is None


# -- eligibility ----------------------------------------------------------------------------


def test_only_the_windows_skills_are_chosen() -> None:
    pool = [cand("d-old", "D", 50, priority=True), cand("a-new", "A", 1)]
    assert pick(pool, AGING) == "a-new"


def test_ticket_transferred_to_another_window_is_never_chosen() -> None:
    # Oldest, priority, begun appointment, aged: still not this window's ticket.
    elsewhere = cand("elsewhere", "A", 90, priority=True, slot_in=-5, target_window=2)
    pool = [elsewhere, cand("mine", "A", 1)]
    for rules in (NO_GUARD, AGING, RATIO_1_2):
        assert pick(pool, rules) == "mine"


def test_ticket_transferred_to_this_window_is_eligible_without_the_skill() -> None:
    assert pick([cand("d1", "D", target_window=WINDOW.id)]) == "d1"


def test_eligible_keeps_skills_and_transfers_to_this_window_only() -> None:
    pool = [
        cand("a", "A"),
        cand("c", "C"),
        cand("d", "D"),
        cand("d-here", "D", target_window=1),
        cand("a-there", "A", target_window=2),
    ]
    assert [c.ticket_id for c in eligible(WINDOW, pool)] == ["a", "c", "d-here"]


# -- FIFO within a class --------------------------------------------------------------------


def test_earliest_queued_goes_first_within_a_class() -> None:
    pool = [cand("young", "A", 2), cand("old", "B", 9), cand("middle", "A", 5)]
    assert pick(pool) == "old"


def test_equal_queue_times_go_by_lowest_number() -> None:
    pool = [cand("second", "A", 5, seq=8), cand("first", "B", 5, seq=7)]
    assert pick(pool) == "first"


def test_fifo_within_the_priority_class() -> None:
    pool = [cand("p-young", "A", 2, priority=True), cand("p-old", "A", 8, priority=True)]
    assert pick(pool) == "p-old"


def test_queue_times_in_other_time_zones_compare_by_instant() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    local_old = Candidate("local-old", "A", ago(10).astimezone(shanghai))
    utc_young = Candidate("utc-young", "A", ago(5))
    assert pick([utc_young, local_old]) == "local-old"


# -- appointments ---------------------------------------------------------------------------


def test_begun_appointments_go_first() -> None:
    pool = [
        cand("priority", "A", 15, priority=True),
        cand("regular-old", "A", 19),
        cand("transferred", "B", 10, target_window=WINDOW.id),
        cand("appointment", "A", 0, slot_in=-1),
    ]
    for rules in (NO_GUARD, AGING, RATIO_1_2):
        decision = choose_next(WINDOW, pool, NOW, rules)
        assert decision is not None
        assert decision.ticket_id == "appointment"
        assert decision.reason == "appointment"


def test_begun_appointments_go_before_aged_tickets() -> None:
    pool = [cand("aged", "A", 45), cand("appointment", "A", 0, slot_in=-3)]
    assert pick(pool, AGING) == "appointment"


def test_appointment_whose_slot_starts_exactly_now_has_begun() -> None:
    pool = [cand("priority", "A", 10, priority=True), cand("appointment", "A", 0, slot_in=0)]
    assert is_begun_appointment(pool[1], NOW)
    assert pick(pool) == "appointment"


def test_begun_appointments_go_by_earliest_slot() -> None:
    pool = [
        cand("later-slot", "A", 10, slot_in=-5),
        cand("earlier-slot", "A", 1, slot_in=-15),
    ]
    assert pick(pool) == "earlier-slot"


def test_begun_appointments_with_the_same_slot_go_by_earliest_queued() -> None:
    pool = [cand("late", "A", 1, slot_in=-10), cand("early", "B", 4, slot_in=-10)]
    assert pick(pool) == "early"


def test_appointment_whose_slot_has_not_begun_is_a_regular_ticket() -> None:
    future = cand("future-appointment", "A", 6, slot_in=1)
    assert not is_begun_appointment(future, NOW)
    # Behind an older regular ticket, ahead of a younger one, behind any priority ticket.
    assert pick([future, cand("older", "A", 7)]) == "older"
    assert pick([future, cand("younger", "A", 5)]) == "future-appointment"
    assert pick([future, cand("priority", "A", 1, priority=True)]) == "priority"


def test_priority_appointment_whose_slot_has_not_begun_is_a_priority_ticket() -> None:
    future = cand("future-appointment", "A", 6, priority=True, slot_in=10)
    assert pick([future, cand("older-priority", "A", 7, priority=True)]) == "older-priority"
    assert pick([future, cand("regular", "A", 30)]) == "future-appointment"


def test_begun_appointment_transferred_to_another_window_is_not_chosen() -> None:
    pool = [cand("appt-there", "A", 5, slot_in=-5, target_window=2), cand("mine", "A", 1)]
    assert pick(pool) == "mine"


# -- windows transfers ----------------------------------------------------------------------


def test_ticket_transferred_to_this_window_goes_first_after_begun_appointments() -> None:
    pool = [
        cand("aged", "A", 40),
        cand("priority", "A", 10, priority=True),
        cand("transferred", "D", 1, target_window=WINDOW.id),
    ]
    decision = choose_next(WINDOW, pool, NOW, AGING)
    assert decision == Decision("transferred", "transferred", 0)


# -- priority and skill tiers ---------------------------------------------------------------


def test_priority_before_regular_without_guard() -> None:
    pool = [cand("regular-old", "A", 19), cand("priority-new", "A", 0, priority=True)]
    decision = choose_next(WINDOW, pool, NOW, NO_GUARD)
    assert decision == Decision("priority-new", "priority", 0)


def test_priority_before_regular_with_aging_guard_while_nothing_is_aged() -> None:
    pool = [cand("regular-old", "A", 19.9), cand("priority-new", "B", 0, priority=True)]
    assert pick(pool, AGING) == "priority-new"


def test_regular_tickets_are_served_when_no_priority_waits() -> None:
    decision = choose_next(WINDOW, [cand("r", "A", 3)], NOW, NO_GUARD)
    assert decision == Decision("r", "regular", 0)


def test_primary_skills_before_secondary_skills_within_a_class() -> None:
    pool = [cand("secondary-old", "C", 15), cand("primary-new", "A", 1)]
    assert pick(pool) == "primary-new"
    pool = [
        cand("p-secondary-old", "C", 15, priority=True),
        cand("p-primary-new", "B", 1, priority=True),
    ]
    assert pick(pool) == "p-primary-new"


def test_secondary_skill_is_served_when_no_primary_waits() -> None:
    assert pick([cand("secondary", "C", 2), cand("other", "D", 9)]) == "secondary"


def test_class_outranks_skill_tier() -> None:
    pool = [cand("regular-primary", "A", 10), cand("priority-secondary", "C", 1, priority=True)]
    assert pick(pool) == "priority-secondary"


# -- aging guard ----------------------------------------------------------------------------


def test_ticket_waiting_the_aging_time_overtakes_priority_and_primary() -> None:
    pool = [
        cand("priority", "A", 19, priority=True),
        cand("aged-secondary", "C", AGING_MINUTES),
    ]
    decision = choose_next(WINDOW, pool, NOW, AGING)
    assert decision == Decision("aged-secondary", "aged", 0)


def test_just_under_the_threshold_is_not_aged() -> None:
    almost = Candidate("almost", "A", ago(AGING_MINUTES) + timedelta(microseconds=1))
    assert not is_aged(almost, NOW, AGING)
    assert pick([almost, cand("priority", "A", 0, priority=True)], AGING) == "priority"


def test_exactly_the_threshold_is_aged() -> None:
    exact = Candidate("exact", "A", ago(AGING_MINUTES))
    assert is_aged(exact, NOW, AGING)
    assert pick([exact, cand("priority", "A", 0, priority=True)], AGING) == "exact"


def test_oldest_aged_ticket_goes_first_whatever_its_class_or_tier() -> None:
    pool = [
        cand("aged-priority-primary", "A", 25, priority=True),
        cand("aged-regular-secondary", "C", 40),
        cand("aged-regular-primary", "B", 30),
    ]
    assert pick(pool, AGING) == "aged-regular-secondary"


def test_aged_tickets_with_equal_queue_times_go_by_lowest_number() -> None:
    pool = [cand("b", "A", 30, seq=5), cand("a", "C", 30, seq=4)]
    assert pick(pool, AGING) == "a"


def test_aging_applies_only_with_the_aging_guard() -> None:
    old = cand("old-regular", "A", 120)
    fresh = cand("priority", "A", 0, priority=True)
    assert not is_aged(old, NOW, NO_GUARD)
    assert not is_aged(old, NOW, RATIO_1_2)
    assert pick([old, fresh], NO_GUARD) == "priority"


def test_aging_minutes_are_configurable() -> None:
    rules = DispatchRules(guard=GuardKind.AGING, aging_minutes=5)
    pool = [cand("regular", "A", 5), cand("priority", "A", 1, priority=True)]
    assert pick(pool, rules) == "regular"
    assert pick(pool, AGING) == "priority"


# -- ratio guard ----------------------------------------------------------------------------


def fresh_tickets(prefix: str, count: int, *, priority: bool) -> list[Candidate]:
    return [
        cand(f"{prefix}{i:02d}", "A", 10 - i * 0.1, seq=i, priority=priority) for i in range(count)
    ]


def run_calls(
    pool: list[Candidate], rules: DispatchRules, calls: int, position: int = 0
) -> tuple[list[str], list[int]]:
    """A window calling ``calls`` times; returns the reasons and the cycle positions after."""
    pool = list(pool)
    reasons, positions = [], []
    for _ in range(calls):
        decision = choose_next(WindowView(1, {"A": True}, position), pool, NOW, rules)
        assert decision is not None
        pool = [c for c in pool if c.ticket_id != decision.ticket_id]
        position = decision.next_cycle_position
        reasons.append(decision.reason)
        positions.append(position)
    return reasons, positions


def test_ratio_guard_calls_one_priority_then_two_regular() -> None:
    pool = fresh_tickets("p", 10, priority=True) + fresh_tickets("r", 10, priority=False)
    reasons, positions = run_calls(pool, RATIO_1_2, 6)
    pattern = "".join("P" if r == "priority" else "R" for r in reasons)
    assert pattern == "PRRPRR"
    assert positions == [1, 2, 0, 1, 2, 0]


def test_ratio_guard_two_priority_then_three_regular() -> None:
    rules = DispatchRules(guard=GuardKind.RATIO, ratio_priority=2, ratio_regular=3)
    pool = fresh_tickets("p", 10, priority=True) + fresh_tickets("r", 10, priority=False)
    reasons, _ = run_calls(pool, rules, 10)
    assert "".join(r[0].upper() for r in reasons) == "PPRRRPPRRR"


def test_ratio_guard_keeps_fifo_inside_each_class() -> None:
    pool = fresh_tickets("p", 3, priority=True) + fresh_tickets("r", 3, priority=False)
    order = []
    position = 0
    for _ in range(6):
        decision = choose_next(WindowView(1, {"A": True}, position), pool, NOW, RATIO_1_2)
        assert decision is not None
        order.append(decision.ticket_id)
        pool = [c for c in pool if c.ticket_id != decision.ticket_id]
        position = decision.next_cycle_position
    assert order == ["p00", "r00", "r01", "p01", "r02", "p02"]


@pytest.mark.parametrize("priority", [True, False])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_ratio_cycle_does_not_advance_when_only_one_class_waits(
    priority: bool, position: int
) -> None:
    pool = fresh_tickets("x", 5, priority=priority)
    reasons, positions = run_calls(pool, RATIO_1_2, 4, position=position)
    assert positions == [position] * 4
    assert set(reasons) == {"priority" if priority else "regular"}


def test_ratio_cycle_resumes_where_it_left_off_after_one_class_only() -> None:
    both = fresh_tickets("p", 1, priority=True) + fresh_tickets("r", 1, priority=False)
    # Position 1 (owes a regular call); only priority tickets wait for a while.
    _, positions = run_calls(fresh_tickets("q", 3, priority=True), RATIO_1_2, 3, position=1)
    assert positions == [1, 1, 1]
    decision = choose_next(WindowView(1, {"A": True}, 1), both, NOW, RATIO_1_2)
    assert decision == Decision("r00", "regular", 2)


def test_begun_appointment_and_transfer_do_not_advance_the_ratio_cycle() -> None:
    base = fresh_tickets("p", 2, priority=True) + fresh_tickets("r", 2, priority=False)
    window = WindowView(1, {"A": True}, 1)
    appt = choose_next(window, [*base, cand("appt", "A", 0, slot_in=-1)], NOW, RATIO_1_2)
    moved = choose_next(window, [*base, cand("moved", "A", 0, target_window=1)], NOW, RATIO_1_2)
    assert appt == Decision("appt", "appointment", 1)
    assert moved == Decision("moved", "transferred", 1)


def test_ratio_guard_with_a_stale_cycle_position_gives_at_most_ratio_regular_in_a_row() -> None:
    """A position left over from a longer cycle (e.g. 2:3 → 1:2 edit) must not break the ratio.

    WindowView.cycle_position is stored per window and the hall's dispatch rules are
    versioned; after the ratio is shortened, a window may still hold position 3 or 4.
    """
    pool = fresh_tickets("p", 10, priority=True) + fresh_tickets("r", 10, priority=False)
    for stale in (3, 4):
        reasons, _ = run_calls(pool, RATIO_1_2, 6, position=stale)
        pattern = "".join(r[0].upper() for r in reasons)
        assert "RRR" not in pattern, (stale, pattern)


# -- rules validation -----------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, -1])
def test_aging_minutes_must_be_positive(minutes: float) -> None:
    with pytest.raises(ValueError):
        DispatchRules(aging_minutes=minutes)


@pytest.mark.parametrize(("rp", "rr"), [(0, 2), (1, 0), (-1, 1)])
def test_ratio_parts_must_be_at_least_one(rp: int, rr: int) -> None:
    with pytest.raises(ValueError):
        DispatchRules(guard=GuardKind.RATIO, ratio_priority=rp, ratio_regular=rr)


def test_cycle_length_is_the_sum_of_the_ratio_parts() -> None:
    assert DispatchRules(ratio_priority=2, ratio_regular=3).cycle_length == 5


def test_default_guard_is_aging_twenty_minutes() -> None:
    rules = DispatchRules()
    assert rules.guard is GuardKind.AGING
    assert rules.aging_minutes == 20.0


# -- properties -----------------------------------------------------------------------------


@PROPERTY
@given(window=windows, pool=candidate_pools(), rules=rules_strategy)
def test_only_eligible_tickets_are_ever_chosen(
    window: WindowView, pool: list[Candidate], rules: DispatchRules
) -> None:
    decision = choose_next(window, pool, NOW, rules)
    may_serve = allowed(window, pool)
    if not may_serve:
        assert decision is None
        return
    assert decision is not None
    chosen = next(c for c in pool if c.ticket_id == decision.ticket_id)
    assert chosen in may_serve
    assert chosen.target_window in (None, window.id)


@PROPERTY
@given(window=windows, pool=candidate_pools(), rules=rules_strategy, data=st.data())
def test_decision_does_not_depend_on_the_order_of_candidates(
    window: WindowView, pool: list[Candidate], rules: DispatchRules, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(pool))
    assert choose_next(window, shuffled, NOW, rules) == choose_next(window, pool, NOW, rules)


@PROPERTY
@given(window=windows, pool=candidate_pools(), rules=rules_strategy)
def test_begun_appointments_go_first_property(
    window: WindowView, pool: list[Candidate], rules: DispatchRules
) -> None:
    started = [c for c in allowed(window, pool) if begun(c)]
    decision = choose_next(window, pool, NOW, rules)
    if not started:
        assert decision is None or decision.reason != "appointment"
        return
    assert decision is not None
    assert decision.reason == "appointment"
    chosen = next(c for c in started if c.ticket_id == decision.ticket_id)
    assert chosen.slot_start == min(c.slot_start for c in started if c.slot_start is not None)


@PROPERTY
@given(
    window=windows,
    pool=candidate_pools(),
    rules=rules_strategy.filter(lambda r: r.guard is not GuardKind.RATIO),
)
def test_fifo_within_a_class_property(
    window: WindowView, pool: list[Candidate], rules: DispatchRules
) -> None:
    """Nobody of the chosen ticket's class (and tier) was queued before it."""
    decision = choose_next(window, pool, NOW, rules)
    if decision is None:
        return
    pool = allowed(window, pool)
    chosen = next(c for c in pool if c.ticket_id == decision.ticket_id)

    def klass(c: Candidate) -> tuple[object, ...]:
        has_begun = begun(c)
        return (
            c.slot_start if has_begun else None,
            has_begun,
            targeted_here(window, c),
            aged(c, rules),
            c.priority,
            secondary(window, c),
        )

    for other in pool:
        if klass(other) == klass(chosen):
            assert (other.queued_at, other.seq) >= (chosen.queued_at, chosen.seq)


@PROPERTY
@given(window=windows, pool=candidate_pools())
def test_priority_before_regular_without_guard_property(
    window: WindowView, pool: list[Candidate]
) -> None:
    pool = allowed(window, pool)
    decision = choose_next(window, pool, NOW, NO_GUARD)
    if decision is None or decision.reason in ("appointment", "transferred"):
        return
    chosen = next(c for c in pool if c.ticket_id == decision.ticket_id)
    if any(c.priority for c in pool):
        assert chosen.priority
        assert decision.reason == "priority"
    else:
        assert decision.reason == "regular"


@PROPERTY
@given(
    window=windows,
    pool=candidate_pools(appointments=False, targets=False),
    rules=rules_strategy.filter(lambda r: r.guard is not GuardKind.RATIO),
)
def test_primary_before_secondary_within_a_class_property(
    window: WindowView, pool: list[Candidate], rules: DispatchRules
) -> None:
    pool = allowed(window, pool)
    decision = choose_next(window, pool, NOW, rules)
    if decision is None or decision.reason not in ("priority", "regular"):
        return
    chosen = next(c for c in pool if c.ticket_id == decision.ticket_id)
    same_class = [
        c for c in pool if c.priority == chosen.priority and not begun(c) and not aged(c, rules)
    ]
    if secondary(window, chosen):
        assert all(secondary(window, c) for c in same_class)


@PROPERTY
@given(window=windows, pool=candidate_pools())
def test_aged_ticket_is_never_overtaken_property(window: WindowView, pool: list[Candidate]) -> None:
    """With an aged ticket waiting (and no begun appointment or transfer here), the oldest
    aged one is called: no ticket waits beyond the guard while others overtake it."""
    pool = allowed(window, pool)
    if any(begun(c) or targeted_here(window, c) for c in pool):
        return
    old = [c for c in pool if aged(c, AGING)]
    decision = choose_next(window, pool, NOW, AGING)
    if not old:
        assert decision is None or decision.reason in ("priority", "regular")
        return
    assert decision is not None
    assert decision.reason == "aged"
    chosen = next(c for c in pool if c.ticket_id == decision.ticket_id)
    assert chosen in old
    assert (chosen.queued_at, chosen.seq) == min((c.queued_at, c.seq) for c in pool)


@PROPERTY
@given(window=windows, pool=candidate_pools(), rules=rules_strategy)
def test_call_order_tiers_property(
    window: WindowView, pool: list[Candidate], rules: DispatchRules
) -> None:
    """The chosen ticket is of the best tier present: begun appointment, then transfer to this
    window, then aged (aging guard), then priority before regular (unless ratio guard), then
    primary skills before secondary ones."""

    def tier(c: Candidate) -> tuple[int, bool]:
        if begun(c):
            return (0, False)
        if targeted_here(window, c):
            return (1, False)
        if aged(c, rules):
            return (2, False)
        if rules.guard is GuardKind.RATIO:
            return (3, False)  # the class depends on the cycle position
        return (3 if c.priority else 4, secondary(window, c))

    may_serve = allowed(window, pool)
    decision = choose_next(window, pool, NOW, rules)
    if not may_serve:
        assert decision is None
        return
    assert decision is not None
    chosen = next(c for c in may_serve if c.ticket_id == decision.ticket_id)
    assert tier(chosen) == min(tier(c) for c in may_serve)
    names = {0: "appointment", 1: "transferred", 2: "aged"}
    if tier(chosen)[0] in names:
        assert decision.reason == names[tier(chosen)[0]]
    else:
        assert decision.reason == ("priority" if chosen.priority else "regular")


@PROPERTY
@given(
    rp=st.integers(1, 4),
    rr=st.integers(1, 4),
    data=st.data(),
    waiting=st.lists(st.sampled_from(["both", "priority", "regular"]), min_size=1, max_size=30),
)
def test_ratio_guard_never_exceeds_its_run_lengths_property(
    rp: int, rr: int, data: st.DataObject, waiting: list[str]
) -> None:
    """Calls with both classes waiting follow the cycle rp×P then rr×R from the window's
    position; calls with one class waiting neither count nor move the cycle. A stale position
    beyond the cycle (the ratio was shortened) counts modulo the cycle length."""
    rules = DispatchRules(guard=GuardKind.RATIO, ratio_priority=rp, ratio_regular=rr)
    # Positions past the cycle end are left over from a longer ratio before an edit.
    start = data.draw(st.integers(0, 2 * rules.cycle_length), label="start")
    position = start
    both_pattern = []
    for i, who in enumerate(waiting):
        pool = []
        if who in ("both", "priority"):
            pool += [cand(f"p{i}-{k}", "A", 5 + k, seq=k, priority=True) for k in range(2)]
        if who in ("both", "regular"):
            pool += [cand(f"r{i}-{k}", "A", 5 + k, seq=k) for k in range(2)]
        decision = choose_next(WindowView(1, {"A": True}, position), pool, NOW, rules)
        assert decision is not None
        if who == "both":
            both_pattern.append("P" if decision.reason == "priority" else "R")
            assert decision.next_cycle_position == (position + 1) % rules.cycle_length
        else:
            assert decision.reason == who
            assert decision.next_cycle_position == position % rules.cycle_length
        position = decision.next_cycle_position

    cycle = "P" * rp + "R" * rr
    expected = "".join(cycle[(start + k) % len(cycle)] for k in range(len(both_pattern)))
    pattern = "".join(both_pattern)
    assert pattern == expected
    assert "P" * (rp + 1) not in pattern
    assert "R" * (rr + 1) not in pattern


# -- simulation: everybody is served exactly once ------------------------------------------

SIM_WINDOWS = (
    WindowView(1, {"A": True, "B": True, "C": False}),
    WindowView(2, {"C": True, "D": True, "A": False}),
)


def _build_arrivals(parts: list[tuple[Any, ...]]) -> list[Candidate]:
    opening = NOW - timedelta(hours=1)
    tickets = []
    for i, (arrival, service, priority, slot, target) in enumerate(parts):
        queued = opening + timedelta(minutes=arrival)
        tickets.append(
            Candidate(
                ticket_id=f"T{i:03d}",
                service=service,
                queued_at=queued,
                seq=i + 1,
                priority=priority,
                slot_start=None if slot is None else queued + timedelta(minutes=slot),
                target_window=target,
            )
        )
    return tickets


arrival_streams = st.lists(
    st.tuples(
        st.integers(0, 90),  # minutes after the first possible arrival
        st.sampled_from(SERVICES),
        st.booleans(),
        st.one_of(st.none(), st.integers(-10, 60)),  # slot start relative to check-in
        st.sampled_from([None, None, None, 1, 2]),
    ),
    max_size=25,
).map(_build_arrivals)


@PROPERTY
@given(
    arrivals=arrival_streams,
    rules=rules_strategy,
    step_minutes=st.integers(1, 8),
    window_count=st.sampled_from([1, 2]),
)
def test_every_ticket_is_served_exactly_once_property(
    arrivals: list[Candidate], rules: DispatchRules, step_minutes: int, window_count: int
) -> None:
    if window_count == 1:
        # One comprehensive window serves everything (transfers all point at it).
        windows_ = [WindowView(1, {s: True for s in SERVICES})]
        arrivals = [replace(c, target_window=None) for c in arrivals]
    else:
        windows_ = list(SIM_WINDOWS)
    now = NOW - timedelta(hours=1)
    pending = sorted(arrivals, key=lambda c: c.queued_at)
    waiting: list[Candidate] = []
    served: list[str] = []
    positions = {w.id: 0 for w in windows_}
    for _ in range(10_000):
        if not pending and not waiting:
            break
        while pending and pending[0].queued_at <= now:
            waiting.append(pending.pop(0))
        for w in windows_:
            view = WindowView(w.id, w.skills, positions[w.id])
            decision = choose_next(view, waiting, now, rules)
            if decision is None:
                continue
            ids = [c.ticket_id for c in waiting]
            assert decision.ticket_id in ids, "chose a ticket that is not waiting"
            waiting = [c for c in waiting if c.ticket_id != decision.ticket_id]
            served.append(decision.ticket_id)
            positions[w.id] = decision.next_cycle_position
        now += timedelta(minutes=step_minutes)
    else:
        pytest.fail(f"tickets never served: {[c.ticket_id for c in waiting]}")

    assert len(served) == len(set(served)), "a ticket was called twice"
    assert sorted(served) == sorted(c.ticket_id for c in arrivals), "a ticket was lost"


# -- queue_order agrees with choose_next ------------------------------------------------------


@PROPERTY
@given(
    pool=candidate_pools(targets=False),
    guard=st.sampled_from([GuardKind.NONE, GuardKind.AGING]),
)
def test_queue_order_is_the_call_order_of_one_all_skilled_window(
    pool: list[Candidate], guard: GuardKind
) -> None:
    rules = DispatchRules(guard=guard, aging_minutes=AGING_MINUTES)
    everything = WindowView(1, {s: True for s in SERVICES})
    calls = []
    waiting = list(pool)
    while (decision := choose_next(everything, waiting, NOW, rules)) is not None:
        calls.append(decision.ticket_id)
        waiting = [c for c in waiting if c.ticket_id != decision.ticket_id]
    assert [c.ticket_id for c in queue_order(pool, NOW, rules)] == calls


def test_queue_order_puts_begun_appointments_then_aged_then_priority_then_regular() -> None:
    pool = [
        cand("regular", "A", 1),
        cand("priority", "B", 2, priority=True),
        cand("aged", "C", 21),
        cand("appointment", "D", 0, slot_in=-1),
    ]
    order = [c.ticket_id for c in queue_order(pool, NOW, AGING)]
    assert order == ["appointment", "aged", "priority", "regular"]


def test_dispatch_rules_keep_their_values_through_the_stored_form() -> None:
    rules = DispatchRules(GuardKind.RATIO, aging_minutes=12.5, ratio_priority=2, ratio_regular=3)
    assert DispatchRules.from_mapping(rules.to_mapping()) == rules
    assert DispatchRules.from_mapping({}) == DispatchRules()
    with pytest.raises(ValueError):
        DispatchRules.from_mapping({"guard": "lottery"})
