"""Issue 19: the rating invitation's link (SMS/WeChat/push) and the clerk's "rate later".

A finished service of a citizen who left a contact is invited once, with the ticket page's
address and the invitation's key in its fragment; a rating with that key records channel
``invitation``, once per service, until the hall's ``invitation_days`` are over. The SMS
invitation leaves the visit on the window's evaluator; "rate later" takes it off, and after an
SMS invitation sends nothing again. SQLite and PostgreSQL (the ``db_url`` fixture).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from queue_engine.adapters import evaluation_store
from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.bootstrap import HallServices, bootstrap
from queue_engine.domain.access import Actor, Role
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.errors import Conflict, Forbidden, NotFound
from queue_engine.domain.evaluations import RatingChannel
from queue_engine.domain.outbox import DeliveryRules
from queue_engine.services.evaluations import Rating
from queue_engine.services.notices import TICKET
from queue_engine.services.outbox import DeliveryWorker, OutboxMetrics
from tests.helpers.outbox import Recorders, make_cipher

PEPPER = b"test-pepper-0123456789abcdef"
PHONE = "13900004321"
CLERK10 = Actor("clerk10", Role.CLERK, "ZMD")
LINK = re.compile(r"https://hall\.example\.cn/r/([A-Za-z0-9_\-=]+)")


@pytest.fixture
def services(db_url: str, db: object, clock: FrozenClock) -> Any:
    built = bootstrap(
        db_url,
        pepper=PEPPER,
        clock=clock,
        cipher=make_cipher(),
        channels=Recorders(),  # type: ignore[arg-type]
        rules=DeliveryRules(quiet_start=None),
        public_url="https://hall.example.cn/",
    )
    yield built
    built.close()


def _window(services: HallServices, number: int = 10) -> int:
    with UnitOfWork(services.db, write=False) as uow:
        wid = services.db.hall_config(uow.conn, "ZMD")[1].window_by_number(number).id
    services.engine.open_window(wid, f"clerk{number}")
    return wid


def _finish(services: HallServices, wid: int, contact: bool = True) -> str:
    engine = services.engine
    issued = engine.issue("ZMD", "SOCIAL", "app", contact={"sms": PHONE} if contact else None)
    called = engine.call_next(wid, "clerk10")
    assert called is not None and called.id == issued.ticket.id
    engine.finish(engine.start(called.id).id)
    return called.id


def _invites(services: HallServices) -> list[Any]:
    DeliveryWorker(
        services.db, services.outbox, services.channels, name="t", metrics=OutboxMetrics()
    ).drain()
    sent = services.channels["sms"].sent  # type: ignore[attr-defined]
    return [d for d in sent if d.kind == "rating_invite"]


def _invitation(services: HallServices, ticket: str, segment: int = 0) -> Any:
    with UnitOfWork(services.db, write=False) as uow:
        return evaluation_store.invitation(uow.conn, ticket, segment)


def test_a_finished_service_is_invited_by_sms_and_rated_once_through_its_link(
    services: HallServices, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wid = _window(services)
    ticket = _finish(services, wid)
    (invite,) = _invites(services)
    assert invite.to == PHONE
    assert len(invite.text) <= 70, invite.text  # one SMS part (UCS-2)
    found = LINK.search(invite.text)
    assert found is not None, invite.text
    key = found.group(1)
    ratings = services.evaluations
    assert key == ratings.rating_key(ticket, RatingChannel.INVITATION)
    assert ratings.invitation_ticket(key) == ticket  # the short link's lookup
    with pytest.raises(NotFound):
        ratings.invitation_ticket(ratings.rating_key(ticket, RatingChannel.SLIP_QR))
    row = _invitation(services, ticket)
    assert row.channel == "invitation" and row.left_at is None
    assert row.expires_at - row.created_at == timedelta(days=7)  # the hall's default
    # an SMS invitation leaves the visit on the window's evaluator
    pending = ratings.pending_at_window(wid, by=CLERK10)
    assert pending is not None and pending.id == ticket

    clock.advance(days=1)
    rated = ratings.evaluate_with_key(ticket, key, 4, "很好")
    assert rated.channel == "invitation"
    with pytest.raises(Conflict) as again:
        ratings.evaluate_with_key(ticket, key, 5)
    assert again.value.code == "already_rated"
    with pytest.raises(Forbidden):  # not a ticket page's key either
        ratings.evaluate_with_key(ticket, "x" * 20, 5)
    assert len(_invites(services)) == 1
    with services.db.engine.connect() as conn:
        payloads = " ".join(str(p) for (p,) in conn.execute(text("SELECT payload FROM events")))
    for secret in (key, PHONE):
        assert secret not in caplog.text and secret not in payloads


def test_without_a_contact_nothing_is_invited_and_the_invitation_key_rates_nothing(
    services: HallServices,
) -> None:
    wid = _window(services)
    ticket = _finish(services, wid, contact=False)
    assert _invites(services) == [] and _invitation(services, ticket) is None
    ratings = services.evaluations
    with pytest.raises(Forbidden) as refused:
        ratings.evaluate_with_key(ticket, ratings.rating_key(ticket, RatingChannel.INVITATION), 5)
    assert refused.value.code == "rating_key"
    holder = ratings.holder_key(ticket, "web")
    assert ratings.evaluate_with_key(ticket, holder, 5).channel == "ticket_page"


def test_the_link_rates_until_the_halls_invitation_days_are_over(
    services: HallServices, clock: FrozenClock
) -> None:
    ratings = services.evaluations
    ratings.set_rules("ZMD", {"invitation_days": 2}, by="admin")
    wid = _window(services)
    early, late = _finish(services, wid), _finish(services, wid)
    clock.advance(days=2, seconds=-1)
    key = ratings.rating_key(early, RatingChannel.INVITATION)
    assert ratings.evaluate_with_key(early, key, 5).channel == "invitation"
    clock.advance(seconds=1)
    with pytest.raises(Forbidden) as expired:
        ratings.evaluate_with_key(late, ratings.rating_key(late, RatingChannel.INVITATION), 5)
    assert expired.value.code == "invitation_expired"
    # the rating made in time still takes its 追评 with the same key
    assert ratings.follow_up(early, key, "后来也很顺利").score == 5


def test_rate_later_after_an_sms_invitation_is_one_invitation_and_one_notice(
    services: HallServices,
) -> None:
    wid = _window(services)
    ticket = _finish(services, wid)
    ratings = services.evaluations
    assert ratings.rate_later(wid, by=CLERK10) == ticket
    assert ratings.pending_at_window(wid) is None  # the citizen left: off the evaluator
    assert len(_invites(services)) == 1
    row = _invitation(services, ticket)
    assert row.channel == "invitation" and row.left_at is not None
    with pytest.raises(Conflict):
        ratings.invite(ticket, RatingChannel.RATE_LATER, "clerk10")  # once
    key = ratings.rating_key(ticket, RatingChannel.INVITATION)  # the link the citizen has
    assert ratings.evaluate_with_key(ticket, key, 3).channel == "invitation"


def test_rate_later_records_its_invitation_and_sends_the_link_when_there_is_a_contact(
    services: HallServices,
) -> None:
    wid = _window(services)
    alone = _finish(services, wid, contact=False)
    ratings = services.evaluations
    assert ratings.rate_later(wid, by=CLERK10) == alone  # recorded, nobody to tell
    assert _invites(services) == []
    assert _invitation(services, alone).channel == "rate_later"

    reached = _finish(services, wid, contact=False)
    with UnitOfWork(services.db) as uow:  # the address came after the finish (at the desk)
        services.appointments.notices.remember(  # type: ignore[union-attr]
            uow,
            hall="ZMD",
            subject=TICKET,
            ref=reached,
            channel="sms",
            to=PHONE,
            visit_at=services.clock.now(),
        )
        uow.commit()
    assert ratings.rate_later(wid, by=CLERK10) == reached
    (invite,) = _invites(services)
    found = LINK.search(invite.text)
    assert found is not None and ratings.invitation_ticket(found.group(1)) == reached
    rated = ratings.evaluate_with_key(reached, found.group(1), 5)
    assert rated.channel == "rate_later"


def test_each_finished_service_of_a_visit_gets_its_own_invitation(
    services: HallServices,
) -> None:
    ids = {n: _window(services, n) for n in (10, 12)}
    engine, ratings = services.engine, services.evaluations
    ticket = services.visits.issue("ZMD", ["SOCIAL", "MEDICAL"], "app", contact={"sms": PHONE})
    tid = ticket.ticket.id
    engine.call_next(ids[10], "clerk10")
    engine.start(tid, "clerk10")
    services.visits.finish(tid, "clerk10", "completed")
    key = ratings.rating_key(tid, RatingChannel.INVITATION)
    with pytest.raises(Forbidden):  # MEDICAL is not finished, so not invited
        ratings.evaluate_with_key(tid, key, 5, rating=Rating(segment=1))
    assert ratings.evaluate_with_key(tid, key, 4).segment == 0
    engine.call_next(ids[12], "clerk12")
    engine.start(tid, "clerk12")
    services.visits.finish(tid, "clerk12")
    assert len(_invites(services)) == 2
    second = ratings.evaluate_with_key(tid, key, 5, rating=Rating(segment=1))
    assert (second.segment, second.channel) == (1, "invitation")
