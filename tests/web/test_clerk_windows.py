"""One open window per clerk, unless the hall's rules allow more (``clerk_many_windows``).

A clerk sits at one counter: opening a second window while the first is open is 409
``clerk_has_window``, whichever door asks (the API here; the engine in tests/db). A hall whose
clerks really serve two counters switches the rule on through the administration's rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, Hall, assert_error, make_app

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


@pytest.fixture
def admin_pages(
    app_env: None, db_url: str, db: Database, clock: FrozenClock, staff: dict[str, str]
) -> Iterator[FlaskClient]:
    app = make_app(db_url, clock, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    with client.session_transaction() as session:
        session["username"] = "admin"
    yield client
    app.extensions["hall"].db.dispose()


def _rules_form(rules: dict[str, Any]) -> dict[str, str]:
    form = {f"no_show_{k}": str(v) for k, v in rules["no_show"].items()}
    form |= {f"dispatch_{k}": str(v) for k, v in rules["dispatch"].items()}
    form |= {f"appointments_{k}": str(v) for k, v in rules["appointments"].items()}
    return form


def test_the_rules_page_shows_and_keeps_the_rule(
    admin_pages: FlaskClient, client: FlaskClient, auth: Auth
) -> None:
    rules = client.get(RULES, headers=auth("admin")).get_json()
    page = admin_pages.get("/admin/ZMD/rules").get_data(as_text=True)
    assert 'name="windows_clerk_many_windows"' in page
    form = {**_rules_form(rules), "windows_clerk_many_windows": "on"}
    assert admin_pages.post("/admin/ZMD/rules", data=form).status_code == 302
    assert client.get(RULES, headers=auth("admin")).get_json()["windows"]["clerk_many_windows"]
    assert admin_pages.post("/admin/ZMD/rules", data=_rules_form(rules)).status_code == 302
    assert not client.get(RULES, headers=auth("admin")).get_json()["windows"]["clerk_many_windows"]
