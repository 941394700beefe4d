"""The planner over HTTP with the hall's own data (issue 21): the bookings of the forecast days
as known arrivals, and each plan kept and set against what happened (plan vs actual).
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from flask.testing import FlaskClient

from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, Hall
from tests.helpers.people import id_number, phone
from tests.web.test_week_plan_api import SMALL_STAFF

Auth = Callable[[str], dict[str, str]]

TODAY = date(2026, 11, 26)  # the frozen clock of tests/conftest.py: Thursday 10:00
MONDAY = TODAY + timedelta(days=7 - TODAY.weekday())


def book(client: FlaskClient, n: int, service: str, day: date, start: str) -> str:
    body = {"service": service, "date": str(day), "start": start, "name": "张三",
            "phone": phone(n), "id_number": id_number(n)}  # fmt: skip
    response = client.post(f"{API}/halls/ZMD/appointments", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["code"])


def monday(client: FlaskClient, auth: Auth) -> dict[str, object]:
    response = client.post(
        f"{API}/planner/forecast",
        json={"days": 7, "start": str(MONDAY)},
        headers=auth("supervisor"),
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["forecast"]  # type: ignore[no-any-return]


def test_booked_appointments_are_known_arrivals_of_the_forecast(
    client: FlaskClient, auth: Auth
) -> None:
    before = monday(client, auth)
    assert before["appointments"]["booked"] == 0
    for n in range(3):
        book(client, n + 1, "SOCIAL", MONDAY, "10:30")
    book(client, 4, "TAX", MONDAY, "14:00")
    cancelled = book(client, 5, "SOCIAL", MONDAY, "11:00")
    assert client.delete(f"{API}/appointments/{cancelled}").status_code == 200
    after = monday(client, auth)
    assert after["appointments"]["booked"] == 4  # the cancelled one is not counted
    day, later = after["days"][0], after["days"][-1]
    assert day["bookings"] == {"used": True, "booked": 4, "services": {"SOCIAL": 3, "TAX": 1}}
    assert later["bookings"]["used"] is False  # not yet open for booking: the model's figure
    was = before["days"][0]["intervals"]
    now = day["intervals"]
    assert [iv["start"] for iv in now][4] == "10:30"
    social = now[4]["services"]["SOCIAL"]
    assert social["booked"] == 2.7  # 3 booked × the 90 % who come
    assert social["expected"] == round(was[4]["services"]["SOCIAL"]["expected"] + 2.7, 2)
    assert now[11]["services"]["TAX"]["booked"] == 0.9  # 14:00
    assert now[5]["services"]["SOCIAL"]["booked"] == 0  # 11:00: cancelled


def test_a_kept_plan_is_set_against_what_happened(
    client: FlaskClient, auth: Auth, hall: Hall, clock: FrozenClock
) -> None:
    body = {"days": 1, "start": str(TODAY), "staff": SMALL_STAFF, "repair": "check"}
    planned = client.post(f"{API}/planner/plan", json=body, headers=auth("supervisor"))
    assert planned.status_code == 200, planned.get_json()
    plan_id = planned.get_json()["plan_id"]
    listed = client.get(f"{API}/planner/plans", headers=auth("supervisor")).get_json()["plans"]
    assert [(p["id"], p["first_day"], p["created_by"]) for p in listed] == [
        (plan_id, str(TODAY), "supervisor")
    ]
    url = f"{API}/planner/plans/{plan_id}/actual"
    ahead = client.get(url, headers=auth("supervisor")).get_json()["comparison"]
    assert ahead["days"][0]["happened"] is False  # today is not over

    # 10:00 one citizen; the window opens, calls after 4 minutes, serves 3 minutes.
    ticket = hall.issue("SOCIAL", "kiosk")
    hall.open(10, "clerk10")
    clock.advance(minutes=4)
    assert hall.call_next(10, "clerk10")["id"] == ticket["id"]
    hall.act(ticket["id"], "start", "clerk10")
    clock.advance(minutes=3)
    hall.act(ticket["id"], "finish", "clerk10")
    clock.advance(days=1)

    answer = client.get(url, headers=auth("supervisor"))
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()
    day = result["comparison"]["days"][0]
    j = result["comparison"]["intervals"].index("10:00")
    assert day["happened"] is True and sum(day["arrivals"]) == day["arrivals"][j] == 1
    assert day["mean_wait"][j] == 4.0 and day["within_target"][j] == 1.0
    assert day["windows_seen"][j] == 1 and day["open_windows"][j] == round(7 / 30, 2)
    assert day["rostered"] == planned.get_json()["roster"]["days"][0]["rostered"]
    assert (
        day["forecast"][j] == planned.get_json()["forecast"]["days"][0]["intervals"][j]["expected"]
    )
    assert result["comparison"]["total"]["mean_wait"] == 4.0


def test_plans_are_the_planners_and_the_halls(client: FlaskClient, auth: Auth) -> None:
    assert client.get(f"{API}/planner/plans").status_code == 401
    assert client.get(f"{API}/planner/plans", headers=auth("clerk10")).status_code == 403
    missing = client.get(f"{API}/planner/plans/999/actual", headers=auth("supervisor"))
    assert missing.status_code == 404 and "999" in missing.get_json()["message"]
