"""Notices through the outbox: each kind once with its text, in the cause's transaction."""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from queue_engine.bootstrap import HallServices, bootstrap
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.outbox import DeliveryRules
from queue_engine.services.notices import TICKET
from queue_engine.services.outbox import DeliveryWorker, OutboxMetrics
from tests.helpers.outbox import Recorders, make_cipher
from tests.helpers.people import id_number

PEPPER = b"test-pepper-0123456789abcdef"
PHONE = "13900001234"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def services(db_url: str, db: object, clock: FrozenClock) -> HallServices:
    built = bootstrap(
        db_url,
        pepper=PEPPER,
        clock=clock,
        cipher=make_cipher(),
        channels=Recorders(),  # type: ignore[arg-type]
        rules=DeliveryRules(quiet_start=None),
    )
    yield built  # type: ignore[misc]
    built.close()


def _worker(services: HallServices) -> DeliveryWorker:
    return DeliveryWorker(
        services.db, services.outbox, services.channels, name="t", metrics=OutboxMetrics()
    )


def _book(services: HallServices, n: int = 1) -> str:
    start = datetime(2026, 11, 26, 10, 30, tzinfo=SHANGHAI)
    a = services.appointments.book(
        "ZMD", "SOCIAL", date(2026, 11, 26), start, "张三", PHONE, id_number(n)
    )
    return a.code


def _window(services: HallServices) -> int:
    from queue_engine.adapters.unit_of_work import UnitOfWork

    with UnitOfWork(services.db, write=False) as uow:
        wid = services.db.hall_config(uow.conn, "ZMD")[1].window_by_number(10).id
    services.engine.open_window(wid, "clerk10")
    return wid


def test_booking_confirmation_and_reminder_go_once_each(
    services: HallServices, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = _book(services)
    services.appointments.send_reminders()
    services.appointments.send_reminders()  # reminded once
    worker = _worker(services)
    assert worker.drain() == 2
    sent = services.channels["sms"].sent  # type: ignore[attr-defined]
    assert [d.kind for d in sent] == ["booked", "reminder"]
    assert sent[0].text == f"预约成功:11月26日 10:30,预约码 {code},请按时到大厅签到"
    assert sent[1].text.endswith("将于 10:30 开始,请提前到大厅签到")
    assert all(d.to == PHONE for d in sent)
    assert PHONE not in caplog.text


def test_a_refused_booking_queues_nothing(services: HallServices) -> None:
    _book(services)
    with pytest.raises(Exception):  # noqa: B017 - the duplicate booking is refused
        _book(services)
    with services.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar() == 1


def test_called_missed_and_rating_invitation_reach_a_ticket_with_an_address(
    services: HallServices,
) -> None:
    engine = services.engine
    wid = _window(services)
    first = engine.issue("ZMD", "SOCIAL").ticket
    second = engine.issue("ZMD", "SOCIAL").ticket
    from queue_engine.adapters.unit_of_work import UnitOfWork

    for t in (first, second):
        with UnitOfWork(services.db) as uow:
            services.appointments.notices.remember(  # type: ignore[union-attr]
                uow,
                hall="ZMD",
                subject=TICKET,
                ref=t.id,
                channel="sms",
                to=PHONE,
                visit_at=services.clock.now(),
            )
            uow.commit()
    called = engine.call_next(wid, "clerk10")
    assert called is not None and called.id == first.id
    engine.finish(engine.start(first.id).id)
    engine.call_next(wid, "clerk10")
    engine.no_show(second.id)
    _worker(services).drain()
    sent = services.channels["sms"].sent  # type: ignore[attr-defined]
    kinds = [(d.kind, d.params.get("number")) for d in sent]
    assert kinds.count(("called", first.number)) == 1
    assert ("rating_invite", first.number) in kinds
    assert ("missed", second.number) in kinds
    call_text = next(d.text for d in sent if d.kind == "called")
    assert "10 号窗口" in call_text
    invite = next(d for d in sent if d.kind == "rating_invite")
    key = invite.text.rsplit("/r/", 1)[1]  # the invitation's short link (issue 19)
    assert services.evaluations.invitation_ticket(key) == first.id


def test_ciphertexts_are_purged_after_the_visit_and_hashes_stay(
    services: HallServices, clock: FrozenClock
) -> None:
    _book(services)
    _worker(services).drain()
    clock.advance(days=31)
    from queue_engine.services.outbox import purge_contacts

    assert purge_contacts(services.db, clock) == 2
    with services.db.engine.connect() as conn:
        rows = list(conn.execute(text("SELECT ciphertext, phone_hash FROM contacts")))
        assert rows and all(r[0] is None and r[1] for r in rows)
        assert conn.execute(text("SELECT to_ciphertext FROM outbox")).scalar() is None


def test_production_refuses_to_start_without_a_pii_key(tmp_path: object) -> None:
    from hall_app.config import ConfigError, Settings

    env = {
        "HALL_ENV": "production",
        "HALL_SECRET_KEY": "s" * 40,
        "HALL_PII_PEPPER": "p" * 40,
        "HALL_DATABASE_URL": "postgresql://root@127.0.0.1/x",
        "HALL_INSTANCE_PATH": str(tmp_path),
    }
    settings = Settings.from_env(env)
    with pytest.raises(ConfigError, match="HALL_PII_KEY"):
        settings.check(env)
    from queue_engine.adapters.pii_crypto import new_key_spec

    settings.check(env | {"HALL_PII_KEY": new_key_spec()})


def test_the_day_before_reminder_goes_once(services: HallServices, clock: FrozenClock) -> None:
    start = datetime(2026, 11, 27, 10, 30, tzinfo=SHANGHAI)
    code = services.appointments.book(
        "ZMD", "SOCIAL", date(2026, 11, 27), start, "张三", PHONE, id_number(7)
    ).code
    services.appointments.send_reminders()  # 24.5 h before: not yet
    clock.advance(minutes=45)
    services.appointments.send_reminders()
    clock.advance(minutes=10)
    services.appointments.send_reminders()
    _worker(services).drain()
    sent = services.channels["sms"].sent  # type: ignore[attr-defined]
    day = [d for d in sent if d.kind == "reminder_day"]
    assert (
        len(day) == 1
        and day[0].text == f"提醒:您预约的{day[0].params['service']}在明天 10:30,预约码 {code}"
    )


def test_closing_the_hall_cancels_that_days_bookings_and_tells_each(
    services: HallServices,
) -> None:
    from queue_engine.domain.access import AuditEntry

    codes = [_book(services, n) for n in (1, 2)]
    entry = AuditEntry("admin", "admin", "appointments.close_day", "ZMD", "127.0.0.1")
    assert services.acting(entry).appointments.close_day("ZMD", date(2026, 11, 26), "停电") == 2
    assert all(services.appointments.appointment(c).status.value == "cancelled" for c in codes)
    _worker(services).drain()
    sent = services.channels["sms"].sent  # type: ignore[attr-defined]
    told = sorted(d.params["code"] for d in sent if d.kind == "cancelled")
    assert told == sorted(codes)
    with services.db.engine.connect() as conn:
        audit = " ".join(str(r) for r in conn.execute(text("SELECT * FROM audit_log")))
    assert "close_day" in audit


def test_a_web_push_opt_in_is_sealed_with_the_contacts_and_gets_the_call(
    services: HallServices,
) -> None:
    import base64
    import json

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    wid = _window(services)
    ticket = services.engine.issue("ZMD", "SOCIAL").ticket
    browser = {"endpoint": "http://127.0.0.1:9/p", "keys": {"p256dh": b64(b"\x04" + b"k" * 64)}}
    browser["keys"]["auth"] = b64(b"a" * 16)  # type: ignore[index]
    services.push.subscribe_ticket(ticket.id, browser)
    sub = json.dumps(browser, separators=(",", ":"))
    assert services.push.subscription(TICKET, ticket.id) == sub
    services.engine.call_next(wid, "clerk10")
    with services.db.engine.connect() as conn:
        dump = " ".join(str(r) for r in conn.execute(text("SELECT * FROM outbox")))
        dump += " ".join(str(r) for r in conn.execute(text("SELECT * FROM contacts")))
        kinds = conn.execute(text("SELECT subject, channel FROM contacts")).all()
    assert "127.0.0.1:9" not in dump and [tuple(k) for k in kinds] == [(TICKET, "webpush")]
    _worker(services).drain()
    [push] = services.channels["webpush"].sent  # type: ignore[attr-defined]
    assert push.kind == "called" and push.to == sub


def test_a_remote_ticket_with_a_phone_is_confirmed_once_and_a_kiosk_ticket_is_not(
    services: HallServices,
) -> None:
    remote = services.engine.issue("ZMD", "SOCIAL", "app", contact={"sms": PHONE}).ticket
    services.engine.issue("ZMD", "SOCIAL", "kiosk", contact={"sms": "13900005678"})
    _worker(services).drain()
    sent = services.channels["sms"].sent  # type: ignore[attr-defined]
    assert [(d.kind, d.to) for d in sent] == [("remote_confirmed", PHONE)]
    assert sent[0].text == f"取号成功:{remote.number} 号,前面 0 人,约 0 分钟"
    assert sent[0].params["number"] == remote.number
    with services.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT ciphertext, phone_hash FROM contacts")).all()
    assert len(stored) == 2 and all(PHONE.encode() not in r[0] and r[1] for r in stored)


def test_a_kiosk_ticket_with_a_phone_hears_its_call_by_sms(services: HallServices) -> None:
    wid = _window(services)
    ticket = services.engine.issue("ZMD", "SOCIAL", "kiosk", contact={"sms": PHONE}).ticket
    services.engine.call_next(wid, "clerk10")
    _worker(services).drain()
    sent = services.channels["sms"].sent  # type: ignore[attr-defined]
    assert [(d.kind, d.params["number"]) for d in sent] == [("called", ticket.number)]


def test_a_bad_review_tells_the_call_back_date_and_the_rectification_links_its_rating(
    services: HallServices,
) -> None:
    wid = _window(services)
    ticket = services.engine.issue("ZMD", "SOCIAL", "web", contact={"wechat": "oAbc_123456"})
    engine = services.engine
    engine.call_next(wid, "clerk10")
    engine.finish(engine.start(ticket.ticket.id).id)
    rated = services.evaluations.evaluate(ticket.ticket.id, 1, source="slip_qr")
    case = services.evaluations.case(rated.case_id or 0)
    services.evaluations.act(case.id, "call-back", "supervisor", "已电话回访")
    assert not services.evaluations.rectification_open(ticket.ticket.id)
    services.evaluations.act(case.id, "rectify", "supervisor", "已补充一次性告知单")
    _worker(services).drain()
    sent = services.channels["wechat"].sent  # type: ignore[attr-defined]
    kinds = [d.kind for d in sent]
    assert kinds.count("callback_scheduled") == 1 and kinds.count("rectified") == 1
    callback = next(d for d in sent if d.kind == "callback_scheduled")
    deadline = case.callback_deadline
    assert callback.text == f"您的评价已收到,工作人员将于 {deadline:%m月%d日} 前回访"
    assert all(d.to == "oAbc_123456" for d in sent)
    rectified = next(d for d in sent if d.kind == "rectified")
    link = rectified.params["link"]
    assert rectified.text == f"您反映的问题已整改,请对整改结果评价:{link}"
    assert f"/t/{ticket.ticket.id}#k=" in link
    key = link.split("#k=", 1)[1]
    assert services.evaluations.rectification_open(ticket.ticket.id)
    done = services.evaluations.rate_rectification(ticket.ticket.id, key, "satisfied")
    assert done.rectification_rating == "satisfied"
    assert not services.evaluations.rectification_open(ticket.ticket.id)
