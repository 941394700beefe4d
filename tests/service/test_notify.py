"""Messages to citizens: confirmations, reminders and "your turn is near", never a full phone.

The desks get a recording notifier (what a gateway would be handed); the default
``LogNotifier`` is checked through the log itself; the web app's wiring through its endpoints.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from queue_engine.adapters.log_notifier import LogNotifier
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.appointments import AppointmentSettings
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.errors import Conflict
from queue_engine.domain.identity import keyed_hash
from queue_engine.domain.model import Priority, Ticket
from queue_engine.domain.notices import Notice, NoticeKind
from queue_engine.services.appointments import Appointment, AppointmentDesk, TurnNotices
from queue_engine.services.tickets import QueueEngine
from tests.helpers.api import API, Hall
from tests.helpers.people import id_number, phone

PEPPER = b"test-pepper-0123456789abcdef"
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 26)  # the frozen clock: Thursday 10:00 in the hall


class RecordingNotifier:
    """A fake gateway: keeps every notice, and the form a careless gateway would log."""

    def __init__(self) -> None:
        self.sent: list[Notice] = []
        self.logged: list[str] = []

    def send(self, notice: Notice) -> None:
        self.sent.append(notice)
        self.logged.append(f"{notice!r} {notice!s}")

    def of(self, kind: NoticeKind) -> list[Notice]:
        return [n for n in self.sent if n.kind is kind]


class FailingNotifier:
    def send(self, notice: Notice) -> None:
        raise RuntimeError("the SMS gateway is down")


def local(hhmm: str, day: date = TODAY) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def book(desk: AppointmentDesk, n: int, hhmm: str = "10:30") -> Appointment:
    return desk.book("ZMD", "SOCIAL", TODAY, local(hhmm), "张三", phone(n), id_number(n))


def window_id(db: Database, number: int = 10) -> int:
    """Window 10 serves SOCIAL first."""
    with UnitOfWork(db, write=False) as uow:
        return db.hall_config(uow.conn, "ZMD")[1].window_by_number(number).id


def walk_ins(engine: QueueEngine, count: int) -> list[Ticket]:
    return [engine.issue("ZMD", "SOCIAL").ticket for _ in range(count)]


def call(engine: QueueEngine, window: int) -> Ticket:
    """Finish the window's current visit, if any, and call the next ticket."""
    current = engine.current_ticket(window)
    if current is not None:
        engine.finish(engine.start(current.id).id)
    called = engine.call_next(window, "clerk10")
    assert called is not None
    return called


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def desk(engine: QueueEngine, notifier: RecordingNotifier) -> AppointmentDesk:
    """A desk with the recording notifier, "your turn is near" subscribed as the app does."""
    desk = AppointmentDesk(engine, PEPPER, notifier)
    engine.bus.subscribe(TurnNotices(desk))
    return desk


@pytest.fixture
def window(engine: QueueEngine, db: Database) -> int:
    wid = window_id(db)
    engine.open_window(wid, "clerk10")
    return wid


# -- (a) the booking confirmation ------------------------------------------------------------


def test_a_booking_sends_one_confirmation_with_the_phone_masked(
    desk: AppointmentDesk, notifier: RecordingNotifier
) -> None:
    appointment = book(desk, 5678, hhmm="14:30")
    (notice,) = notifier.sent
    assert notice.kind is NoticeKind.BOOKED and notice.hall == "ZMD"
    assert notice.phone_masked == "139****5678" == appointment.phone_masked
    assert notice.phone_hash == keyed_hash(phone(5678), PEPPER, "phone")
    assert notice.ticket_id is None
    # The text names the slot in the hall's time (14:30 Shanghai is 06:30 UTC) and the code.
    assert notice.text == f"预约成功:11月26日 14:30,预约码 {appointment.code}"
    # Only the gateway's own field holds the plain number; no printable form shows it.
    assert notice.phone == phone(5678) == "13900005678"
    (logged,) = notifier.logged
    assert "13900005678" not in logged and "139****5678" in logged
    assert "13900005678" not in notice.text + notice.phone_masked + notice.phone_hash


def test_a_phone_typed_with_spaces_and_country_code_is_masked_the_same(
    desk: AppointmentDesk, notifier: RecordingNotifier
) -> None:
    desk.book("ZMD", "SOCIAL", TODAY, local("11:00"), "李四", "+86 139-0000-1234", id_number(9))
    (notice,) = notifier.sent
    assert notice.phone_masked == "139****1234" and notice.phone == "13900001234"
    assert "13900001234" not in notifier.logged[0] and "0000-1234" not in notifier.logged[0]


def test_a_refused_booking_sends_nothing(
    desk: AppointmentDesk, notifier: RecordingNotifier
) -> None:
    book(desk, 1)
    notifier.sent.clear()
    with pytest.raises(Conflict, match="already have an appointment"):
        book(desk, 1, hhmm="11:00")  # same person, service and day
    assert notifier.sent == []


def test_a_failing_gateway_keeps_the_booking_and_logs_no_phone(
    engine: QueueEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    desk = AppointmentDesk(engine, PEPPER, FailingNotifier())
    appointment = book(desk, 4321)
    assert desk.appointment(appointment.code).status == appointment.status
    assert "notifier failed for a booked notice" in caplog.text
    assert phone(4321) not in caplog.text


def test_a_reminder_goes_once_within_the_hour_without_the_plain_phone(
    desk: AppointmentDesk, notifier: RecordingNotifier, clock: FrozenClock
) -> None:
    book(desk, 1, hhmm="10:30")  # starts within the hour
    book(desk, 2, hhmm="11:30")  # does not yet
    notifier.sent.clear()
    assert desk.send_reminders() == 1
    assert desk.send_reminders() == 0  # once each
    (reminder,) = notifier.of(NoticeKind.REMINDER)
    assert reminder.phone_masked == "139****0001" and reminder.phone is None
    assert reminder.phone_hash == keyed_hash(phone(1), PEPPER, "phone")
    assert reminder.text == "您预约的社会保障将于 10:30 开始,请提前到大厅签到"
    clock.set(local("10:45"))
    assert desk.send_reminders() == 1
    assert [n.phone_masked for n in notifier.of(NoticeKind.REMINDER)] == [
        "139****0001",
        "139****0002",
    ]


# -- (b) "your turn is near" -----------------------------------------------------------------


def test_turn_near_goes_to_the_ticket_with_exactly_three_ahead_after_a_call(
    desk: AppointmentDesk, notifier: RecordingNotifier, engine: QueueEngine, window: int
) -> None:
    tickets = walk_ins(engine, 5)
    assert notifier.sent == []  # issuing alone tells nobody
    assert call(engine, window).id == tickets[0].id
    (near,) = notifier.of(NoticeKind.TURN_NEAR)
    assert near.ticket_id == tickets[4].id and near.hall == "ZMD"
    assert engine.ticket(tickets[4].id).position == 3  # what the ticket page says, too
    assert near.text == "F005 号:前面还有 3 人,请到大厅等候叫号"
    # A kiosk ticket has no phone: the notice goes to the ticket page, with nothing personal.
    assert (near.phone_masked, near.phone_hash, near.phone) == (None, None, None)
    assert call(engine, window).id == tickets[1].id  # now nobody has three ahead
    assert len(notifier.of(NoticeKind.TURN_NEAR)) == 1


def test_turn_near_is_not_sent_while_fewer_than_four_wait(
    desk: AppointmentDesk, notifier: RecordingNotifier, engine: QueueEngine, window: int
) -> None:
    walk_ins(engine, 4)
    call(engine, window)  # three left: the last has two ahead
    call(engine, window)
    assert notifier.of(NoticeKind.TURN_NEAR) == []


def test_turn_near_is_sent_once_per_ticket_even_when_it_is_back_at_three(
    desk: AppointmentDesk, notifier: RecordingNotifier, engine: QueueEngine, window: int
) -> None:
    tickets = walk_ins(engine, 5)
    call(engine, window)
    assert [n.ticket_id for n in notifier.of(NoticeKind.TURN_NEAR)] == [tickets[4].id]
    # A priority ticket goes ahead of everybody: the last ticket has four ahead again …
    elderly = engine.issue("ZMD", "SOCIAL", priority=Priority.ELDERLY).ticket
    assert engine.ticket(tickets[4].id).position == 4
    # … and is back at three once the priority ticket is called: no second message.
    assert call(engine, window).id == elderly.id
    assert engine.ticket(tickets[4].id).position == 3
    assert [n.ticket_id for n in notifier.of(NoticeKind.TURN_NEAR)] == [tickets[4].id]
    # The next ticket in line still gets its own message when its turn comes near.
    later = walk_ins(engine, 1)[0]
    call(engine, window)
    assert [n.ticket_id for n in notifier.of(NoticeKind.TURN_NEAR)] == [
        tickets[4].id,
        later.id,
    ]


def test_turn_near_counts_only_the_called_tickets_service(
    desk: AppointmentDesk, notifier: RecordingNotifier, engine: QueueEngine, window: int
) -> None:
    social = walk_ins(engine, 2)
    medical = [engine.issue("ZMD", "MEDICAL").ticket for _ in range(5)]
    assert call(engine, window).id == social[0].id  # window 10 serves SOCIAL first
    assert notifier.of(NoticeKind.TURN_NEAR) == []  # one SOCIAL ticket left; MEDICAL unmoved
    assert call(engine, window).id == social[1].id
    assert call(engine, window).id == medical[0].id  # then its secondary service
    (near,) = notifier.of(NoticeKind.TURN_NEAR)
    assert near.ticket_id == medical[4].id and near.text.startswith("G005 号")


def test_an_appointment_ticket_is_told_by_its_masked_phone(
    desk: AppointmentDesk, notifier: RecordingNotifier, engine: QueueEngine, window: int
) -> None:
    appointment = book(desk, 5678, hhmm="10:30")  # check-in opened at 10:00, now
    walk_ins(engine, 4)
    checked = desk.check_in(appointment.code)  # its slot has not begun: it queues in order
    notifier.sent.clear()
    call(engine, window)
    (near,) = notifier.of(NoticeKind.TURN_NEAR)
    assert near.ticket_id == checked.ticket.id
    assert near.phone_masked == "139****5678" and near.phone is None
    assert near.phone_hash == keyed_hash(phone(5678), PEPPER, "phone")
    assert all(phone(5678) not in logged for logged in notifier.logged)


def test_a_failing_gateway_never_fails_the_call(
    engine: QueueEngine, window: int, caplog: pytest.LogCaptureFixture
) -> None:
    engine.bus.subscribe(TurnNotices(AppointmentDesk(engine, PEPPER, FailingNotifier())))
    tickets = walk_ins(engine, 5)
    assert call(engine, window).id == tickets[0].id
    assert "notifier failed for a turn_near notice" in caplog.text


# -- (c) the default LogNotifier -------------------------------------------------------------


def test_the_log_notifier_writes_masked_phones_only(
    engine: QueueEngine, window: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    desk = AppointmentDesk(engine, PEPPER)  # no notifier given: the log one
    assert isinstance(desk.notifier, LogNotifier)
    engine.bus.subscribe(TurnNotices(desk))
    appointment = book(desk, 5678, hhmm="10:30")
    walk_ins(engine, 4)
    desk.check_in(appointment.code)
    call(engine, window)
    desk.send_reminders()

    notices = [r for r in caplog.records if r.name == "queue_engine.adapters.log_notifier"]
    assert [r.getMessage().split(" ")[1] for r in notices] == ["booked", "turn_near"]
    booked, near = (r.getMessage() for r in notices)
    assert booked.startswith("notice booked to 139****5678 (hall ZMD): 预约成功")
    assert near.startswith("notice turn_near to 139****5678 (hall ZMD): F005 号")
    # The reminder was not due: the appointment was checked in. Nothing else was said.
    assert [n.kind for n in desk.notifier.sent] == [NoticeKind.BOOKED, NoticeKind.TURN_NEAR]
    everything = caplog.text + " ".join(repr(r.args) + repr(r.msg) for r in caplog.records)
    assert "13900005678" not in everything and "139****5678" in everything


def test_the_log_notifier_names_the_ticket_page_when_there_is_no_phone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="queue_engine.adapters.log_notifier")
    LogNotifier().send(Notice(NoticeKind.TURN_NEAR, "ZMD", "F005 号:前面还有 3 人"))
    assert caplog.messages == ["notice turn_near to ticket page (hall ZMD): F005 号:前面还有 3 人"]


def test_the_log_notifier_logs_no_plain_phone_even_when_handed_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    notifier = LogNotifier()
    base = Notice(NoticeKind.BOOKED, "ZMD", "预约成功", phone_masked="139****5678")
    notifier.send(replace(base, phone="13900005678", phone_hash="h" * 64))
    assert caplog.messages == ["notice booked to 139****5678 (hall ZMD): 预约成功"]
    assert "13900005678" not in caplog.text and "13900005678" not in repr(notifier.sent)


def test_the_log_notifier_remembers_only_the_last_200(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)  # 250 info lines are not the point here
    notifier = LogNotifier()
    for i in range(250):
        notifier.send(Notice(NoticeKind.REMINDER, "ZMD", f"#{i}"))
    assert len(notifier.sent) == 200
    assert (notifier.sent[0].text, notifier.sent[-1].text) == ("#50", "#249")


# -- the web app's wiring --------------------------------------------------------------------


def test_the_app_queues_confirmations_and_reminders_in_its_outbox(
    app: Any, hall: Hall, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 17: the app's notices are outbox rows, sent by a worker to the log channel."""
    from sqlalchemy import text

    caplog.set_level(logging.DEBUG)
    services = app.extensions["hall"]
    body = {
        "service": "SOCIAL",
        "date": "2026-11-26",
        "start": "10:30",
        "name": "张三",
        "phone": "139 0000 5678",
        "id_number": id_number(1),
    }
    response = hall.client.post(f"{API}/halls/ZMD/appointments", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    code = response.get_json()["code"]
    assert services.notifier.sent == []  # the outbox replaced the after-commit notifier
    worker = services.worker("test")
    assert worker.drain() == 1
    (confirmation,) = services.channels["sms"].sent
    assert confirmation.kind == "booked" and code in confirmation.text
    assert confirmation.to == "13900005678"

    tickets = [hall.issue("SOCIAL", "web") for _ in range(5)]
    hall.open(10, "clerk10")
    assert hall.call_next(10, "clerk10")["id"] == tickets[0]["id"]
    assert hall.client.get(f"{API}/tickets/{tickets[4]['id']}").get_json()["position"] == 3

    services.run_jobs(force=True)  # the 10:30 slot starts within the hour
    assert worker.drain() == 1
    assert [d.kind for d in services.channels["sms"].sent] == ["booked", "reminder"]
    assert "13900005678" not in caplog.text
    with services.db.engine.connect() as conn:
        for table in ("outbox", "contacts", "appointments", "events"):
            dump = " ".join(str(r) for r in conn.execute(text(f"SELECT * FROM {table}")))
            assert "13900005678" not in dump


# -- rules that were broken once ----------------------------------------------------------------


def test_a_ticket_moved_to_three_ahead_by_a_cancellation_is_told(
    desk: AppointmentDesk, notifier: RecordingNotifier, engine: QueueEngine, window: int
) -> None:
    tickets = walk_ins(engine, 6)
    call(engine, window)  # tickets[4] has three ahead and is told
    engine.cancel(tickets[1].id)  # tickets[5] now has three ahead
    assert engine.ticket(tickets[5].id).position == 3
    call(engine, window)  # … and two after this call
    assert tickets[5].id in {n.ticket_id for n in notifier.of(NoticeKind.TURN_NEAR)}


def test_the_halls_notify_ahead_setting_is_used(
    desk: AppointmentDesk, notifier: RecordingNotifier, engine: QueueEngine, window: int
) -> None:
    desk.save_settings("ZMD", AppointmentSettings(notify_ahead=2))
    tickets = walk_ins(engine, 5)
    call(engine, window)
    assert [n.ticket_id for n in notifier.of(NoticeKind.TURN_NEAR)] == [tickets[3].id]
