"""The ticket and window life cycles (SPEC §3 "Ticket life"), driven by a FrozenClock.

Every transition returns the DomainEvent that records it; forbidden transitions raise
InvalidTransition and leave the ticket or window exactly as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_engine.domain.clock import FrozenClock, SystemClock
from queue_engine.domain.counter import hold
from queue_engine.domain.errors import Conflict, DomainError, InvalidInput, InvalidTransition
from queue_engine.domain.events import EVENT_COLUMNS, DomainEvent, EventType
from queue_engine.domain.model import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    Channel,
    NoShowMode,
    NoShowRule,
    Priority,
    Service,
    Ticket,
    TicketStatus,
    WaitEstimate,
    WindowConfig,
    WindowState,
    WindowStatus,
    format_number,
)

START = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
HALL = "city"

PERMITS = Service("permits", "A", "许可", "Permits", "1F", 10)
TAX = Service("tax", "B", "税务", "Tax", "2F", 15)
RETIRED = Service("retired", "C", "旧事项", "Retired", "1F", 5, active=False)

# Ids differ from numbers so that labels (numbers) and ids cannot be mixed up unnoticed.
WINDOW_7 = WindowConfig(id=3, number=7, name="Window 7", zone="1F", skills={"permits": True})
WINDOW_12 = WindowConfig(
    id=9, number=12, name="Window 12", zone="2F", skills={"tax": True, "permits": False}
)

REQUEUE_ONCE = NoShowRule(mode=NoShowMode.REQUEUE, behind=3, max_requeues=1)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


def make_ticket(now: datetime, **changes: object) -> Ticket:
    fields: dict[str, object] = {
        "id": "t-1",
        "hall": HALL,
        "service": "permits",
        "prefix": "A",
        "seq": 23,
        "business_date": date(2026, 11, 26),
        "channel": Channel.KIOSK,
        "priority": Priority.ELDERLY,
        "issued_at": now,
        "queued_at": now,
    }
    fields.update(changes)
    return Ticket(**fields)  # type: ignore[arg-type]


def ticket_in(status: TicketStatus, clock: FrozenClock) -> Ticket:
    """A ticket brought to ``status`` through allowed transitions only."""
    ticket = make_ticket(clock.now())
    if status is TicketStatus.CANCELLED:
        ticket.cancel(clock.advance(minutes=1))
    elif status is not TicketStatus.WAITING:
        ticket.call(WINDOW_7, "clerk-1", clock.advance(minutes=1))
        if status is TicketStatus.NO_SHOW:
            ticket.no_show(NoShowRule(), clock.advance(minutes=1))
        elif status in (TicketStatus.SERVING, TicketStatus.DONE):
            ticket.start(clock.advance(minutes=1))
            if status is TicketStatus.DONE:
                ticket.finish(clock.advance(minutes=1))
        elif status is TicketStatus.HELD:
            hold(ticket, clock.advance(minutes=1))
    assert ticket.status is status
    return ticket


def assert_ticket_event(event: DomainEvent, kind: EventType, at: datetime) -> None:
    assert event.type is kind
    assert event.hall == HALL
    assert event.ts == at
    assert event.ticket_id == "t-1"
    assert event.ticket_number == "A023"
    assert event.channel == "kiosk"
    assert event.priority == "elderly"


# -- numbers and small value objects ------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "seq", "number"),
    [("A", 23, "A023"), ("B", 1, "B001"), ("Z", 999, "Z999"), ("C", 1234, "C1234")],
)
def test_ticket_numbers_have_at_least_three_digits(prefix: str, seq: int, number: str) -> None:
    assert format_number(prefix, seq) == number


def test_ticket_number_is_prefix_and_sequence() -> None:
    assert make_ticket(START, prefix="B", seq=7).number == "B007"


def test_new_ticket_is_waiting_with_zero_counters() -> None:
    ticket = make_ticket(START)
    assert ticket.status is TicketStatus.WAITING
    assert (ticket.recalls, ticket.requeues, ticket.transfers) == (0, 0, 0)
    assert ticket.window_id is None and ticket.called_at is None


def test_active_and_final_statuses() -> None:
    assert {TicketStatus.CALLED, TicketStatus.SERVING} == ACTIVE_STATUSES
    assert {TicketStatus.DONE, TicketStatus.NO_SHOW, TicketStatus.CANCELLED} == FINAL_STATUSES


def test_every_priority_reason_but_none_is_the_priority_class() -> None:
    assert not Priority.NONE.is_priority
    assert all(p.is_priority for p in Priority if p is not Priority.NONE)


# -- the happy path ------------------------------------------------------------------------


def test_issued_event_carries_the_estimate_and_the_issue_time(clock: FrozenClock) -> None:
    ticket = make_ticket(clock.now(), estimate=WaitEstimate(6.0, 14.5))
    clock.advance(minutes=3)
    event = ticket.issued_event()
    assert_ticket_event(event, EventType.TICKET_ISSUED, START)
    assert event.service == "permits"
    assert event.window is None and event.clerk is None
    assert event.payload == {"estimated_wait": {"median_minutes": 6.0, "p90_minutes": 14.5}}


def test_issued_event_of_an_appointment_carries_the_slot_start(clock: FrozenClock) -> None:
    slot = START + timedelta(minutes=30)
    ticket = make_ticket(clock.now(), channel=Channel.APPOINTMENT, slot_start=slot)
    event = ticket.issued_event()
    assert event.channel == "appointment"
    assert event.payload == {"estimated_wait": None, "slot_start": slot.isoformat()}


def test_waiting_called_serving_done(clock: FrozenClock) -> None:
    ticket = make_ticket(clock.now())

    called_at = clock.advance(minutes=4)
    event = ticket.call(WINDOW_7, "clerk-1", called_at)
    assert ticket.status is TicketStatus.CALLED
    assert ticket.called_at == ticket.first_called_at == called_at
    assert (ticket.window_id, ticket.window_label, ticket.clerk) == (3, "7", "clerk-1")
    assert_ticket_event(event, EventType.TICKET_CALLED, called_at)
    assert (event.service, event.window, event.clerk) == ("permits", "7", "clerk-1")
    assert event.payload == {}

    started_at = clock.advance(minutes=1)
    event = ticket.start(started_at)
    assert ticket.status is TicketStatus.SERVING
    assert ticket.started_at == started_at
    assert_ticket_event(event, EventType.TICKET_STARTED, started_at)
    assert event.window == "7"

    finished_at = clock.advance(minutes=9)
    event = ticket.finish(finished_at)
    assert ticket.status is TicketStatus.DONE
    assert ticket.finished_at == finished_at
    assert_ticket_event(event, EventType.TICKET_FINISHED, finished_at)
    assert (event.window, event.clerk) == ("7", "clerk-1")


def test_call_clears_a_window_transfer_target(clock: FrozenClock) -> None:
    ticket = make_ticket(clock.now(), target_window=WINDOW_12.id)
    ticket.call(WINDOW_12, "clerk-2", clock.advance(minutes=1))
    assert ticket.target_window is None
    assert ticket.window_label == "12"


def test_recall_stays_called_and_counts(clock: FrozenClock) -> None:
    ticket = ticket_in(TicketStatus.CALLED, clock)
    called_at = ticket.called_at
    first = clock.advance(minutes=1)
    event = ticket.recall(first)
    assert ticket.status is TicketStatus.CALLED
    assert ticket.recalls == 1
    assert_ticket_event(event, EventType.TICKET_RECALLED, first)
    assert event.payload == {"recalls": 1}
    assert event.window == "7"

    second = clock.advance(minutes=1)
    assert ticket.recall(second).payload == {"recalls": 2}
    assert ticket.recalls == 2
    assert ticket.called_at == called_at  # a recall is not a new call


def test_no_show_with_the_void_rule_is_final(clock: FrozenClock) -> None:
    ticket = ticket_in(TicketStatus.CALLED, clock)
    now = clock.advance(minutes=2)
    event = ticket.no_show(NoShowRule(mode=NoShowMode.VOID), now, requeue_at=now)
    assert ticket.status is TicketStatus.NO_SHOW
    assert ticket.finished_at == now
    assert ticket.requeues == 0
    assert_ticket_event(event, EventType.TICKET_NO_SHOW, now)
    assert event.payload == {"requeued": False}
    assert event.window == "7"


def test_no_show_with_the_requeue_rule_goes_back_to_waiting(clock: FrozenClock) -> None:
    ticket = ticket_in(TicketStatus.CALLED, clock)
    first_called = ticket.first_called_at
    requeue_at = START + timedelta(seconds=30)
    now = clock.advance(minutes=2)
    event = ticket.no_show(REQUEUE_ONCE, now, requeue_at=requeue_at)
    assert ticket.status is TicketStatus.WAITING
    assert ticket.queued_at == requeue_at
    assert ticket.requeues == 1
    assert ticket.finished_at is None
    assert (ticket.window_id, ticket.window_label, ticket.clerk) == (None, None, None)
    assert ticket.first_called_at == first_called
    assert_ticket_event(event, EventType.TICKET_NO_SHOW, now)
    assert event.payload == {"requeued": True}
    assert (event.window, event.clerk) == ("7", "clerk-1")  # recorded before leaving


def test_no_show_is_final_once_max_requeues_is_reached(clock: FrozenClock) -> None:
    ticket = ticket_in(TicketStatus.CALLED, clock)
    ticket.no_show(REQUEUE_ONCE, clock.advance(minutes=1), requeue_at=clock.now())
    second_call = clock.advance(minutes=5)
    ticket.call(WINDOW_7, "clerk-1", second_call)
    assert ticket.first_called_at != second_call
    assert ticket.called_at == second_call

    now = clock.advance(minutes=1)
    event = ticket.no_show(REQUEUE_ONCE, now, requeue_at=now)
    assert ticket.status is TicketStatus.NO_SHOW
    assert ticket.requeues == 1
    assert ticket.finished_at == now
    assert event.payload == {"requeued": False}


@pytest.mark.parametrize("max_requeues", [0, 1, 3])
def test_requeue_rule_allows_exactly_max_requeues(clock: FrozenClock, max_requeues: int) -> None:
    rule = NoShowRule(mode=NoShowMode.REQUEUE, max_requeues=max_requeues)
    ticket = make_ticket(clock.now())
    outcomes = []
    while ticket.status is TicketStatus.WAITING:
        ticket.call(WINDOW_7, None, clock.advance(minutes=1))
        event = ticket.no_show(rule, clock.advance(minutes=1), requeue_at=clock.now())
        outcomes.append(event.payload["requeued"])
    assert outcomes == [True] * max_requeues + [False]
    assert ticket.requeues == max_requeues
    assert ticket.status is TicketStatus.NO_SHOW


def test_requeue_rule_without_a_requeue_time_is_final(clock: FrozenClock) -> None:
    ticket = ticket_in(TicketStatus.CALLED, clock)
    event = ticket.no_show(REQUEUE_ONCE, clock.advance(minutes=1), requeue_at=None)
    assert ticket.status is TicketStatus.NO_SHOW
    assert event.payload == {"requeued": False}


def test_transfer_sends_a_served_ticket_back_to_waiting(clock: FrozenClock) -> None:
    ticket = ticket_in(TicketStatus.SERVING, clock)
    queued_at = ticket.queued_at
    now = clock.advance(minutes=3)
    event = ticket.transfer(TAX, WINDOW_12, now)
    assert ticket.status is TicketStatus.WAITING
    assert ticket.service == "tax"
    assert ticket.target_window == WINDOW_12.id
    assert ticket.transfers == 1
    assert ticket.queued_at == queued_at  # no second queue from the back
    assert ticket.started_at is None
    assert (ticket.window_id, ticket.window_label, ticket.clerk) == (None, None, None)
    assert_ticket_event(event, EventType.TICKET_TRANSFERRED, now)
    assert (event.service, event.window, event.clerk) == ("permits", "7", "clerk-1")
    assert event.payload == {"from_service": "permits", "to_service": "tax", "to_window": "12"}


def test_transfer_to_another_service_without_a_window(clock: FrozenClock) -> None:
    ticket = ticket_in(TicketStatus.SERVING, clock)
    event = ticket.transfer(TAX, None, clock.advance(minutes=1))
    assert ticket.status is TicketStatus.WAITING
    assert ticket.target_window is None
    assert event.payload == {"from_service": "permits", "to_service": "tax"}


def test_transfer_to_another_window_for_the_same_service(clock: FrozenClock) -> None:
    ticket = ticket_in(TicketStatus.SERVING, clock)
    event = ticket.transfer(PERMITS, WINDOW_12, clock.advance(minutes=1))
    assert ticket.service == "permits"
    assert ticket.target_window == 9
    assert event.payload == {
        "from_service": "permits",
        "to_service": "permits",
        "to_window": "12",
    }


def test_transferred_ticket_can_be_called_again_and_finished(clock: FrozenClock) -> None:
    ticket = ticket_in(TicketStatus.SERVING, clock)
    ticket.transfer(TAX, WINDOW_12, clock.advance(minutes=1))
    ticket.call(WINDOW_12, "clerk-2", clock.advance(minutes=1))
    ticket.start(clock.advance(minutes=1))
    event = ticket.finish(clock.advance(minutes=1))
    assert ticket.status is TicketStatus.DONE
    assert (event.service, event.window, event.clerk) == ("tax", "12", "clerk-2")


@pytest.mark.parametrize(
    ("service", "window"),
    [(PERMITS, None), (RETIRED, None), (TAX, WINDOW_7)],
    ids=["same-service-no-window", "inactive-service", "window-lacks-skill"],
)
def test_invalid_transfers_are_refused_without_change(
    clock: FrozenClock, service: Service, window: WindowConfig | None
) -> None:
    ticket = ticket_in(TicketStatus.SERVING, clock)
    before = copy.deepcopy(ticket)
    with pytest.raises(InvalidInput):
        ticket.transfer(service, window, clock.advance(minutes=1))
    assert ticket == before


def test_waiting_ticket_can_be_cancelled(clock: FrozenClock) -> None:
    ticket = make_ticket(clock.now())
    now = clock.advance(minutes=2)
    event = ticket.cancel(now)
    assert ticket.status is TicketStatus.CANCELLED
    assert ticket.finished_at == now
    assert_ticket_event(event, EventType.TICKET_CANCELLED, now)
    assert event.payload == {"by": "holder"}


def test_cancel_records_who_cancelled(clock: FrozenClock) -> None:
    ticket = make_ticket(clock.now())
    assert ticket.cancel(clock.advance(minutes=1), by="supervisor").payload == {"by": "supervisor"}


# -- forbidden transitions ------------------------------------------------------------------

Action = Callable[[Ticket, datetime], DomainEvent]

ACTIONS: dict[str, Action] = {
    "call": lambda t, now: t.call(WINDOW_7, "clerk-1", now),
    "recall": lambda t, now: t.recall(now),
    "start": lambda t, now: t.start(now),
    "finish": lambda t, now: t.finish(now),
    "no_show": lambda t, now: t.no_show(REQUEUE_ONCE, now, requeue_at=now),
    "transfer": lambda t, now: t.transfer(TAX, None, now),
    "cancel": lambda t, now: t.cancel(now),
}

# From which states each action is allowed (SPEC §3). The model also lets a clerk transfer a
# called citizen who has not been started yet; SPEC §3 only names serving → waiting.
ALLOWED: dict[str, set[TicketStatus]] = {
    "call": {TicketStatus.WAITING},
    "recall": {TicketStatus.CALLED},
    "start": {TicketStatus.CALLED},
    "finish": {TicketStatus.SERVING},
    "no_show": {TicketStatus.CALLED},
    "transfer": {TicketStatus.CALLED, TicketStatus.SERVING},
    "cancel": {TicketStatus.WAITING},
}

FORBIDDEN = [
    pytest.param(action, status, id=f"{action}-{status}")
    for action in ACTIONS
    for status in TicketStatus
    if status not in ALLOWED[action]
]


@pytest.mark.parametrize(("action", "status"), FORBIDDEN)
def test_forbidden_transitions_raise_and_change_nothing(
    clock: FrozenClock, action: str, status: TicketStatus
) -> None:
    ticket = ticket_in(status, clock)
    before = copy.deepcopy(ticket)
    with pytest.raises(InvalidTransition) as raised:
        ACTIONS[action](ticket, clock.advance(minutes=1))
    assert ticket == before
    assert "A023" in str(raised.value)
    assert raised.value.code == "invalid_transition"
    assert isinstance(raised.value, Conflict)


def test_finishing_a_waiting_ticket_is_refused(clock: FrozenClock) -> None:
    with pytest.raises(InvalidTransition):
        make_ticket(clock.now()).finish(clock.now())


def test_starting_a_done_ticket_is_refused(clock: FrozenClock) -> None:
    with pytest.raises(InvalidTransition):
        ticket_in(TicketStatus.DONE, clock).start(clock.now())


def test_cancelling_a_called_ticket_is_refused(clock: FrozenClock) -> None:
    with pytest.raises(InvalidTransition):
        ticket_in(TicketStatus.CALLED, clock).cancel(clock.now())


def test_transferring_a_waiting_ticket_is_a_transition_error_not_an_input_error(
    clock: FrozenClock,
) -> None:
    # Even with an otherwise invalid target, the state is checked first.
    with pytest.raises(InvalidTransition):
        make_ticket(clock.now()).transfer(PERMITS, None, clock.now())


@pytest.mark.parametrize("status", sorted(FINAL_STATUSES))
def test_final_states_accept_no_action(clock: FrozenClock, status: TicketStatus) -> None:
    ticket = ticket_in(status, clock)
    for name, action in ACTIONS.items():
        with pytest.raises(InvalidTransition):
            action(ticket, clock.now())
        assert ticket.status is status, name


# -- property: random action sequences follow the transition table -------------------------

EXPECTED_EVENT = {
    "call": EventType.TICKET_CALLED,
    "recall": EventType.TICKET_RECALLED,
    "start": EventType.TICKET_STARTED,
    "finish": EventType.TICKET_FINISHED,
    "no_show": EventType.TICKET_NO_SHOW,
    "transfer": EventType.TICKET_TRANSFERRED,
    "cancel": EventType.TICKET_CANCELLED,
}


def expected_status(action: str, ticket: Ticket, rule: NoShowRule) -> TicketStatus:
    if action in ("call", "recall"):
        return TicketStatus.CALLED
    if action == "start":
        return TicketStatus.SERVING
    if action == "finish":
        return TicketStatus.DONE
    if action == "cancel":
        return TicketStatus.CANCELLED
    if action == "transfer":
        return TicketStatus.WAITING
    requeue = rule.mode is NoShowMode.REQUEUE and ticket.requeues < rule.max_requeues
    return TicketStatus.WAITING if requeue else TicketStatus.NO_SHOW


@settings(max_examples=200, deadline=None)
@given(
    actions=st.lists(st.sampled_from(sorted(ACTIONS)), max_size=25),
    rule=st.builds(
        NoShowRule,
        mode=st.sampled_from(list(NoShowMode)),
        behind=st.integers(0, 5),
        max_requeues=st.integers(0, 3),
    ),
    step=st.integers(1, 600),
)
def test_random_action_sequences_follow_the_life_cycle(
    actions: list[str], rule: NoShowRule, step: int
) -> None:
    clock = FrozenClock(START)
    ticket = make_ticket(clock.now())
    services = [TAX, PERMITS]
    recalls = 0
    for action in actions:
        now = clock.advance(seconds=step)
        status = ticket.status
        if status not in ALLOWED[action]:
            before = copy.deepcopy(ticket)
            with pytest.raises(InvalidTransition):
                ACTIONS[action](ticket, now)
            assert ticket == before
            continue
        expected = expected_status(action, ticket, rule)
        if action == "no_show":
            event = ticket.no_show(rule, now, requeue_at=now)
        elif action == "transfer":
            target = services[ticket.transfers % 2]
            event = ticket.transfer(target, None, now)
        else:
            event = ACTIONS[action](ticket, now)
        recalls += action == "recall"
        assert ticket.status is expected
        assert event.type is EXPECTED_EVENT[action]
        assert event.ts == now
        assert event.ticket_number == "A023"
        assert ticket.recalls == recalls
        assert ticket.requeues <= rule.max_requeues
        if ticket.status in FINAL_STATUSES:
            assert ticket.finished_at == now


# -- windows --------------------------------------------------------------------------------


def make_window(state: WindowState = WindowState.CLOSED, **changes: object) -> WindowStatus:
    window = WindowStatus(hall=HALL, config=WINDOW_7, state=state)
    if state is not WindowState.CLOSED:
        window.clerk = "clerk-1"
    if state is WindowState.PAUSED:
        window.paused_reason = "lunch"
    for name, value in changes.items():
        setattr(window, name, value)
    return window


def assert_window_event(event: DomainEvent, kind: EventType, at: datetime, clerk: str) -> None:
    assert event.type is kind
    assert event.hall == HALL
    assert event.ts == at
    assert event.window == "7"
    assert event.clerk == clerk
    assert event.ticket_id is None and event.ticket_number is None


def test_window_opens_pauses_resumes_and_closes(clock: FrozenClock) -> None:
    window = make_window()
    assert window.state is WindowState.CLOSED

    opened = clock.advance(minutes=1)
    event = window.open("clerk-1", opened)
    assert (window.state, window.clerk, window.since) == (WindowState.OPEN, "clerk-1", opened)
    assert_window_event(event, EventType.WINDOW_OPENED, opened, "clerk-1")
    assert event.payload == {}
    window.require_ready_to_call()

    paused = clock.advance(minutes=30)
    event = window.pause("  lunch break ", paused)
    assert window.state is WindowState.PAUSED
    assert window.paused_reason == "lunch break"
    assert window.since == paused
    assert_window_event(event, EventType.WINDOW_PAUSED, paused, "clerk-1")
    assert event.payload == {"reason": "lunch break", "category": "lunch"}  # row 14

    resumed = clock.advance(minutes=45)
    event = window.resume(resumed)
    assert (window.state, window.paused_reason, window.since) == (
        WindowState.OPEN,
        None,
        resumed,
    )
    assert_window_event(event, EventType.WINDOW_RESUMED, resumed, "clerk-1")

    closed = clock.advance(hours=3)
    event = window.close(closed)
    assert (window.state, window.clerk, window.since) == (WindowState.CLOSED, None, closed)
    assert_window_event(event, EventType.WINDOW_CLOSED, closed, "clerk-1")


def test_paused_window_can_be_closed(clock: FrozenClock) -> None:
    window = make_window(WindowState.PAUSED)
    event = window.close(clock.advance(minutes=1))
    assert window.state is WindowState.CLOSED
    assert window.paused_reason is None
    assert event.clerk == "clerk-1"


def test_closed_window_can_be_reopened_by_another_clerk(clock: FrozenClock) -> None:
    window = make_window(WindowState.OPEN)
    window.close(clock.advance(minutes=1))
    event = window.open("clerk-2", clock.advance(minutes=1))
    assert window.clerk == "clerk-2"
    assert event.clerk == "clerk-2"


@pytest.mark.parametrize("reason", ["", "   ", "\t\n"])
def test_pause_needs_a_reason(clock: FrozenClock, reason: str) -> None:
    window = make_window(WindowState.OPEN)
    with pytest.raises(InvalidInput) as raised:
        window.pause(reason, clock.now())
    assert not isinstance(raised.value, InvalidTransition)
    assert raised.value.code == "invalid"
    assert window.state is WindowState.OPEN


def test_pause_with_a_current_ticket_is_refused(clock: FrozenClock) -> None:
    window = make_window(WindowState.OPEN, current_ticket="t-1")
    with pytest.raises(InvalidTransition):
        window.pause("lunch", clock.now())
    assert window.state is WindowState.OPEN


def test_close_with_a_current_ticket_is_refused(clock: FrozenClock) -> None:
    window = make_window(WindowState.OPEN, current_ticket="t-1")
    before = copy.deepcopy(window)
    with pytest.raises(InvalidTransition):
        window.close(clock.now())
    assert window == before


WINDOW_FORBIDDEN = [
    ("open", WindowState.OPEN),
    ("open", WindowState.PAUSED),
    ("pause", WindowState.CLOSED),
    ("pause", WindowState.PAUSED),
    ("resume", WindowState.OPEN),
    ("resume", WindowState.CLOSED),
    ("close", WindowState.CLOSED),
]


@pytest.mark.parametrize(("action", "state"), WINDOW_FORBIDDEN)
def test_forbidden_window_transitions_raise_and_change_nothing(
    clock: FrozenClock, action: str, state: WindowState
) -> None:
    window = make_window(state)
    before = copy.deepcopy(window)
    calls: dict[str, Callable[[], DomainEvent]] = {
        "open": lambda: window.open("clerk-9", clock.now()),
        "pause": lambda: window.pause("break", clock.now()),
        "resume": lambda: window.resume(clock.now()),
        "close": lambda: window.close(clock.now()),
    }
    with pytest.raises(InvalidTransition) as raised:
        calls[action]()
    assert window == before
    assert "7" in str(raised.value)


def test_open_idle_window_is_ready_to_call() -> None:
    make_window(WindowState.OPEN).require_ready_to_call()


@pytest.mark.parametrize(
    "window",
    [
        make_window(WindowState.CLOSED),
        make_window(WindowState.PAUSED),
        make_window(WindowState.OPEN, current_ticket="t-1"),
    ],
    ids=["closed", "paused", "busy"],
)
def test_window_not_ready_to_call(window: WindowStatus) -> None:
    with pytest.raises(InvalidTransition):
        window.require_ready_to_call()


def test_window_label_is_its_number() -> None:
    assert WINDOW_7.label == "7"
    view = WINDOW_12.view(cycle_position=2)
    assert (view.id, view.cycle_position) == (9, 2)
    assert view.skills == {"tax": True, "permits": False}


# -- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["A", "Z"])
def test_service_prefix_of_one_capital_letter_is_accepted(prefix: str) -> None:
    assert Service("x", prefix, "x", "x", "1F", 5).prefix == prefix


@pytest.mark.parametrize("prefix", ["", "a", "AB", "1", "-", " ", "Ä", "Ａ"])
def test_service_prefix_must_be_one_capital_letter(prefix: str) -> None:
    with pytest.raises(InvalidInput):
        Service("x", prefix, "x", "x", "1F", 5)


@pytest.mark.parametrize("minutes", [0, -3])
def test_service_standard_time_must_be_positive(minutes: float) -> None:
    with pytest.raises(InvalidInput):
        Service("x", "A", "x", "x", "1F", minutes)


@pytest.mark.parametrize(("behind", "max_requeues"), [(-1, 1), (3, -1)])
def test_no_show_rule_numbers_cannot_be_negative(behind: int, max_requeues: int) -> None:
    with pytest.raises(InvalidInput):
        NoShowRule(mode=NoShowMode.REQUEUE, behind=behind, max_requeues=max_requeues)


def test_no_show_rule_defaults_to_void() -> None:
    assert NoShowRule().mode is NoShowMode.VOID


def test_domain_errors_share_one_base() -> None:
    for error in (InvalidInput("x"), InvalidTransition("x")):
        assert isinstance(error, DomainError)
    assert InvalidInput("x", code="custom").code == "custom"


# -- events and clocks ----------------------------------------------------------------------


def test_domain_event_requires_a_timezone_aware_timestamp() -> None:
    with pytest.raises(ValueError):
        DomainEvent(EventType.TICKET_CALLED, HALL, datetime(2026, 11, 26, 9, 0))


def test_event_row_has_the_contract_columns_in_the_halls_zone(clock: FrozenClock) -> None:
    ticket = make_ticket(clock.now())
    event = ticket.call(WINDOW_7, "clerk-1", clock.advance(minutes=1))
    row = event.to_row("e-1", ZoneInfo("Asia/Shanghai"))
    assert tuple(row) == EVENT_COLUMNS
    assert row["ts"] == "2026-11-26T09:01:00+08:00"
    assert row["type"] == "ticket.called"
    assert row["ticket_number"] == "A023"
    assert row["window"] == "7"
    assert row["payload"] == "{}"


def test_event_row_payload_is_compact_sorted_json(clock: FrozenClock) -> None:
    ticket = ticket_in(TicketStatus.SERVING, clock)
    row = ticket.transfer(TAX, WINDOW_12, clock.advance(minutes=1)).to_row("e-2")
    assert row["payload"] == '{"from_service":"permits","to_service":"tax","to_window":"12"}'
    assert row["ts"].endswith("+00:00")


def test_frozen_clock_moves_only_when_told(clock: FrozenClock) -> None:
    assert clock.now() == START
    assert clock.now() == START
    assert clock.advance(minutes=5, seconds=30) == START + timedelta(minutes=5, seconds=30)
    assert clock.now() == START + timedelta(minutes=5, seconds=30)
    later = START + timedelta(days=1)
    clock.set(later)
    assert clock.now() == later


def test_frozen_clock_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        FrozenClock(datetime(2026, 11, 26, 9, 0))
    clock = FrozenClock(START)
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 11, 26, 9, 0))


def test_system_clock_is_timezone_aware() -> None:
    assert SystemClock().now().tzinfo is not None


def test_a_no_show_rule_keeps_its_values_through_the_stored_form() -> None:
    rule = NoShowRule(NoShowMode.REQUEUE, behind=5, max_requeues=2)
    assert NoShowRule.from_mapping(rule.to_mapping()) == rule
    assert NoShowRule.from_mapping({}) == NoShowRule()
    with pytest.raises(InvalidInput):
        NoShowRule.from_mapping({"behind": -1})
