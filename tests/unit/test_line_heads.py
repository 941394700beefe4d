"""The heads of the lines decide like the whole queue (issue 16: call-next flat in queue length).

The engine feeds ``choose_next`` only ``line_heads``: the first tickets of each service and
class, begun appointments per service, transfers to the window. These properties check on
random queues (ties in queued time and number, appointments begun or not, transfers here and
elsewhere, every guard and ratio position) that the call, the calls after claims lost to other
windows, and the front of ``queue_order`` are the same from the heads as from every ticket.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from queue_engine.domain.policy import (
    Candidate,
    DispatchRules,
    GuardKind,
    WindowView,
    choose_next,
    line_heads,
    queue_order,
)

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
SERVICES = ("A", "B", "C", "D")
WINDOWS = (
    WindowView(id=1, skills={"A": True, "B": True, "C": False}),
    WindowView(id=2, skills={"C": True}),
    WindowView(id=3, skills={"A": False, "B": False, "C": False, "D": True}),
)
RULES = (
    DispatchRules(GuardKind.AGING, aging_minutes=20),
    DispatchRules(GuardKind.AGING, aging_minutes=3),
    DispatchRules(GuardKind.RATIO, ratio_priority=1, ratio_regular=2),
    DispatchRules(GuardKind.RATIO, ratio_priority=2, ratio_regular=1),
    DispatchRules(GuardKind.NONE),
)
PROPERTY = settings(max_examples=300, deadline=None)

# Few distinct times and numbers, so that ties are common.
waited = st.sampled_from([0, 1, 5, 5, 19, 20, 21, 40])
slot = st.one_of(st.none(), st.sampled_from([-30, -5, 0, 5, 30]))
target = st.one_of(st.none(), st.none(), st.none(), st.sampled_from([1, 2, 3]))


@st.composite
def queues(draw: st.DrawFn) -> list[Candidate]:
    size = draw(st.integers(0, 40))
    return [
        Candidate(
            ticket_id=f"t{i:02d}{draw(st.sampled_from('abc'))}",
            service=draw(st.sampled_from(SERVICES)),
            queued_at=NOW - timedelta(minutes=draw(waited)),
            seq=draw(st.integers(1, 6)),
            priority=draw(st.booleans()),
            slot_start=None if (s := draw(slot)) is None else NOW + timedelta(minutes=s),
            target_window=draw(target),
        )
        for i in range(size)
    ]


@PROPERTY
@given(queues(), st.sampled_from(WINDOWS), st.sampled_from(RULES), st.integers(0, 2))
def test_the_heads_give_the_call_of_the_whole_queue(
    queue: list[Candidate], window: WindowView, rules: DispatchRules, position: int
) -> None:
    view = WindowView(window.id, window.skills, position)
    heads = line_heads(queue, NOW, 1, window)
    assert {c.ticket_id for c in heads} <= {c.ticket_id for c in queue}
    assert choose_next(view, heads, NOW, rules) == choose_next(view, queue, NOW, rules)


@PROPERTY
@given(queues(), st.sampled_from(WINDOWS), st.sampled_from(RULES), st.data())
def test_after_claims_lost_to_other_windows_deeper_heads_still_decide(
    queue: list[Candidate], window: WindowView, rules: DispatchRules, data: st.DataObject
) -> None:
    lost = data.draw(st.sets(st.sampled_from([c.ticket_id for c in queue] or ["none"])))
    heads = line_heads(queue, NOW, len(lost) + 1, window)
    rest = [c for c in queue if c.ticket_id not in lost]
    some = [c for c in heads if c.ticket_id not in lost]
    assert choose_next(window, some, NOW, rules) == choose_next(window, rest, NOW, rules)


@PROPERTY
@given(queues(), st.sampled_from(RULES), st.integers(1, 6), st.sampled_from(SERVICES))
def test_the_front_of_a_service_queue_is_the_same_from_the_heads(
    queue: list[Candidate], rules: DispatchRules, k: int, service: str
) -> None:
    mine = [c for c in queue if c.service == service]
    front = queue_order(line_heads(mine, NOW, k), NOW, rules)[:k]
    assert front == queue_order(mine, NOW, rules)[:k]


def test_a_long_line_is_read_as_its_head() -> None:
    queue = [Candidate(f"t{i}", "A", NOW - timedelta(seconds=i), seq=i) for i in range(1000)]
    assert [c.ticket_id for c in line_heads(queue, NOW, 2)] == ["t999", "t998"]
