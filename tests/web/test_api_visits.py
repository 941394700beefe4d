"""``POST /halls/{hall}/tickets {services, id_number}`` and ``/finish {outcome}`` over HTTP."""

from __future__ import annotations

from datetime import date
from typing import Any

from queue_engine.domain.identity import id_check_char
from tests.helpers.api import API, Hall, assert_error


def synthetic_id(born: date) -> str:
    first17 = f"410102{born:%Y%m%d}321"
    return first17 + id_check_char(first17)


def take(hall: Hall, **body: object) -> object:
    return hall.client.post(
        f"{API}/halls/ZMD/tickets", json={"channel": "kiosk", **body}, headers=hall.auth("kiosk")
    )


def test_a_kiosk_ticket_with_three_services_moves_on_after_each_outcome(hall: Hall) -> None:
    number = synthetic_id(date(1950, 3, 1))
    response = take(hall, services=["SOCIAL", "MEDICAL", "HPF"], id_number=number, id_name="李四")
    assert response.status_code == 201, response.get_data(as_text=True)  # type: ignore[attr-defined]
    ticket = response.get_json()  # type: ignore[attr-defined]
    assert [s["service"] for s in ticket["services"]] == ["SOCIAL", "MEDICAL", "HPF"]
    assert ticket["current_service"] == "SOCIAL" and ticket["segment"] == 0
    assert ticket["priority"] == "elderly" and ticket["identified"] is True
    assert number not in response.get_data(as_text=True)  # type: ignore[attr-defined]
    again = take(hall, services=["HPF"], id_number=number)
    assert assert_error(again, 409, "already_waiting")["message"].find(ticket["number"]) >= 0
    hall.open(10, "clerk10")
    assert hall.call_next(10, "clerk10")["id"] == ticket["id"]
    hall.act(ticket["id"], "start", "clerk10")
    assert_error(hall.ticket_post(ticket["id"], "finish", "clerk10"), 422, "outcome")
    assert_error(hall.ticket_post(ticket["id"], "finish", "clerk10", json={"outcome": "done"}), 422)
    moved = hall.act(ticket["id"], "finish", "clerk10", json={"outcome": "completed"})
    assert (moved["status"], moved["current_service"], moved["segment"]) == (
        "waiting",
        "MEDICAL",
        1,
    )
    assert moved["services"][0]["outcome"] == "completed"
    public = hall.client.get(f"{API}/tickets/{ticket['id']}").get_json()
    assert public["services"][1]["status"] == "current"


def test_a_plain_ticket_still_finishes_without_an_outcome_or_with_one(hall: Hall) -> None:
    first, second = hall.issue("SOCIAL"), hall.issue("SOCIAL")
    assert first["services"][0]["service"] == "SOCIAL" and first["current_service"] == "SOCIAL"
    hall.open(10, "clerk10")
    for ticket, body in ((first, None), (second, {"outcome": "consultation"})):
        hall.call_next(10, "clerk10")
        hall.act(ticket["id"], "start", "clerk10")
        done = hall.act(ticket["id"], "finish", "clerk10", json=body)
        assert done["status"] == "done"
    assert done["services"][0]["outcome"] == "consultation"


def test_bad_ticket_requests_are_clear_4xx(hall: Hall) -> None:
    assert_error(take(hall), 422)
    assert_error(take(hall, service="SOCIAL", services=["SOCIAL"]), 422)
    assert_error(take(hall, services=["SOCIAL", "SOCIAL"]), 422)
    assert_error(take(hall, services=["A", "B", "C", "D", "E", "F"]), 422)
    assert_error(take(hall, services=["SOCIAL"], id_number="410102195003013210"), 422)
    assert_error(take(hall, services=["NOPE"]), 404)


def test_a_clerk_calls_a_chosen_ticket_with_a_reason_and_serves_a_walk_in(hall: Hall) -> None:
    first, chosen = hall.issue("SOCIAL"), hall.issue("MEDICAL")
    hall.open(10, "clerk10")
    wid = hall.window_id(10)
    no_reason = hall.client.post(
        f"{API}/windows/{wid}/call",
        json={"ticket": chosen["id"], "reason": " "},
        headers=hall.auth("clerk10"),
    )
    assert_error(no_reason, 422)
    response = hall.client.post(
        f"{API}/windows/{wid}/call",
        json={"ticket": chosen["id"], "reason": "急事 (manager)"},
        headers=hall.auth("clerk10"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "called"
    busy = hall.client.post(
        f"{API}/windows/{wid}/call",
        json={"ticket": first["id"], "reason": "x"},
        headers=hall.auth("clerk10"),
    )
    assert_error(busy, 409)
    hall.act(chosen["id"], "start", "clerk10")
    hall.act(chosen["id"], "finish", "clerk10", json={"outcome": "completed"})
    walk_in = hall.client.post(
        f"{API}/windows/{wid}/serve-walk-in",
        json={"service": "SOCIAL", "reason": "系统故障未取号"},
        headers=hall.auth("clerk10"),
    )
    assert walk_in.status_code == 201, walk_in.get_data(as_text=True)
    made = walk_in.get_json()
    assert (made["status"], made["channel"], made["window"]) == ("called", "window", "10")
    found = hall.client.get(
        f"{API}/halls/ZMD/tickets/by-number/{made['number']}", headers=hall.auth("clerk10")
    )
    assert found.status_code == 200 and found.get_json()["id"] == made["id"]
    assert_error(
        hall.client.get(f"{API}/halls/ZMD/tickets/by-number/Z999", headers=hall.auth("clerk10")),
        404,
    )


def test_a_held_ticket_frees_the_window_and_resumes_there(hall: Hall) -> None:
    ticket, other = hall.issue("SOCIAL"), hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    hall.call_next(10, "clerk10")
    hall.act(ticket["id"], "start", "clerk10")
    held = hall.act(ticket["id"], "hold", "clerk10")
    assert held["status"] == "held" and held["window"] is None
    assert hall.call_next(10, "clerk10")["id"] == other["id"]  # not the held one
    assert_error(hall.ticket_post(ticket["id"], "resume", "clerk10"), 409)  # window busy
    hall.act(other["id"], "start", "clerk10")
    hall.act(other["id"], "finish", "clerk10")
    hall.open(11, "clerk11")
    assert_error(hall.ticket_post(ticket["id"], "resume", "clerk11"), 403)  # another window
    back = hall.act(ticket["id"], "resume", "clerk10")
    assert (back["status"], back["window"]) == ("called", "10")


def test_public_events_never_carry_the_citizen_or_a_clerks_reason() -> None:
    from datetime import UTC, datetime

    from hall_app.serialize import public_event
    from queue_engine.domain.events import DomainEvent, EventType, StoredEvent

    event = DomainEvent(
        EventType.TICKET_ISSUED,
        "ZMD",
        datetime(2026, 11, 26, 2, tzinfo=UTC),
        ticket_id="t1",
        ticket_number="F001",
        payload={"services": ["SOCIAL"], "citizen": "h" * 64, "proxy": "p", "reason": "r"},
    )
    message = public_event(StoredEvent("1", event))
    assert message["payload"] == {"services": ["SOCIAL"]}


def test_the_clerk_adds_and_removes_services_still_to_come(hall: Hall) -> None:
    ticket = hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    hall.call_next(10, "clerk10")
    url = f"{API}/tickets/{ticket['id']}/services"
    headers = hall.auth("clerk10")
    added = hall.client.put(url, json={"services": ["MEDICAL", "HPF"]}, headers=headers)
    assert added.status_code == 200, added.get_data(as_text=True)
    assert [s["service"] for s in added.get_json()["services"]] == ["SOCIAL", "MEDICAL", "HPF"]
    removed = hall.client.put(url, json={"services": ["HPF"]}, headers=headers).get_json()
    assert [s["service"] for s in removed["services"]] == ["SOCIAL", "HPF"]
    assert_error(hall.client.put(url, json={"services": ["SOCIAL"]}, headers=headers), 422)
    assert_error(hall.client.put(url, json={"services": ["NOPE"]}, headers=headers), 404)
    hall.act(ticket["id"], "start", "clerk10")
    moved = hall.act(ticket["id"], "finish", "clerk10", json={"outcome": "completed"})
    assert (moved["status"], moved["current_service"]) == ("waiting", "HPF")


def test_the_window_lists_its_held_tickets_and_the_queue_carries_ticket_ids(
    hall: Hall, auth: Any
) -> None:
    first, second = hall.issue("SOCIAL"), hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    detail = f"{API}/windows/{hall.window_id(10)}"
    queue = hall.client.get(detail, headers=auth("clerk10")).get_json()["queue"]
    assert [q["id"] for q in queue] == [first["id"], second["id"]]
    hall.call_next(10, "clerk10")
    hall.act(first["id"], "hold", "clerk10")
    window = hall.client.get(detail, headers=auth("clerk10")).get_json()
    assert window["held"] == [{"id": first["id"], "number": first["number"], "service": "SOCIAL"}]
    assert window["current"] is None
    hall.act(first["id"], "resume", "clerk10")
    assert hall.client.get(detail, headers=auth("clerk10")).get_json()["held"] == []
