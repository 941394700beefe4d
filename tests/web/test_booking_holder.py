"""Issue 15, row 7: a booking made under somebody's ID number is theirs to see and cancel.

The audit's reproduction: somebody books with a victim's valid ID number and another phone;
the victim then cannot book (409 duplicate), cannot cancel (the code went to the other phone)
and may inherit the other person's no-show ban. Now the ID's holder proves the ID at a kiosk
of the hall (kiosk token + the ID number), sees every booking under it there and cancels one
(or confirms one as their own), and a no-show bans the ID only when the hall knows the holder
made that booking: it was verified (checked in, or confirmed at the kiosk with the ID), or it
was booked with a phone the ID's verified bookings had used.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient

from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, assert_error
from tests.helpers.people import id_number, phone

Auth = Any
VICTIM_ID, VICTIM_PHONE, OTHER_PHONE = id_number(70), phone(70), phone(71)


def at(day: int, hhmm: str) -> datetime:
    """A moment of late November / early December 2026 in the hall (UTC+8)."""
    hour, minute = map(int, hhmm.split(":"))
    month, day = (11, day) if day > 20 else (12, day)
    return datetime(2026, month, day, hour - 8, minute, tzinfo=UTC)


def booking(day: str, start: str, who_phone: str, service: str = "SOCIAL") -> dict[str, Any]:
    return {
        "service": service,
        "date": day,
        "start": start,
        "name": "李四",
        "phone": who_phone,
        "id_number": VICTIM_ID,
    }


def book(client: FlaskClient, body: dict[str, Any]) -> Any:
    return client.post(f"{API}/halls/ZMD/appointments", json=body)


def test_the_ids_holder_sees_and_cancels_a_booking_made_in_their_name_at_the_kiosk(
    client: FlaskClient, auth: Auth, clock: FrozenClock
) -> None:
    fake = book(client, booking("2026-11-26", "10:30", OTHER_PHONE))
    assert fake.status_code == 201, fake.get_data(as_text=True)
    assert_error(book(client, booking("2026-11-26", "11:00", VICTIM_PHONE)), 409, "duplicate")

    lookup = f"{API}/halls/ZMD/appointments/lookup"
    assert_error(client.post(lookup, json={"id_number": VICTIM_ID}), 401)
    assert_error(client.post(lookup, json={"id_number": VICTIM_ID}, headers=auth("clerk10")), 403)
    assert_error(client.post(lookup, json={"id_number": "12345"}, headers=auth("kiosk")), 422)
    found = client.post(lookup, json={"id_number": VICTIM_ID}, headers=auth("kiosk"))
    assert found.status_code == 200, found.get_data(as_text=True)
    (listed,) = found.get_json()["appointments"]
    assert listed["code"] == fake.get_json()["code"] and listed["phone"] == "139****0071"
    assert VICTIM_ID not in found.get_data(as_text=True)
    others = client.post(lookup, json={"id_number": id_number(72)}, headers=auth("kiosk"))
    assert others.get_json()["appointments"] == []

    cancel = f"{API}/appointments/{listed['code']}/cancel"
    assert_error(client.post(cancel, json={"id_number": id_number(72)}, headers=auth("kiosk")), 404)
    assert_error(client.post(cancel, json={"id_number": VICTIM_ID}), 401)
    cancelled = client.post(cancel, json={"id_number": VICTIM_ID}, headers=auth("kiosk"))
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    own = book(client, booking("2026-11-26", "11:00", VICTIM_PHONE))
    assert own.status_code == 201, own.get_data(as_text=True)
    confirm = f"{API}/appointments/{own.get_json()['code']}/confirm"
    confirmed = client.post(confirm, json={"id_number": VICTIM_ID}, headers=auth("kiosk"))
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)


def test_unverified_no_shows_with_another_phone_never_ban_the_ids_holder(
    app: Any, client: FlaskClient, auth: Auth, clock: FrozenClock
) -> None:
    desk = app.extensions["hall"].appointments
    # The holder came once (checked in): their phone is known to be theirs.
    mine = book(client, booking("2026-11-26", "10:30", VICTIM_PHONE, service="MEDICAL"))
    checked = client.post(
        f"{API}/appointments/{mine.get_json()['code']}/check-in", headers=auth("kiosk")
    )
    assert checked.status_code == 201, checked.get_data(as_text=True)
    # Somebody else books twice under the holder's ID with another phone and never comes.
    for day in ("2026-11-27", "2026-11-30"):
        assert book(client, booking(day, "10:30", OTHER_PHONE)).status_code == 201
    clock.set(at(30, "12:00"))
    assert desk.sweep() == 2

    victim = book(client, booking("2026-12-01", "10:30", VICTIM_PHONE))
    assert victim.status_code == 201, victim.get_data(as_text=True)
    # Whoever books again with that ID and that other phone is the same booker: banned.
    again = book(client, booking("2026-12-02", "10:30", OTHER_PHONE))
    assert_error(again, 403, "booking_banned")

    # The holder's own no-shows count: the booking confirmed at the kiosk, then missed …
    confirm = f"{API}/appointments/{victim.get_json()['code']}/confirm"
    confirmed = client.post(confirm, json={"id_number": VICTIM_ID}, headers=auth("kiosk"))
    assert confirmed.status_code == 200
    # … and one booked with the holder's verified phone, also missed.
    assert book(client, booking("2026-12-02", "11:00", VICTIM_PHONE)).status_code == 201
    clock.set(at(2, "12:00"))
    assert desk.sweep() == 2
    assert_error(book(client, booking("2026-12-03", "10:30", VICTIM_PHONE)), 403, "booking_banned")
