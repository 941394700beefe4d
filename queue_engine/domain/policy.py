"""The dispatch policy: which waiting ticket a window gets when its clerk presses "call next".

Picture a post office clerk looking over the waiting room. First come the people whose booked
appointment has begun; then, with nobody left waiting too long (the fairness guard), people with
a priority reason (elderly, disabled, military, pregnant…); then everybody else in the order they
arrived. A clerk prefers the services that are the window's primary skills over the ones it only
helps out with.

``choose_next`` is a pure function: the live engine and the SimPy model both call it, so the
planning model runs exactly the rules of the hall.

Ordering, best first:

1. checked-in appointment tickets whose slot has begun (earliest slot, then primary skills,
   then earliest queued);
2. with the ``aging`` guard: tickets waiting at least ``aging_minutes`` (oldest first), so no
   priority stream can starve a regular ticket beyond that bound;
3. priority class before regular; with the ``ratio`` guard the window follows a repeating cycle
   of ``ratio_priority`` priority calls then ``ratio_regular`` regular calls whenever both wait;
4. within a class: primary skills before secondary skills, then first queued, then lowest number.

Tickets transferred to a specific window are eligible only there, and go first at that window
after begun appointments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class GuardKind(StrEnum):
    NONE = "none"
    AGING = "aging"
    RATIO = "ratio"


@dataclass(frozen=True)
class DispatchRules:
    """The hall's configurable fairness guard."""

    guard: GuardKind = GuardKind.AGING
    aging_minutes: float = 20.0
    ratio_priority: int = 1
    ratio_regular: int = 2

    def __post_init__(self) -> None:
        if self.aging_minutes <= 0:
            raise ValueError("aging_minutes must be positive")
        if self.ratio_priority < 1 or self.ratio_regular < 1:
            raise ValueError("ratio parts must be at least 1")

    @property
    def cycle_length(self) -> int:
        return self.ratio_priority + self.ratio_regular

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DispatchRules:
        """From the stored form (``halls.dispatch``); missing keys take the defaults."""
        return cls(
            guard=GuardKind(data.get("guard", cls.guard)),
            aging_minutes=float(data.get("aging_minutes", cls.aging_minutes)),
            ratio_priority=int(data.get("ratio_priority", cls.ratio_priority)),
            ratio_regular=int(data.get("ratio_regular", cls.ratio_regular)),
        )

    def to_mapping(self) -> dict[str, Any]:
        return {
            "guard": str(self.guard),
            "aging_minutes": self.aging_minutes,
            "ratio_priority": self.ratio_priority,
            "ratio_regular": self.ratio_regular,
        }


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the policy needs to know of one waiting ticket: no names, no I/O."""

    ticket_id: str
    service: str
    queued_at: datetime
    seq: int = 0
    priority: bool = False
    slot_start: datetime | None = None  # set for checked-in appointment tickets
    target_window: int | None = None  # set when transferred to one window


@dataclass(frozen=True, slots=True)
class WindowView:
    """A window as the policy sees it: its id, skills (service → primary?) and cycle position."""

    id: int
    skills: Mapping[str, bool]
    cycle_position: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    ticket_id: str
    reason: str
    next_cycle_position: int


def is_begun_appointment(candidate: Candidate, now: datetime) -> bool:
    return candidate.slot_start is not None and candidate.slot_start <= now


def is_aged(candidate: Candidate, now: datetime, rules: DispatchRules) -> bool:
    return rules.guard is GuardKind.AGING and now - candidate.queued_at >= timedelta(
        minutes=rules.aging_minutes
    )


def aged_before(now: datetime, rules: DispatchRules) -> datetime | None:
    """Tickets queued at or before this have waited past the aging guard (None: no guard)."""
    if rules.guard is not GuardKind.AGING:
        return None
    return now - timedelta(minutes=rules.aging_minutes)


def eligible(window: WindowView, candidates: Iterable[Candidate]) -> list[Candidate]:
    """Candidates this window may serve: its skills, and window transfers meant for it."""
    return [
        c
        for c in candidates
        if (c.target_window == window.id)
        or (c.target_window is None and c.service in window.skills)
    ]


def _fifo_key(window: WindowView, c: Candidate) -> tuple[bool, datetime, int, str]:
    secondary = not window.skills.get(c.service, True)
    return (secondary, c.queued_at, c.seq, c.ticket_id)


def choose_next(
    window: WindowView,
    candidates: Sequence[Candidate],
    now: datetime,
    rules: DispatchRules,
) -> Decision | None:
    """Pick the ticket ``window`` should call now, or None when nothing is eligible."""
    pool = eligible(window, candidates)
    if not pool:
        return None
    position = window.cycle_position % rules.cycle_length  # the ratio may have been changed

    def decide(chosen: Candidate, reason: str, advance: bool = False) -> Decision:
        nxt = (position + 1) % rules.cycle_length if advance else position
        return Decision(chosen.ticket_id, reason, nxt)

    begun = [c for c in pool if is_begun_appointment(c, now)]
    if begun:
        best = min(begun, key=lambda c: (c.slot_start, *_fifo_key(window, c)))
        return decide(best, "appointment")
    targeted = [c for c in pool if c.target_window == window.id]
    if targeted:
        return decide(min(targeted, key=lambda c: _fifo_key(window, c)), "transferred")
    aged = [c for c in pool if is_aged(c, now, rules)]
    if aged:
        return decide(min(aged, key=lambda c: (c.queued_at, c.seq, c.ticket_id)), "aged")

    priority = [c for c in pool if c.priority]
    regular = [c for c in pool if not c.priority]
    if priority and regular and rules.guard is GuardKind.RATIO:
        wants_priority = position < rules.ratio_priority
        group = priority if wants_priority else regular
        reason = "priority" if wants_priority else "regular"
        return decide(min(group, key=lambda c: _fifo_key(window, c)), reason, advance=True)
    group = priority or regular
    reason = "priority" if priority else "regular"
    return decide(min(group, key=lambda c: _fifo_key(window, c)), reason)


QueueKey = tuple[int, datetime, datetime, int, str]


def queue_key(c: Candidate, now: datetime, rules: DispatchRules) -> QueueKey:
    """Where ``c`` stands in ``queue_order``: (rank, first time, queued, number, id), least first.

    Ranks: 0 begun appointment (first time: its slot start), 1 waited past the aging guard,
    2 priority class, 3 regular (first time: queued).
    """
    if is_begun_appointment(c, now):
        assert c.slot_start is not None
        return (0, c.slot_start, c.queued_at, c.seq, c.ticket_id)
    if is_aged(c, now, rules):
        return (1, c.queued_at, c.queued_at, c.seq, c.ticket_id)
    rank = 2 if c.priority else 3
    return (rank, c.queued_at, c.queued_at, c.seq, c.ticket_id)


def queue_order(
    candidates: Iterable[Candidate], now: datetime, rules: DispatchRules
) -> list[Candidate]:
    """The order a single all-skilled window would serve these tickets in (for positions).

    It ignores ratio cycles and window transfers, which depend on which window calls; it is the
    citizen-facing "people ahead of you" order, not a promise about a particular window.
    """
    return sorted(candidates, key=lambda c: queue_key(c, now, rules))


def line_heads(
    candidates: Iterable[Candidate],
    now: datetime,
    per_line: int = 1,
    window: WindowView | None = None,
) -> list[Candidate]:
    """The few tickets that can decide a call or the front of a queue: the head of each line.

    A line is the tickets of one service and class (priority or regular) in queued order
    (queued, number, id); its head is its first ``per_line`` tickets. Begun appointments form
    one more line per service, by slot start. With ``window``: only what it may call, tickets
    transferred to it all kept (they are few), the others' lines without transfers.

    Why that is enough. ``choose_next`` takes the least of one group (begun appointments,
    transfers to the window, aged tickets, a class) by a key that, within one service and
    class, is the queued order, and aged tickets are a prefix of every line. So the least of a
    group lies in some line's head, and ``choose_next(window, line_heads(...))`` equals
    ``choose_next(window, all)``; with ``per_line = k + 1`` that holds even after any ``k`` of
    them are struck out (a claim lost to another window). Without a window, everything ahead of
    a ticket in ``queue_order`` is ahead of it in its own line, so the first ``per_line`` of
    ``queue_order`` are the same from the heads. Any set between the heads and all tickets
    gives the same answers too (the database reads lines per priority reason, a finer split).
    """
    lines: dict[tuple[str, bool, bool], list[Candidate]] = {}
    kept: list[Candidate] = []
    pool = candidates if window is None else eligible(window, candidates)
    for c in pool:
        if window is not None and c.target_window is not None:
            kept.append(c)  # transferred to this very window
            continue
        lines.setdefault((c.service, c.priority, False), []).append(c)
        if is_begun_appointment(c, now):
            lines.setdefault((c.service, False, True), []).append(c)
    seen = {c.ticket_id for c in kept}
    for (_, _, begun), line in lines.items():
        if begun:
            line.sort(key=lambda c: (c.slot_start, c.queued_at, c.seq, c.ticket_id))
        else:
            line.sort(key=lambda c: (c.queued_at, c.seq, c.ticket_id))
        for c in line[:per_line]:
            if c.ticket_id not in seen:
                seen.add(c.ticket_id)
                kept.append(c)
    return kept


def dispatch_sequence(
    window: WindowView, candidates: Sequence[Candidate], now: datetime, rules: DispatchRules
) -> list[Candidate]:
    """The order in which ``window`` would call these candidates if nothing else changed."""
    remaining = eligible(window, candidates)
    by_id = {c.ticket_id: c for c in remaining}
    order: list[Candidate] = []
    view = window
    while remaining:
        decision = choose_next(view, remaining, now, rules)
        if decision is None:
            break
        order.append(by_id[decision.ticket_id])
        remaining = [c for c in remaining if c.ticket_id != decision.ticket_id]
        view = WindowView(view.id, view.skills, decision.next_cycle_position)
    return order
