"""The administration API: who may do what, clear 422s, the audit trail, and live effect.

Runs on SQLite and PostgreSQL (the ``app`` fixture is built on ``db_url``). Hall ZMD is the demo
hall; its staff (tests/helpers/api.py STAFF) are bound to ZMD.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from hall_app.extensions import socketio
from queue_engine.adapters.orm import AuditRow, HallRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import Actor, Role
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.errors import Conflict, Forbidden, InvalidInput
from queue_engine.services.admin import AdminDesk, NewUser
from tests.helpers.api import API, Hall, assert_error, make_app

ADMIN = f"{API}/admin"
Auth = Callable[[str], dict[str, str]]

SERVICE = {
    "prefix": "P",
    "name_zh": "公证服务",
    "name_en": "Notary",
    "zone": "综合受理区",
    "standard_minutes": 7,
    "daily_cap": 80,
    "appointment": {"minutes": 20, "capacity": 3},
}
BOOKING = {
    "service": "SOCIAL",
    "date": "2026-11-26",
    "start": "10:30",
    "name": "张三",
    "phone": "13900000001",
    "id_number": "11010519491231002X",
}
WINDOW = {"number": 30, "name": "公证窗口", "zone": "综合受理区", "primary": ["SOCIAL"]}
HOURS = {
    "days": {
        day: {"open": "09:00", "close": "17:30", "lunch_start": "12:00", "lunch_end": "13:30"}
        for day in ("mon", "tue", "wed", "thu", "fri")
    }
    | {"sat": {"open": "09:00", "close": "12:00"}},
    "follow_holidays": True,
}
HALL = {
    "name_zh": "驻马店市民中心",
    "name_en": "Zhumadian Citizen Centre",
    "timezone": "Asia/Shanghai",
    "notice": "周六上午开放",
    "hours": HOURS,
}
RULES = {
    "no_show": {"mode": "requeue", "behind": 2, "max_requeues": 1},
    "dispatch": {"guard": "ratio", "aging_minutes": 15, "ratio_priority": 1, "ratio_regular": 3},
    "appointments": {"slot_minutes": 20, "slot_capacity": 4},
}


def window_id(client: FlaskClient, auth: Auth, number: int) -> int:
    windows = client.get(f"{ADMIN}/halls/ZMD/windows", headers=auth("admin")).get_json()
    return next(w["id"] for w in windows["windows"] if w["number"] == number)


def window_body(client: FlaskClient, auth: Auth, window: int, **changes: Any) -> dict[str, Any]:
    windows = client.get(f"{ADMIN}/halls/ZMD/windows", headers=auth("admin")).get_json()
    found = next(w for w in windows["windows"] if w["number"] == window)
    body = {k: found[k] for k in ("number", "name", "zone", "primary", "secondary", "active")}
    return {**body, **changes}


def service_body(client: FlaskClient, auth: Auth, code: str, **changes: Any) -> dict[str, Any]:
    services = client.get(f"{ADMIN}/halls/ZMD/services", headers=auth("admin")).get_json()
    found = next(s for s in services["services"] if s["code"] == code)
    return {**{k: v for k, v in found.items() if k != "code"}, **changes}


# -- permissions -------------------------------------------------------------------------------


def operations(client: FlaskClient, auth: Auth) -> list[tuple[str, str, Any, int]]:
    """(method, path, body, status for an admin) of every admin operation; reads first."""
    w1 = window_id(client, auth, 1)
    return [
        ("GET", "/halls", None, 200),
        ("GET", "/halls/ZMD", None, 200),
        ("GET", "/halls/ZMD/rules", None, 200),
        ("GET", "/halls/ZMD/services", None, 200),
        ("GET", "/halls/ZMD/windows", None, 200),
        ("GET", "/users", None, 200),
        ("GET", "/halls/ZMD/history", None, 200),
        ("GET", "/halls/ZMD/config", None, 200),
        ("PUT", "/halls/ZMD", HALL, 200),
        ("PUT", "/halls/ZMD/rules", RULES, 200),
        ("POST", "/halls/ZMD/services", {**SERVICE, "code": "NOTARY"}, 201),
        ("PUT", "/halls/ZMD/services/NOTARY", {**SERVICE, "active": False}, 200),
        ("POST", "/halls/ZMD/windows", WINDOW, 201),
        ("PUT", f"/halls/ZMD/windows/{w1}", window_body(client, auth, 1, name="企业开办A"), 200),
        (
            "POST",
            "/users",
            {"username": "wang.li", "role": "clerk", "hall": "ZMD", "password": "Window-7-ok"},
            201,
        ),
        ("PATCH", "/users/wang.li", {"display_name": "王丽", "active": False}, 200),
        ("POST", "/users/wang.li/password", {"password": "New-pass-42"}, 204),
    ]


def test_admins_change_supervisors_read_and_everybody_else_is_refused(
    client: FlaskClient, auth: Auth
) -> None:
    for method, path, body, admin_status in operations(client, auth):
        url = f"{ADMIN}{path}"
        kwargs: dict[str, Any] = {"json": body} if body is not None else {}
        assert_error(client.open(url, method=method, **kwargs), 401)
        for refused in ("clerk10", "kiosk"):
            assert_error(client.open(url, method=method, headers=auth(refused), **kwargs), 403)
        as_supervisor = client.open(url, method=method, headers=auth("supervisor"), **kwargs)
        if method == "GET":
            assert as_supervisor.status_code == 200, path
        else:
            assert_error(as_supervisor, 403)
        as_admin = client.open(url, method=method, headers=auth("admin"), **kwargs)
        assert as_admin.status_code == admin_status, (path, as_admin.get_data(as_text=True))

    hall = client.get(f"{ADMIN}/halls/ZMD", headers=auth("admin")).get_json()
    assert hall["notice"] == "周六上午开放"
    assert hall["hours"]["days"]["mon"] == HOURS["days"]["mon"]  # type: ignore[index]
    assert hall["hours"]["days"]["sun"] is None
    rules = client.get(f"{ADMIN}/halls/ZMD/rules", headers=auth("supervisor")).get_json()
    assert rules["dispatch"]["guard"] == "ratio" and rules["no_show"]["mode"] == "requeue"
    assert rules["appointments"]["slot_minutes"] == 20
    notary = service_body(client, auth, "NOTARY")
    assert notary["active"] is False and notary["appointment"] == {"minutes": 20, "capacity": 3}
    public = client.get(f"{API}/halls/ZMD/services").get_json()["services"]
    assert {s["code"]: s["active"] for s in public}["NOTARY"] is False


def test_an_admin_of_one_hall_administers_only_that_hall(
    client: FlaskClient, auth: Auth, db: Database, clock: FrozenClock
) -> None:
    AdminDesk(db, clock).seed_users(
        [
            NewUser("root", "Root-admin-1", Role.ADMIN),
            NewUser("xpx.super", "Super-visor-1", Role.SUPERVISOR),
        ]
    )
    created = client.post(
        f"{ADMIN}/halls",
        json={**HALL, "code": "XPX", "name_zh": "西平县政务服务中心"},
        headers=auth("root"),
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["config_version"] == 1

    assert_error(
        client.post(f"{ADMIN}/halls", json={**HALL, "code": "QSX"}, headers=auth("admin")), 403
    )
    assert_error(client.get(f"{ADMIN}/halls/XPX", headers=auth("admin")), 403)
    assert_error(client.put(f"{ADMIN}/halls/XPX", json=HALL, headers=auth("admin")), 403)
    assert_error(client.get(f"{ADMIN}/halls/XPX/windows", headers=auth("supervisor")), 403)
    assert [
        h["code"] for h in client.get(f"{ADMIN}/halls", headers=auth("admin")).get_json()["halls"]
    ] == ["ZMD"]
    assert client.put(f"{ADMIN}/halls/XPX", json=HALL, headers=auth("root")).status_code == 200
    # Hall-bound admins manage their hall's accounts only, and no account of every hall.
    body = {"username": "li.na", "role": "clerk", "hall": "XPX", "password": "Window-7-ok"}
    assert_error(client.post(f"{ADMIN}/users", json=body, headers=auth("admin")), 403)
    assert_error(
        client.post(f"{ADMIN}/users", json={**body, "hall": None}, headers=auth("admin")), 403
    )
    assert_error(
        client.patch(f"{ADMIN}/users/root", json={"active": False}, headers=auth("admin")), 403
    )
    users = client.get(f"{ADMIN}/users", headers=auth("admin")).get_json()["users"]
    assert "root" not in {u["username"] for u in users}
    assert client.post(f"{ADMIN}/users", json=body, headers=auth("root")).status_code == 201


# -- validation ------------------------------------------------------------------------------


def test_bad_configuration_is_a_clear_422_and_changes_nothing(
    client: FlaskClient, auth: Auth, db: Database
) -> None:
    admin = auth("admin")
    w10 = window_id(client, auth, 10)
    cases: list[tuple[str, str, Any, str | None]] = [
        (
            "POST",
            "/halls/ZMD/services",
            {**SERVICE, "code": "NOTARY", "prefix": "F"},
            "duplicate_prefix",
        ),
        ("POST", "/halls/ZMD/services", {**SERVICE, "code": "SOCIAL"}, "duplicate_code"),
        ("POST", "/halls/ZMD/services", {**SERVICE, "code": "N1", "prefix": "pp"}, None),
        ("POST", "/halls/ZMD/services", {**SERVICE, "code": "N2", "standard_minutes": 0}, None),
        ("POST", "/halls/ZMD/services", {**SERVICE, "code": "N3", "daily_cap": 0}, None),
        ("PUT", "/halls/ZMD/services/SOCIAL", {**SERVICE, "prefix": "A"}, "duplicate_prefix"),
        ("POST", "/halls/ZMD/windows", {**WINDOW, "number": 10}, "duplicate_number"),
        ("POST", "/halls/ZMD/windows", {**WINDOW, "primary": ["NOPE"]}, "unknown_service"),
        ("POST", "/halls/ZMD/windows", {**WINDOW, "primary": []}, "no_skills"),
        ("POST", "/halls/ZMD/windows", {**WINDOW, "secondary": ["SOCIAL"]}, None),
        ("POST", "/halls/ZMD/windows", {**WINDOW, "evaluator_device": "clerk10"}, "bad_device"),
        ("PUT", f"/halls/ZMD/windows/{w10}", {**WINDOW, "number": 11}, "duplicate_number"),
        ("PUT", "/halls/ZMD", {**HALL, "timezone": "Mars/Olympus"}, None),
        (
            "PUT",
            "/halls/ZMD",
            {**HALL, "hours": {"days": {"mon": {"open": "17:00", "close": "09:00"}}}},
            None,
        ),
        (
            "PUT",
            "/halls/ZMD",
            {
                **HALL,
                "hours": {
                    "days": {
                        "mon": {
                            "open": "09:00",
                            "close": "12:00",
                            "lunch_start": "12:30",
                            "lunch_end": "13:00",
                        }
                    }
                },
            },
            None,
        ),
        (
            "PUT",
            "/halls/ZMD",
            {**HALL, "hours": {"days": {"mon": {"open": "9 am", "close": "17:00"}}}},
            None,
        ),
        ("PUT", "/halls/ZMD/rules", {"dispatch": {"guard": "ratio", "ratio_regular": 0}}, None),
        ("PUT", "/halls/ZMD/rules", {"no_show": {"mode": "forgive"}}, None),
        ("PUT", "/halls/ZMD/rules", {"calling": {"silent_zones": ["月球区"]}}, "unknown_zone"),
        (
            "POST",
            "/users",
            {"username": "kiosk", "role": "kiosk", "hall": "ZMD", "password": "Kiosk-pass-1"},
            "duplicate_username",
        ),
        (
            "POST",
            "/users",
            {"username": "zhao", "role": "clerk", "hall": "ZMD", "password": "onlyletters"},
            None,
        ),
        ("PATCH", "/users/admin", {"active": False}, "own_account"),
        ("PATCH", "/users/admin", {"role": "clerk"}, "own_account"),
    ]
    version = _version(db)
    for method, path, body, code in cases:
        response = client.open(f"{ADMIN}{path}", method=method, json=body, headers=admin)
        error = assert_error(response, 422, code)
        assert error["message"], path
    assert _version(db) == version  # nothing was changed, so nobody rereads anything
    assert not _admin_audit(db)
    assert_error(client.put(f"{ADMIN}/halls/ZMD/services/NOPE", json=SERVICE, headers=admin), 404)
    assert_error(client.put(f"{ADMIN}/halls/ZMD/windows/99999", json=WINDOW, headers=admin), 404)
    assert_error(client.get(f"{ADMIN}/halls/NOPE", headers=admin), 404)


def test_a_window_in_use_cannot_be_disabled_or_renumbered(
    client: FlaskClient, auth: Auth, hall: Hall
) -> None:
    hall.open(10, "clerk10")
    w10 = window_id(client, auth, 10)
    for change in ({"active": False}, {"number": 40}):
        body = window_body(client, auth, 10, **change)
        response = client.put(f"{ADMIN}/halls/ZMD/windows/{w10}", json=body, headers=auth("admin"))
        assert_error(response, 409, "window_in_use")
    body = window_body(client, auth, 10, name="社会保障一号")
    assert (
        client.put(f"{ADMIN}/halls/ZMD/windows/{w10}", json=body, headers=auth("admin")).status_code
        == 200
    )


# -- audit -----------------------------------------------------------------------------------


def _version(db: Database) -> int:
    with UnitOfWork(db, write=False) as uow:
        return int(
            uow.session.scalar(select(HallRow.config_version).where(HallRow.code == "ZMD")) or 0
        )


def _admin_audit(db: Database) -> list[AuditRow]:
    with UnitOfWork(db, write=False) as uow:
        return list(
            uow.session.scalars(
                select(AuditRow).where(AuditRow.action.like("admin.%")).order_by(AuditRow.id)
            )
        )


def test_every_change_is_audited_with_who_when_before_and_after(
    client: FlaskClient, auth: Auth, db: Database, clock: FrozenClock
) -> None:
    version = _version(db)
    body = service_body(client, auth, "SOCIAL", standard_minutes=6, daily_cap=300)
    assert (
        client.put(
            f"{ADMIN}/halls/ZMD/services/SOCIAL", json=body, headers=auth("admin")
        ).status_code
        == 200
    )
    reset = client.post(
        f"{ADMIN}/users/clerk11/password", json={"password": "Fresh-pass-9"}, headers=auth("admin")
    )
    assert reset.status_code == 204

    assert _version(db) == version + 1  # users are not hall configuration
    service_change, password_change = _admin_audit(db)
    assert (service_change.actor, service_change.role) == ("admin", "admin")
    assert service_change.ts == clock.now()
    assert service_change.target == "ZMD/service/SOCIAL"
    detail = json.loads(service_change.detail)
    assert detail["before"]["standard_minutes"] == 4 and detail["before"]["daily_cap"] is None
    assert detail["after"]["standard_minutes"] == 6 and detail["after"]["daily_cap"] == 300
    assert password_change.action == "admin.user.password"
    assert "Fresh-pass-9" not in password_change.detail and "scrypt" not in password_change.detail
    with UnitOfWork(db, write=False) as uow:  # one audit row per request: no generic duplicate
        rows = uow.session.scalars(select(AuditRow).where(AuditRow.target.like("%SOCIAL%"))).all()
    assert len(rows) == 1
    history = client.get(f"{ADMIN}/halls/ZMD/history", headers=auth("supervisor")).get_json()
    assert [c["target"] for c in history["changes"]] == ["ZMD/user/clerk11", "ZMD/service/SOCIAL"]


# -- live effect on a running queue ----------------------------------------------------------


def test_a_skill_change_changes_the_next_call_in_every_process(
    app: Any, client: FlaskClient, auth: Auth, hall: Hall, db_url: str, clock: FrozenClock
) -> None:
    other_process = make_app(db_url, clock)  # its own engine, caches and configuration cache
    try:
        other = Hall(other_process.test_client(), auth)
        hall.open(10, "clerk10")  # 社会保障1: SOCIAL primary, MEDICAL secondary
        social = hall.issue("SOCIAL")
        clock.advance(minutes=1)
        hpf = hall.issue("HPF")
        w10 = window_id(client, auth, 10)
        queue = other.client.get(f"{API}/windows/{w10}", headers=auth("clerk10")).get_json()
        assert [q["service"] for q in queue["queue"]] == ["SOCIAL"]  # cached: HPF not a skill

        body = window_body(client, auth, 10, primary=["HPF"], secondary=["SOCIAL"])
        assert (
            client.put(
                f"{ADMIN}/halls/ZMD/windows/{w10}", json=body, headers=auth("admin")
            ).status_code
            == 200
        )

        called = other.call_next(10, "clerk10")
        assert called["id"] == hpf["id"]  # the later HPF ticket: now a primary skill
        other.act(called["id"], "start", "clerk10")
        other.act(called["id"], "finish", "clerk10")
        assert other.call_next(10, "clerk10")["id"] == social["id"]  # secondary: still served
    finally:
        other_process.extensions["hall"].db.dispose()


def test_a_disabled_service_stops_issuing_but_its_waiting_tickets_are_called(
    client: FlaskClient, auth: Auth, hall: Hall
) -> None:
    waiting = [hall.issue("SOCIAL"), hall.issue("SOCIAL", channel="kiosk")]
    booked = client.post(f"{API}/halls/ZMD/appointments", json=BOOKING)
    assert booked.status_code == 201, booked.get_data(as_text=True)
    body = service_body(client, auth, "SOCIAL", active=False)
    put = client.put(f"{ADMIN}/halls/ZMD/services/SOCIAL", json=body, headers=auth("admin"))
    assert put.status_code == 200

    for channel, headers in (("app", {}), ("kiosk", auth("kiosk"))):
        refused = client.post(
            f"{API}/halls/ZMD/tickets",
            json={"service": "SOCIAL", "channel": channel},
            headers=headers,
        )
        assert_error(refused, 422, "service_disabled")
    later = {**BOOKING, "phone": "13900000002", "id_number": "110105194912310038"}
    assert_error(client.post(f"{API}/halls/ZMD/appointments", json=later), 422)
    code = booked.get_json()["code"]
    checked_in = client.post(f"{API}/appointments/{code}/check-in", headers=auth("kiosk"))
    assert checked_in.status_code == 201, checked_in.get_data(as_text=True)  # a promise kept

    hall.open(10, "clerk10")
    called_ids = []
    for _ in range(3):
        called = hall.call_next(10, "clerk10")
        called_ids.append(called["id"])
        hall.act(called["id"], "start", "clerk10")
        hall.act(called["id"], "finish", "clerk10")
    assert called_ids[:2] == [t["id"] for t in waiting]  # in their order
    assert called_ids[2] == checked_in.get_json()["id"]
    assert hall.window_post(10, "call-next", "clerk10").status_code == 204
    assert hall.issue("MEDICAL")["service"] == "MEDICAL"  # the others issue as before


def test_a_daily_cap_refuses_tickets_beyond_it_without_using_up_numbers(
    client: FlaskClient, auth: Auth, hall: Hall
) -> None:
    body = service_body(client, auth, "POLICY", daily_cap=2)
    assert (
        client.put(
            f"{ADMIN}/halls/ZMD/services/POLICY", json=body, headers=auth("admin")
        ).status_code
        == 200
    )
    assert [hall.issue("POLICY")["number"] for _ in range(2)] == ["M001", "M002"]
    refused = client.post(f"{API}/halls/ZMD/tickets", json={"service": "POLICY", "channel": "web"})
    assert_error(refused, 409, "daily_cap_reached")
    body = service_body(client, auth, "POLICY", daily_cap=None)
    client.put(f"{ADMIN}/halls/ZMD/services/POLICY", json=body, headers=auth("admin"))
    assert hall.issue("POLICY")["number"] == "M003"


def test_open_boards_and_kiosks_get_a_fresh_snapshot_after_a_change(
    app: Any, client: FlaskClient, auth: Auth
) -> None:
    board = socketio.test_client(app, flask_test_client=client)
    board.emit("join", {"hall": "ZMD"})
    board.get_received()
    body = {**HALL, "notice": "今天下午系统升级,暂停预约"}
    assert client.put(f"{ADMIN}/halls/ZMD", json=body, headers=auth("admin")).status_code == 200
    received = {m["name"]: m["args"][0] for m in board.get_received()}
    assert received["snapshot"]["hall"]["notice"] == "今天下午系统升级,暂停预约"
    assert {q["code"] for q in received["queue.changed"]["queues"]} >= {"SOCIAL", "ENT"}
    board.disconnect()


def test_users_are_added_disabled_and_given_new_passwords(client: FlaskClient, auth: Auth) -> None:
    body = {"username": "zhou.ting", "role": "clerk", "hall": "ZMD", "password": "Window-7-ok"}
    assert client.post(f"{ADMIN}/users", json=body, headers=auth("admin")).status_code == 201
    login = {"username": "zhou.ting", "password": "Window-7-ok"}
    token = client.post(f"{API}/auth/token", json=login).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (
        client.get(f"{API}/windows/{window_id(client, auth, 3)}", headers=bearer).status_code == 200
    )

    assert (
        client.patch(
            f"{ADMIN}/users/zhou.ting", json={"active": False}, headers=auth("admin")
        ).status_code
        == 200
    )
    assert_error(client.get(f"{API}/windows/{window_id(client, auth, 3)}", headers=bearer), 401)
    assert (
        client.patch(
            f"{ADMIN}/users/zhou.ting",
            json={"active": True, "role": "supervisor"},
            headers=auth("admin"),
        ).status_code
        == 200
    )
    new = {"password": "Another-pass-8"}
    assert (
        client.post(
            f"{ADMIN}/users/zhou.ting/password", json=new, headers=auth("admin")
        ).status_code
        == 204
    )
    assert_error(client.post(f"{API}/auth/token", json=login), 401)
    again = client.post(f"{API}/auth/token", json={**login, **new})
    assert again.get_json()["role"] == "supervisor"


def test_the_admin_operations_are_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    assert "put" in paths["/api/v1/admin/halls/{hall}/windows/{window_id}"]
    assert "patch" in paths["/api/v1/admin/users/{username}"]
    assert "ServiceIn" in json.dumps(paths["/api/v1/admin/halls/{hall}/services/{code}"])


def test_the_desk_itself_refuses_non_admins(db: Database) -> None:
    desk = AdminDesk(db)
    for role in (Role.CLERK, Role.KIOSK, Role.SUPERVISOR):
        with pytest.raises(Forbidden):
            desk.update_hall(Actor("x", role, "ZMD"), "ZMD", {"notice": "x"})
    assert desk.halls(Actor("x", Role.CLERK, "ZMD")) == []
    with pytest.raises(Forbidden):
        desk.users(Actor("x", Role.KIOSK, "ZMD"))


def test_concurrent_changes_never_give_two_services_one_prefix(db: Database) -> None:
    desk = AdminDesk(db)
    root = Actor("root", Role.ADMIN)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def create(n: int) -> None:
        barrier.wait()
        try:
            desk.create_service(root, "ZMD", {**SERVICE, "code": f"N{n}", "appointment": None})
            outcomes.append("created")
        except (InvalidInput, Conflict) as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", *["duplicate_prefix"] * 3]
    prefixes = [s["prefix"] for s in desk.services(root, "ZMD")]
    assert len(prefixes) == len(set(prefixes))
