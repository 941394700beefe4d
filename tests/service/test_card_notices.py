"""Issue 19: escalation cards reach staff through the outbox — a yellow card the rated clerk
and the head of the window's department, a red card the hall's supervisors; somebody with no
address left gets the card on the staff board (the log channel)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.bootstrap import HallServices, bootstrap
from queue_engine.domain.access import Actor, Role
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.errors import Forbidden, InvalidInput
from queue_engine.domain.outbox import DeliveryRules
from queue_engine.services.admin import NewUser
from queue_engine.services.outbox import DeliveryWorker, OutboxMetrics
from tests.helpers.outbox import Recorders, make_cipher

SHANGHAI = ZoneInfo("Asia/Shanghai")
ADMIN = Actor("root", Role.ADMIN, None)
CLERK_PHONE = "13900001010"
HEAD_OPENID = "oHead_0123456"
SUPERVISOR_PHONE = "13900002020"


def local(day: date, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def services(db_url: str, db: object, clock: FrozenClock) -> HallServices:
    built = bootstrap(
        db_url,
        pepper=b"test-pepper-0123456789abcdef",
        clock=clock,
        cipher=make_cipher(),
        channels=Recorders(),  # type: ignore[arg-type]
        rules=DeliveryRules(quiet_start=None),
    )
    password = "a long enough password 1"
    built.admin.seed_users(
        [
            NewUser("clerk10", password, Role.CLERK, "ZMD"),
            NewUser("head.social", password, Role.CLERK, "ZMD"),
            NewUser("sup.zmd", password, Role.SUPERVISOR, "ZMD"),
            NewUser("sup.quiet", password, Role.SUPERVISOR, "ZMD"),
        ]
    )
    contacts = built.staff_contacts
    contacts.update(ADMIN, "clerk10", {"phone": CLERK_PHONE})
    contacts.update(
        ADMIN, "head.social", {"wechat_openid": HEAD_OPENID, "heads_department": "人社局"}
    )
    contacts.update(ADMIN, "sup.zmd", {"phone": SUPERVISOR_PHONE})
    yield built  # type: ignore[misc]
    built.close()


def _bad_review(services: HallServices, clock: FrozenClock) -> int:
    services.evaluations.set_rules("ZMD", {"departments": {"SOCIAL": "人社局"}}, by="admin")
    clock.set(local(date(2026, 9, 30), "10:00"))
    with UnitOfWork(services.db, write=False) as uow:
        wid = services.db.hall_config(uow.conn, "ZMD")[1].window_by_number(10).id
    engine = services.engine
    engine.open_window(wid, "clerk10")
    ticket = engine.issue("ZMD", "SOCIAL").ticket
    engine.call_next(wid, "clerk10")
    engine.finish(engine.start(ticket.id).id)
    return services.evaluations.evaluate(ticket.id, 1).case_id or 0


def _drain(services: HallServices) -> None:
    worker = DeliveryWorker(
        services.db, services.outbox, services.channels, name="t", metrics=OutboxMetrics()
    )
    worker.drain()


def test_a_yellow_card_reaches_the_clerk_and_the_department_head_a_red_one_the_supervisors(
    services: HallServices, clock: FrozenClock
) -> None:
    _bad_review(services, clock)
    clock.set(local(date(2026, 10, 9), "09:00"))
    (yellow,) = services.efficiency.sweep("ZMD")
    _drain(services)
    channels = services.channels
    sms = channels["sms"].sent  # type: ignore[attr-defined]
    wechat = channels["wechat"].sent  # type: ignore[attr-defined]
    assert [(d.kind, d.to) for d in sms] == [("card_yellow", CLERK_PHONE)]
    assert [(d.kind, d.to) for d in wechat] == [("card_yellow", HEAD_OPENID)]
    assert sms[0].text == "【效能监察预警】10 号窗口差评回访逾期(期限 2026-10-08),请尽快处理"
    assert sms[0].params["card"] == yellow.id

    clock.set(local(date(2026, 10, 13), "09:00"))
    (red,) = services.efficiency.sweep("ZMD")
    services.efficiency.sweep("ZMD")  # no second card, no second notice
    _drain(services)
    reds = [d for d in channels.all() if d.kind == "card_red"]  # type: ignore[attr-defined]
    assert sorted((d.channel, d.to) for d in reds) == [
        ("log", "sup.quiet"),  # no address: the staff board
        ("sms", SUPERVISOR_PHONE),
    ]
    assert all(d.params["card"] == red.id for d in reds)
    assert "head.social" not in [d.to for d in reds]  # a department head hears yellow cards


def test_staff_addresses_are_sealed_and_only_admins_set_them(services: HallServices) -> None:
    view = services.staff_contacts.view(ADMIN, "clerk10")
    assert view == {"username": "clerk10", "phone": True, "wechat": False, "heads_department": None}
    with services.db.engine.connect() as conn:
        rows = conn.execute(text("SELECT ciphertext FROM contacts WHERE subject = 'staff'")).all()
    assert len(rows) == 3 and all(CLERK_PHONE.encode() not in r[0] for r in rows)
    supervisor = Actor("sup.zmd", Role.SUPERVISOR, "ZMD")
    with pytest.raises(Forbidden):
        services.staff_contacts.update(supervisor, "clerk10", {"phone": None})
    with pytest.raises(InvalidInput):
        services.staff_contacts.update(ADMIN, "clerk10", {"phone": "12345"})
    cleared = services.staff_contacts.update(ADMIN, "clerk10", {"phone": None})
    assert cleared["phone"] is False
