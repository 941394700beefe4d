"""One open window per clerk, unless the hall's rules allow more (``clerk_many_windows``).

A clerk sits at one counter: opening a second window while the first is open is 409
``clerk_has_window``, whichever door asks (the API here; the engine in tests/db). A hall whose
clerks really serve two counters switches the rule on through the administration's rules.
"""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from tests.helpers.api import API, Hall, assert_error

Auth = Callable[[str], dict[str, str]]
RULES = f"{API}/admin/halls/ZMD/rules"


def test_a_clerk_opens_one_window_at_a_time(hall: Hall) -> None:
    hall.open(10, "clerk10")
    body = assert_error(hall.window_post(12, "open", "clerk10"), 409, "clerk_has_window")
    assert "10" in body["message"]
    assert hall.window_post(10, "close", "clerk10").status_code == 200
    assert hall.window_post(12, "open", "clerk10").status_code == 200
    assert_error(hall.window_post(10, "open", "clerk10"), 409, "clerk_has_window")


def test_a_paused_window_still_counts_as_open(hall: Hall) -> None:
    hall.open(10, "clerk10")
    assert hall.window_post(10, "pause", "clerk10", json={"reason": "午休"}).status_code == 200
    assert_error(hall.window_post(12, "open", "clerk10"), 409, "clerk_has_window")


def test_the_halls_administrator_may_open_windows_for_its_clerks(hall: Hall) -> None:
    hall.open(10, "admin")
    hall.open(12, "admin")  # the trusted override (access.acting_clerk)
    hall.open(11, "clerk11")
    assert_error(hall.window_post(13, "open", "clerk11"), 409, "clerk_has_window")


def test_other_clerks_are_not_held_up(hall: Hall) -> None:
    hall.open(10, "clerk10")
    hall.open(12, "clerk12")
    hall.open(11, "clerk11")


def test_a_hall_may_allow_a_clerk_several_windows(
    client: FlaskClient, hall: Hall, auth: Auth
) -> None:
    rules = client.get(RULES, headers=auth("admin")).get_json()
    assert rules["windows"] == {"clerk_many_windows": False}  # the default: one each
    rules["windows"] = {"clerk_many_windows": True}
    saved = client.put(RULES, json=rules, headers=auth("admin"))
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["windows"] == {"clerk_many_windows": True}
    hall.open(10, "clerk10")
    hall.open(12, "clerk10")
    rules["windows"] = {"clerk_many_windows": False}
    assert client.put(RULES, json=rules, headers=auth("admin")).status_code == 200
    assert_error(hall.window_post(11, "open", "clerk10"), 409, "clerk_has_window")


def test_the_rule_is_validated(client: FlaskClient, auth: Auth) -> None:
    rules = client.get(RULES, headers=auth("admin")).get_json()
    for bad in ("yes", 2, None, {"on": True}):
        rules["windows"] = {"clerk_many_windows": bad}
        assert_error(client.put(RULES, json=rules, headers=auth("admin")), 422)
    rules["windows"] = {"clerk_many_windows": False, "extra": 1}
    assert_error(client.put(RULES, json=rules, headers=auth("admin")), 422)
    rules["windows"] = {"clerk_many_windows": True}
    assert_error(client.put(RULES, json=rules, headers=auth("supervisor")), 403)
