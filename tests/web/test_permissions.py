"""The one access rule at every door: API operations, pages and the supervisors' room.

A second hall ``Z_D`` with its own admin, supervisor, clerk and kiosk: every hall-bound
account is refused in hall ZMD, whatever its role; a supervisor does not write; a kiosk token
does not reach staff routes; a disabled account's old token stops working.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from hall_app.auth import issue_token
from hall_app.extensions import socketio as server_socketio
from hall_app.state import hall_services
from queue_engine.domain.access import Actor, Role
from tests.helpers.api import Hall

API = "/api/v1"
PASSWORD = "zd-staff-2026!"
Z_D = {"zd_admin": Role.ADMIN, "zd_super": Role.SUPERVISOR, "zd_clerk": Role.CLERK}


@pytest.fixture
def other_hall(app: Any) -> dict[str, str]:
    """Hall Z_D (a copy of ZMD's configuration) and its staff; username → bearer token."""
    with app.test_request_context():
        admin = hall_services().admin
        root = Actor("root", Role.ADMIN)
        data = copy.deepcopy(admin.export_hall(root, "ZMD"))
        data["hall"]["code"] = "Z_D"
        admin.import_hall(root, data)
        tokens = {}
        for username, role in {**Z_D, "zd_kiosk": Role.KIOSK}.items():
            admin.create_user(root, {"username": username, "role": role, "hall": "Z_D"}, PASSWORD)
            tokens[username] = issue_token(Actor(username, role, "Z_D", username))
    return tokens


def zmd_operations(client: FlaskClient, hall: Hall) -> list[tuple[str, str, Any]]:
    """Operations on hall ZMD's business, with a window a ZMD clerk opened and its ticket."""
    hall.open(10, "clerk10")
    ticket = hall.issue("SOCIAL")
    hall.window_post(10, "call-next", "clerk10")
    window = hall.window_id(10)
    return [
        ("PUT", f"{API}/halls/ZMD/alert-thresholds", {"hall": {}, "services": {}}),
        ("PUT", f"{API}/halls/ZMD/flag-settings", {}),
        ("POST", f"{API}/windows/{window}/recall", None),
        ("POST", f"{API}/windows/{window}/pause", {"reason": "会议"}),
        ("POST", f"{API}/tickets/{ticket['id']}/start", None),
        ("GET", f"{API}/halls/ZMD/cases", None),
        ("GET", f"{API}/halls/ZMD/alerts", None),
        ("GET", f"{API}/halls/ZMD/live", None),
        ("GET", f"{API}/halls/ZMD/board", None),
        ("GET", f"{API}/windows/{window}", None),
        ("GET", f"{API}/admin/halls/ZMD", None),
        ("GET", f"{API}/admin/halls/ZMD/history", None),
        ("PUT", f"{API}/admin/halls/ZMD/rules", {}),
    ]


def test_hall_bound_staff_of_another_hall_are_refused_everywhere_in_it(
    client: FlaskClient, hall: Hall, other_hall: dict[str, str]
) -> None:
    operations = zmd_operations(client, hall)
    for username in Z_D:
        headers = {"Authorization": f"Bearer {other_hall[username]}"}
        for method, path, body in operations:
            response = client.open(path, method=method, json=body, headers=headers)
            assert response.status_code == 403, (username, method, path, response.get_json())
            assert response.get_json()["error"] in ("forbidden", "Forbidden"), response.get_json()


def test_the_hall_s_own_admin_acts_at_a_clerk_s_window_and_others_do_not(
    client: FlaskClient, hall: Hall, auth: Callable[[str], dict[str, str]], other_hall: Any
) -> None:
    hall.open(10, "clerk10")
    hall.issue("SOCIAL")
    window = hall.window_id(10)
    outsider = {"Authorization": f"Bearer {other_hall['zd_admin']}"}
    assert client.post(f"{API}/windows/{window}/call-next", headers=outsider).status_code == 403
    other_clerk = client.post(f"{API}/windows/{window}/call-next", headers=auth("clerk11"))
    assert other_clerk.status_code == 403
    # The hall's own admin only through the explicit override (tests/web/test_admin_override.py).
    override = {**auth("admin"), "X-Hall-Override": "true"}
    own_admin = client.post(f"{API}/windows/{window}/call-next", headers=override)
    assert own_admin.status_code == 200


def test_supervisors_read_but_do_not_write_and_kiosks_reach_no_staff_route(
    client: FlaskClient, hall: Hall, auth: Callable[[str], dict[str, str]]
) -> None:
    supervisor = auth("supervisor")
    assert client.get(f"{API}/admin/halls/ZMD/rules", headers=supervisor).status_code == 200
    rules = client.put(f"{API}/admin/halls/ZMD/rules", json={}, headers=supervisor)
    assert rules.status_code == 403
    flags = client.put(f"{API}/halls/ZMD/flag-settings", json={}, headers=supervisor)
    assert flags.status_code == 403
    kiosk = auth("kiosk")
    for path in (f"{API}/halls/ZMD/live", f"{API}/halls/ZMD/alerts", f"{API}/admin/halls/ZMD"):
        assert client.get(path, headers=kiosk).status_code == 403, path
    assert client.get(f"{API}/halls/ZMD/live").status_code == 401


def test_a_disabled_account_s_old_token_is_refused(
    client: FlaskClient, auth: Callable[[str], dict[str, str]], token: Callable[[str], str]
) -> None:
    old = {"Authorization": f"Bearer {token('supervisor')}"}
    assert client.get(f"{API}/halls/ZMD/live", headers=old).status_code == 200
    disable = client.patch(
        f"{API}/admin/users/supervisor", json={"active": False}, headers=auth("admin")
    )
    assert disable.status_code == 200, disable.get_json()
    assert client.get(f"{API}/halls/ZMD/live", headers=old).status_code == 401


def test_pages_of_another_hall_are_refused(app: Any, other_hall: dict[str, str]) -> None:
    for username in Z_D:
        browser = app.test_client()
        with browser.session_transaction() as session:
            session["username"] = username
        for path in ("/supervisor/ZMD", "/supervisor/ZMD/reports/daily", "/admin/ZMD/rules"):
            if username == "zd_clerk" and path.startswith("/admin"):
                continue
            assert browser.get(path).status_code == 403, (username, path)


def test_the_supervisors_room_of_another_hall_is_refused(
    app: Any, hall: Hall, other_hall: dict[str, str]
) -> None:
    flask_client = app.test_client()
    for username in ("zd_admin", "zd_super"):
        sio = server_socketio.test_client(app, flask_test_client=flask_client)
        sio.emit("supervise", {"hall": "ZMD", "token": other_hall[username]})
        received = sio.get_received()
        assert [m["name"] for m in received] == ["error"], received
        assert received[0]["args"][0]["status"] == 403
        sio.disconnect()
