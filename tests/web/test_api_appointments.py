"""The appointment and 好差评 endpoints: contracts, auth, errors, and no personal data out."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from queue_engine.adapters.orm import AuditRow, EventRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, Hall, assert_error
from tests.helpers.people import id_number, phone

Auth = Callable[[str], dict[str, str]]
TODAY = "2026-11-26"


def booking_body(n: int = 1, **overrides: Any) -> dict[str, Any]:
    body = {
        "service": "SOCIAL",
        "date": TODAY,
        "start": "10:30",
        "name": "张三",
        "phone": phone(n),
        "id_number": id_number(n),
    }
    return {**body, **overrides}


def book(client: FlaskClient, n: int = 1, **overrides: Any) -> dict[str, Any]:
    response = client.post(f"{API}/halls/ZMD/appointments", json=booking_body(n, **overrides))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def finished_ticket(hall: Hall, clock: FrozenClock) -> dict[str, Any]:
    ticket = hall.issue("SOCIAL", "web")
    hall.open(10, "clerk10")
    called = hall.call_next(10, "clerk10")
    assert called["id"] == ticket["id"]
    hall.act(ticket["id"], "start", "clerk10")
    clock.advance(minutes=3)
    return {**hall.act(ticket["id"], "finish", "clerk10"), "rating_key": ticket["rating_key"]}


def test_slots_are_public_with_capacity_and_places_left(client: FlaskClient) -> None:
    book(client)
    response = client.get(f"{API}/halls/ZMD/services/SOCIAL/slots?date={TODAY}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["date"] == TODAY and body["bookable_dates"][0] == TODAY
    slot = next(s for s in body["slots"] if s["time"] == "10:30")
    assert (slot["capacity"], slot["available"], slot["bookable"]) == (5, 4, True)
    assert client.get(f"{API}/halls/ZMD/services/SOCIAL/slots").status_code == 200
    assert_error(client.get(f"{API}/halls/ZMD/services/SOCIAL/slots?date=tomorrow"), 422)
    assert_error(client.get(f"{API}/halls/ZMD/services/NOPE/slots"), 404)
    assert_error(client.get(f"{API}/halls/NOPE/services/SOCIAL/slots"), 404)


def test_booking_viewing_and_cancelling_by_code(client: FlaskClient) -> None:
    created = book(client, start="14:00")
    assert len(created["code"]) == 10 and created["status"] == "booked"
    assert created["phone"] == "139****0001" and created["name"] == "张*"
    seen = client.get(f"{API}/appointments/{created['code']}")
    assert seen.status_code == 200 and seen.get_json()["start"] == created["start"]
    cancelled = client.delete(f"{API}/appointments/{created['code']}")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert_error(client.delete(f"{API}/appointments/{created['code']}"), 409)
    assert_error(client.get(f"{API}/appointments/NOSUCHCODE"), 404)
    assert_error(client.get(f"{API}/appointments/{'x' * 300}"), 404)


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"id_number": "411702199001010010"}, 422),
        ({"phone": "12012345678"}, 422),
        ({"name": ""}, 422),
        ({"start": "10:10"}, 422),
        ({"start": "25:99"}, 422),
        ({"date": "2026-13-01"}, 422),
        ({"date": "2026-12-25"}, 422),
        ({"service": "NOPE"}, 422),  # SPEC §5: an invalid booking is a 422
        ({"extra": 1}, 422),
    ],
)
def test_invalid_bookings_are_422_never_500(
    client: FlaskClient, overrides: dict[str, Any], status: int
) -> None:
    body = assert_error(
        client.post(f"{API}/halls/ZMD/appointments", json=booking_body(1, **overrides)), status
    )
    assert phone(1) not in json.dumps(body) and id_number(1) not in json.dumps(body)


@pytest.mark.parametrize("day", ["", " ", "2026-11-3", "26-11-2026"])
def test_an_empty_or_malformed_slot_date_is_422(client: FlaskClient, day: str) -> None:
    """Only a missing date means today; ``?date=`` is a date written wrong, like any other."""
    assert_error(client.get(f"{API}/halls/ZMD/services/SOCIAL/slots?date={day}"), 422)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dates_at_the_ends_of_the_calendar_are_422_not_500(client: FlaskClient, day: str) -> None:
    assert_error(client.get(f"{API}/halls/ZMD/services/SOCIAL/slots?date={day}"), 422)
    booked = client.post(
        f"{API}/halls/ZMD/appointments", json=booking_body(1, date=day, start="10:00")
    )
    assert_error(booked, 422)


def test_full_slots_and_duplicates_are_409(client: FlaskClient) -> None:
    for n in range(5):
        book(client, 10 + n)
    assert_error(
        client.post(f"{API}/halls/ZMD/appointments", json=booking_body(20)), 409, "slot_full"
    )
    assert_error(
        client.post(f"{API}/halls/ZMD/appointments", json=booking_body(10, start="11:00")),
        409,
        "duplicate",
    )


def test_check_in_needs_a_kiosk_and_gives_an_appointment_ticket(
    client: FlaskClient, auth: Auth
) -> None:
    code = book(client)["code"]
    assert_error(client.post(f"{API}/appointments/{code}/check-in"), 401)
    assert_error(client.post(f"{API}/appointments/{code}/check-in", headers=auth("clerk10")), 403)
    response = client.post(f"{API}/appointments/{code}/check-in", headers=auth("kiosk"))
    assert response.status_code == 201, response.get_data(as_text=True)
    ticket = response.get_json()
    assert ticket["channel"] == "appointment" and ticket["late"] is False
    assert ticket["number"].startswith("F") and ticket["appointment"]["status"] == "checked_in"
    assert_error(client.post(f"{API}/appointments/{code}/check-in", headers=auth("kiosk")), 409)


def test_check_in_by_phone_and_id_digits_and_the_early_and_late_rules(
    client: FlaskClient, auth: Auth, clock: FrozenClock
) -> None:
    early = book(client, 1, start="11:30")
    url = f"{API}/halls/ZMD/appointments/check-in"
    body = {"phone": phone(1), "id_last4": id_number(1)[-4:]}
    assert_error(client.post(url, json=body, headers=auth("kiosk")), 409, "too_early")
    assert_error(client.post(url, json={**body, "id_last4": "ABCD"}, headers=auth("kiosk")), 404)
    clock.advance(minutes=110)  # 11:50: 20 minutes after the start
    late = client.post(url, json=body, headers=auth("kiosk"))
    assert late.status_code == 201
    assert late.get_json()["late"] is True and late.get_json()["channel"] == "kiosk"
    assert client.get(f"{API}/appointments/{early['code']}").get_json()["status"] == "late"


def test_a_ticket_is_rated_once_after_finish(
    client: FlaskClient, hall: Hall, clock: FrozenClock
) -> None:
    waiting = hall.issue("MEDICAL", "web")
    assert_error(
        client.post(
            f"{API}/tickets/{waiting['id']}/evaluation",
            json={"score": 5, "key": waiting["rating_key"]},
        ),
        409,
        "not_finished",
    )
    ticket = finished_ticket(hall, clock)
    url = f"{API}/tickets/{ticket['id']}/evaluation"
    for bad in ({"score": 0}, {"score": 6}, {"score": "5"}, {"score": True}, {}):
        assert_error(client.post(url, json=bad), 422)
    key = ticket["rating_key"]
    response = client.post(url, json={"score": 4, "comment": "办得快", "key": key})
    assert response.status_code == 201
    assert response.get_json() == {
        "ticket": ticket["id"],
        "number": ticket["number"],
        "score": 4,
        "comment": "办得快",
        "follow_up": False,
        "segment": 0,
        "indicators": None,
        "reasons": [],
    }
    assert_error(client.post(url, json={"score": 5, "key": key}), 409, "already_rated")
    assert_error(client.post(f"{API}/tickets/nosuch/evaluation", json={"score": 5}), 404)


def test_a_bad_review_opens_a_case_that_supervisors_work_and_see_overdue(
    client: FlaskClient, hall: Hall, auth: Auth, clock: FrozenClock
) -> None:
    ticket = finished_ticket(hall, clock)
    rated = client.post(
        f"{API}/tickets/{ticket['id']}/evaluation", json={"score": 1, "key": ticket["rating_key"]}
    )
    assert rated.get_json()["follow_up"] is True
    assert_error(client.get(f"{API}/halls/ZMD/cases"), 401)
    assert_error(client.get(f"{API}/halls/ZMD/cases", headers=auth("clerk10")), 403)
    (case,) = client.get(f"{API}/halls/ZMD/cases", headers=auth("supervisor")).get_json()["cases"]
    assert case["status"] == "open" and case["supervisor"] == "supervisor"
    assert case["deadline"] == "2026-12-17" and case["overdue"] is False
    live = client.get(f"{API}/halls/ZMD/live", headers=auth("supervisor")).get_json()
    (alert,) = live["alerts"]  # a bad review alerts at once (SPEC §4)
    assert alert["kind"] == "bad_review" and alert["case"] == case["id"]

    clock.advance(days=25)
    live = client.get(f"{API}/halls/ZMD/live", headers=auth("supervisor")).get_json()
    (alert,) = live["alerts"]
    assert alert["kind"] == "case_overdue" and alert["level"] == "red"
    assert alert["case"] == case["id"]

    base = f"{API}/cases/{case['id']}"
    assert_error(client.post(f"{base}/call-back", json={}, headers=auth("clerk10")), 403)
    assert_error(client.post(f"{base}/close", json={}, headers=auth("supervisor")), 409)
    assert_error(client.post(f"{base}/appeal", json={}, headers=auth("supervisor")), 422)
    assert_error(
        client.post(f"{API}/cases/999/call-back", json={}, headers=auth("supervisor")), 404
    )
    called = client.post(
        f"{base}/call-back", json={"note": "已电话回访"}, headers=auth("supervisor")
    )
    assert called.status_code == 200 and called.get_json()["status"] == "called_back"
    appealed = client.post(
        f"{base}/appeal", json={"reason": "群众误操作"}, headers=auth("supervisor")
    )
    assert appealed.status_code == 201 and appealed.get_json()["status"] == "pending"
    decide = f"{API}/appeals/{appealed.get_json()['id']}/decide"
    same = client.post(
        decide, json={"decision": "upheld", "note": "同意"}, headers=auth("supervisor")
    )
    assert_error(same, 403, "same_person")  # a second person decides
    admin = client.post(
        decide, json={"decision": "upheld", "note": "录像为证"}, headers=auth("admin")
    )
    assert admin.get_json()["status"] == "upheld"
    assert client.get(base, headers=auth("supervisor")).get_json()["case"]["status"] == "excluded"
    live = client.get(f"{API}/halls/ZMD/live", headers=auth("supervisor")).get_json()
    assert live["alerts"] == []


def test_booking_is_rate_limited_per_phone(
    db_url: str, clock: FrozenClock, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers.api import make_app

    limited = make_app(db_url, clock, RATELIMIT_ENABLED=True)
    try:
        client = limited.test_client()
        statuses = [
            client.post(
                f"{API}/halls/ZMD/appointments",
                json=booking_body(1, id_number=id_number(n), start="15:00"),
            ).status_code
            for n in range(7)
        ]
        assert statuses[:5] == [201, 201, 201, 201, 201] or statuses.count(429) >= 1
        assert statuses[-1] == 429
        assert_error(client.post(f"{API}/halls/ZMD/appointments", json=booking_body(1)), 429)
    finally:
        limited.extensions["hall"].db.dispose()


def test_no_full_id_number_or_phone_appears_anywhere(
    client: FlaskClient,
    auth: Auth,
    db: Database,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    full_id, full_phone = "411702199003071234", "13812345678"
    body = booking_body(1, id_number=full_id, phone=full_phone)
    texts: list[str] = []
    created = client.post(f"{API}/halls/ZMD/appointments", json=body)
    texts.append(created.get_data(as_text=True))
    if created.status_code != 201:  # the fixed example must be valid: fail loudly otherwise
        pytest.fail(texts[-1])
    code = created.get_json()["code"]
    for response in (
        client.post(f"{API}/halls/ZMD/appointments", json=body),
        client.post(f"{API}/halls/ZMD/appointments", json={**body, "start": "11:00"}),
        client.post(f"{API}/halls/ZMD/appointments", json={**body, "id_number": full_id[:-1]}),
        client.get(f"{API}/appointments/{code}"),
        client.post(
            f"{API}/halls/ZMD/appointments/check-in",
            json={"phone": full_phone, "id_last4": full_id[-4:]},
            headers=auth("kiosk"),
        ),
        client.get(f"{API}/appointments/{code}"),
        client.get(f"/a/{code}"),
        client.get("/book/ZMD"),
    ):
        texts.append(response.get_data(as_text=True))
    ticket_id = client.get(f"{API}/appointments/{code}").get_json()["ticket_id"]
    texts.append(client.get(f"/t/{ticket_id}").get_data(as_text=True))
    with UnitOfWork(db, write=False) as uow:
        texts.extend(json.dumps(list(map(str, r))) for r in uow.conn.execute(select(EventRow)))
        texts.extend(json.dumps(list(map(str, r))) for r in uow.conn.execute(select(AuditRow)))
        from queue_engine.adapters.orm import AppointmentRow

        texts.extend(
            json.dumps(list(map(str, r))) for r in uow.conn.execute(select(AppointmentRow))
        )
    texts.append(caplog.text)
    everything = "\n".join(texts)
    assert "138****5678" in everything  # the masked form is there …
    assert full_phone not in everything  # … the full number nowhere
    assert full_id not in everything and full_id[:17] not in everything
