"""Visits: several services on one ticket, outcomes, identity kept as hash and masks."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_engine.domain.errors import Conflict, InvalidInput
from queue_engine.domain.events import EventType
from queue_engine.domain.identity import id_check_char
from queue_engine.domain.model import Channel, Priority, Ticket, TicketStatus
from queue_engine.domain.visits import (
    Citizen,
    IdentityRule,
    Outcome,
    SegmentStatus,
    Visit,
    age_on,
    finish_segment,
    segment_id,
)

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
PEPPER = b"test-pepper"


def synthetic_id(born: date, area: str = "410102", serial: str = "123") -> str:
    first17 = f"{area}{born:%Y%m%d}{serial}"
    return first17 + id_check_char(first17)


def ticket(service: str = "SOCIAL") -> Ticket:
    return Ticket(
        id="t1",
        hall="ZMD",
        service=service,
        prefix="F",
        seq=1,
        business_date=NOW.date(),
        channel=Channel.KIOSK,
        priority=Priority.NONE,
        issued_at=NOW,
        queued_at=NOW,
        status=TicketStatus.SERVING,
        window_id=10,
        window_label="10",
        clerk="clerk10",
    )


def test_a_three_service_visit_moves_on_in_order_keeping_its_queue_time() -> None:
    t, visit = ticket(), Visit.of(["SOCIAL", "MEDICAL", "HPF"])
    events, visit = finish_segment(t, visit, Outcome.COMPLETED, "R1", NOW)
    assert [e.type for e in events] == [EventType.TICKET_FINISHED, EventType.TICKET_NEXT_SERVICE]
    assert events[0].payload["outcome"] == "completed"
    assert events[0].payload["segment"] == 0 and events[0].payload["segments"] == 3
    assert events[1].payload == {
        "from_service": "SOCIAL",
        "to_service": "MEDICAL",
        "segment": 1,
        "segments": 3,
    }
    assert (t.status, t.service, t.queued_at, t.window_id) == (
        TicketStatus.WAITING,
        "MEDICAL",
        NOW,
        None,
    )
    assert [s.status for s in visit.segments] == [
        SegmentStatus.DONE,
        SegmentStatus.CURRENT,
        SegmentStatus.PENDING,
    ]
    t.status = TicketStatus.SERVING
    _, visit = finish_segment(t, visit, Outcome.NEEDS_DOCUMENTS, None, NOW)
    t.status = TicketStatus.SERVING
    events, visit = finish_segment(t, visit, Outcome.CONSULTATION, None, NOW)
    assert t.status is TicketStatus.DONE and [e.type for e in events] == [EventType.TICKET_FINISHED]
    assert [s.outcome for s in visit.segments] == [
        Outcome.COMPLETED,
        Outcome.NEEDS_DOCUMENTS,
        Outcome.CONSULTATION,
    ]


def test_services_on_a_ticket_are_one_to_five_distinct_codes() -> None:
    for bad in ([], ["A"] * 2, ["A", "B", "C", "D", "E", "F"]):
        with pytest.raises(InvalidInput):
            Visit.of(bad)
    assert Visit.of(["A", "B", "C", "D", "E"]).services == ("A", "B", "C", "D", "E")


def test_outcome_must_be_a_known_one() -> None:
    with pytest.raises(InvalidInput):
        Outcome.parse("done")
    assert Outcome.parse("accepted") is Outcome.ACCEPTED


def test_segment_ids_are_ticket_and_index() -> None:
    assert segment_id("abc", 2) == "abc:2"


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(1956, 11, 26), date(2026, 11, 26), 70),  # birthday today
        (date(1956, 11, 27), date(2026, 11, 26), 69),  # tomorrow
        (date(1956, 2, 29), date(2026, 2, 28), 69),  # leap-day birthday, common year
        (date(1956, 2, 29), date(2026, 3, 1), 70),
        (date(1956, 2, 29), date(2028, 2, 29), 72),
    ],
)
def test_age_counts_whole_years_on_the_halls_date(born: date, day: date, age: int) -> None:
    assert age_on(born, day) == age


def test_identity_keeps_hash_masks_and_band_only() -> None:
    number = synthetic_id(date(1956, 11, 26))
    citizen = Citizen.read(number, "张三丰", PEPPER, date(2026, 11, 26))
    assert citizen.age == 70 and citizen.band == "70+"
    assert citizen.masked_id == number[:4] + "*" * 10 + number[-4:]
    assert citizen.masked_name == "张**"
    assert number not in repr(citizen) and "张三丰" not in repr(citizen)
    assert citizen.hash == Citizen.read(number, None, PEPPER, date(2026, 1, 1)).hash


def test_a_wrong_check_digit_is_refused_without_echoing_the_number() -> None:
    number = synthetic_id(date(1980, 5, 1))
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(InvalidInput) as error:
        Citizen.read(wrong, None, PEPPER, date(2026, 11, 26))
    assert wrong not in str(error.value)


def test_elderly_from_age_and_the_elderly_zone() -> None:
    rule = IdentityRule()
    assert rule.elderly(70, ["社保医保公积金区"]) and not rule.elderly(69, ["社保医保公积金区"])
    assert rule.elderly(60, ["老年服务专区"]) and not rule.elderly(59, ["老年服务专区"])


def test_one_person_one_ticket_per_service_and_at_most_three_in_all() -> None:
    rule = IdentityRule()
    rule.check_limits([], ["SOCIAL"])
    with pytest.raises(Conflict) as error:
        rule.check_limits([("F001", ["SOCIAL", "MEDICAL"])], ["MEDICAL"])
    assert error.value.code == "already_waiting" and "F001" in error.value.message
    rule.check_limits([("F001", ["SOCIAL"]), ("C001", ["REALTY"])], ["TAX"])
    with pytest.raises(Conflict):
        rule.check_limits([("F001", ["A"]), ("C001", ["B"]), ("E001", ["C"])], ["D"])


@given(st.lists(st.sampled_from(Outcome), min_size=1, max_size=5))
def test_every_matter_ends_with_its_own_outcome_in_order(outcomes: list[Outcome]) -> None:
    codes = [f"S{i}" for i in range(len(outcomes))]
    t, visit = ticket(codes[0]), Visit.of(codes)
    finished = []
    for outcome in outcomes:
        t.status = TicketStatus.SERVING
        events, visit = finish_segment(t, visit, outcome, None, NOW)
        finished.append((events[0].service, events[0].payload["outcome"]))
    assert finished == [(c, str(o)) for c, o in zip(codes, outcomes, strict=True)]
    assert t.status is TicketStatus.DONE


@given(st.dates(date(1900, 1, 1), date(2026, 11, 26)), st.dates(date(2026, 1, 1), date(2100, 1, 1)))
def test_age_is_never_negative_and_grows_by_one_a_year(born: date, day: date) -> None:
    if day < born:
        return
    age = age_on(born, day)
    assert age >= 0
    assert age_on(
        born, day.replace(year=day.year + 1) if (day.month, day.day) != (2, 29) else day
    ) in (age, age + 1)


def test_the_services_still_to_come_can_change_but_not_those_done_or_current() -> None:
    visit = Visit.of(["A", "B"]).finish_current(Outcome.COMPLETED)
    changed = visit.with_next(["C", "D"])
    assert changed.services == ("A", "B", "C", "D") and changed.index == 1
    assert changed.segments[0].outcome is Outcome.COMPLETED
    assert visit.with_next([]).services == ("A", "B")
    with pytest.raises(InvalidInput):
        visit.with_next(["A"])  # done already
    with pytest.raises(InvalidInput):
        visit.with_next(["C", "D", "E", "F"])  # six in all
