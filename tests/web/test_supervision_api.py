"""Supervision over HTTP and Socket.IO: thresholds, alerts, acknowledgement, the supervisors' room.

Alerts go to ``supervise:<hall>`` only; the public hall room never hears of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from hall_app.extensions import socketio
from queue_engine.adapters.orm import AuditRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, Hall

Auth = Callable[[str], dict[str, str]]
THRESHOLDS = f"{API}/halls/ZMD/alert-thresholds"


def open_alerts(client: FlaskClient, auth: Auth) -> dict[str, dict[str, Any]]:
    response = client.get(f"{API}/halls/ZMD/alerts", headers=auth("supervisor"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return {a["key"]: a for a in response.get_json()["alerts"]}


def put(client: FlaskClient, auth: Auth, body: dict[str, Any], user: str = "admin") -> Any:
    return client.put(THRESHOLDS, json=body, headers=auth(user))


def test_thresholds_read_by_supervisors_changed_by_admins_and_audited(
    client: FlaskClient, auth: Auth, db: Database
) -> None:
    assert client.get(THRESHOLDS).status_code == 401
    assert client.get(THRESHOLDS, headers=auth("clerk10")).status_code == 403
    got = client.get(THRESHOLDS, headers=auth("supervisor")).get_json()
    assert got["hall"]["wait_yellow_minutes"] == 15 and got["hall"]["wait_red_minutes"] == 30
    assert got["hall"]["handling_factor"] == 2 and got["hall"]["paused_minutes"] == 15
    body = {"hall": {"wait_yellow_minutes": 10}, "services": {"ENT": {"wait_red_minutes": 45}}}
    assert put(client, auth, body, "supervisor").status_code == 403
    saved = put(client, auth, body)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["services"] == {"ENT": {"wait_red_minutes": 45.0}}
    with UnitOfWork(db, write=False) as uow:
        rows = list(uow.session.scalars(select(AuditRow).where(AuditRow.actor == "admin")))
    details = [json.loads(r.detail) for r in rows if "before" in r.detail]
    assert len(details) == 1
    assert details[0]["before"]["hall"]["wait_yellow_minutes"] == 15
    assert details[0]["after"]["hall"]["wait_yellow_minutes"] == 10


def test_bad_thresholds_are_422_json(client: FlaskClient, auth: Auth) -> None:
    cases = [
        {"hall": {"wait_yellow_minutes": 40, "wait_red_minutes": 30}},
        {"hall": {"colour": 3}},
        {"hall": {"idle_minutes": -1}},
        {"services": {"NOPE": {"wait_red_minutes": 40}}},
        {"services": {"ENT": {"paused_minutes": 4}}},
        {"hall": {"scheduled_windows": [99]}},
    ]
    for body in cases:
        response = put(client, auth, body)
        assert response.status_code == 422, body
        assert set(response.get_json()) >= {"error", "message"}
    assert (
        client.get(f"{API}/halls/NOPE/alert-thresholds", headers=auth("admin")).status_code == 404
    )


def test_changing_a_threshold_raises_and_clears_an_alert(
    client: FlaskClient, auth: Auth, hall: Hall, clock: FrozenClock
) -> None:
    hall.open(10, "clerk10")
    hall.issue("SOCIAL")
    assert hall.window_post(10, "call-next", "clerk10").status_code == 200
    hall.issue("SOCIAL")
    clock.advance(minutes=10)
    assert "wait_long:SOCIAL" not in open_alerts(client, auth)
    assert (
        put(client, auth, {"services": {"SOCIAL": {"wait_yellow_minutes": 8}}}).status_code == 200
    )
    alert = open_alerts(client, auth)["wait_long:SOCIAL"]
    assert alert["severity"] == "yellow" and "社会保障" in alert["message"]
    assert put(client, auth, {}).status_code == 200  # back to the defaults
    assert "wait_long:SOCIAL" not in open_alerts(client, auth)
    recent = client.get(f"{API}/halls/ZMD/alerts?state=recent", headers=auth("supervisor"))
    [cleared] = [a for a in recent.get_json()["alerts"] if a["key"] == "wait_long:SOCIAL"]
    assert cleared["open"] is False and cleared["cleared_at"] is not None


def test_acknowledge_an_alert(
    client: FlaskClient, auth: Auth, hall: Hall, clock: FrozenClock
) -> None:
    hall.open(10, "clerk10")
    assert hall.window_post(10, "pause", "clerk10", json={"reason": "会议"}).status_code == 200
    clock.advance(minutes=16)
    alert = open_alerts(client, auth)["paused_long:10"]
    url = f"{API}/alerts/{alert['id']}/acknowledge"
    assert client.post(url, json={"note": "x"}, headers=auth("clerk10")).status_code == 403
    assert client.post(url, json={"note": ""}, headers=auth("supervisor")).status_code == 422
    done = client.post(url, json={"note": "已提醒恢复服务"}, headers=auth("supervisor"))
    assert done.status_code == 200
    assert done.get_json()["acknowledged_by"] == "supervisor"
    assert done.get_json()["note"] == "已提醒恢复服务"
    again = client.post(url, json={"note": "again"}, headers=auth("supervisor"))
    assert again.status_code == 409 and again.get_json()["error"] == "already_acknowledged"
    missing = client.post(
        f"{API}/alerts/999999/acknowledge", json={"note": "x"}, headers=auth("admin")
    )
    assert missing.status_code == 404


def _messages(sio: Any) -> list[tuple[str, Any]]:
    return [(m["name"], m["args"][0] if m["args"] else None) for m in sio.get_received()]


def test_alerts_go_live_to_supervisors_only(
    app: Any, client: FlaskClient, auth: Auth, token: Callable[[str], str], hall: Hall
) -> None:
    board = socketio.test_client(app, flask_test_client=client)
    boss = socketio.test_client(app, flask_test_client=client)
    clerk = socketio.test_client(app, flask_test_client=client)
    try:
        board.emit("join", {"hall": "ZMD"})
        boss.emit("supervise", {"hall": "ZMD", "token": token("supervisor")})
        clerk.emit("supervise", {"hall": "ZMD", "token": token("clerk10")})
        snapshot = dict(_messages(boss))["supervisor.snapshot"]
        assert snapshot["room"] == "supervise:ZMD" and snapshot["alerts"] == []
        assert snapshot["figures"]["kpis"]["tickets"] == 0
        assert [n for n, _ in _messages(clerk)] == ["error"]
        _messages(board)

        assert put(client, auth, {"hall": {"scheduled_windows": [3]}}).status_code == 200
        raised = [d for n, d in _messages(boss) if n == "alert.raised"]
        assert [a["key"] for a in raised] == ["not_open:3"]
        assert "3号窗口按排班应开放" in raised[0]["message"]
        hall.open(3, "clerk10")
        client.get(f"{API}/halls/ZMD/alerts", headers=auth("supervisor"))  # evaluates now
        assert [d["key"] for n, d in _messages(boss) if n == "alert.cleared"] == ["not_open:3"]
        public = [n for n, _ in _messages(board)]
        assert "window.changed" in public
        assert not [n for n in public if n.startswith("alert.")]
        assert not [n for n, _ in _messages(clerk) if n.startswith("alert.")]
    finally:
        for sio in (board, boss, clerk):
            if sio.is_connected():
                sio.disconnect()


def test_timer_and_engine_events_evaluate_alerts(
    app: Any, hall: Hall, clock: FrozenClock, client: FlaskClient, auth: Auth
) -> None:
    services = app.extensions["hall"]
    hall.open(10, "clerk10")
    hall.window_post(10, "pause", "clerk10", json={"reason": "会议"})
    clock.advance(minutes=15)
    services.run_jobs()  # the first tick is a full one
    assert "paused_long:10" in {a.key for a in services.supervision.open_alerts("ZMD")}
    hall.window_post(10, "resume", "clerk10")  # an engine event marks the hall…
    services.run_jobs()  # …and the next tick looks at it, timer or not
    assert services.supervision.open_alerts("ZMD") == []


def test_board_and_figures(client: FlaskClient, auth: Auth, hall: Hall) -> None:
    hall.open(10, "clerk10")
    ticket = hall.issue("SOCIAL")
    hall.window_post(10, "call-next", "clerk10")
    hall.ticket_post(ticket["id"], "start", "clerk10")
    board = client.get(f"{API}/halls/ZMD/board", headers=auth("supervisor")).get_json()
    [w10] = [w for w in board["windows"] if w["number"] == 10]
    assert w10["clerk"] == "clerk10"
    assert w10["current_ticket"]["limit_minutes"] == 8.0  # 2 × SOCIAL's 4 minutes
    assert w10["current_ticket"]["started_at"] is not None
    figures = client.get(f"{API}/halls/ZMD/figures", headers=auth("supervisor")).get_json()
    assert figures["kpis"]["tickets"] == 1 and figures["hourly"]["arrivals"] == [1]
    assert figures["hourly"]["hours"] == ["10:00"]
    bad = client.get(f"{API}/halls/ZMD/figures?date=yesterday", headers=auth("supervisor"))
    assert bad.status_code == 422
