"""Live events over Socket.IO (SPEC §5): rooms per hall, window and ticket; snapshot first.

Changes are made through the HTTP test client; the Socket.IO test clients of Flask-SocketIO
receive what the rooms get. Public rooms (hall boards, a citizen's phone) must never carry
ticket ids of other people, staff usernames or personal data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from hall_app.extensions import socketio
from queue_engine.adapters.orm import TicketRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from tests.helpers.api import API, Hall

Message = dict[str, Any]
STAFF_NAMES = ("clerk10", "clerk11", "clerk12", "kiosk", "supervisor", "admin")
# Keys that would carry a citizen's personal data (a window's "name" is the window's own).
PERSONAL_KEYS = frozenset({"ticket_id", "clerk", "username", "id_number", "phone"})
PERSONAL_KEY = re.compile(r"phone|mobile|id_number|id_card|idcard|identity|full_name|real_name")


class Rooms:
    """Socket.IO test clients of one test, disconnected at its end."""

    def __init__(self, app: Any, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        self.clients: list[Any] = []

    def join(self, data: Any) -> Any:
        sio = socketio.test_client(self.app, flask_test_client=self.client)
        assert sio.is_connected()
        self.clients.append(sio)
        sio.emit("join", data)
        return sio

    def close(self) -> None:
        for sio in self.clients:
            if sio.is_connected():
                sio.disconnect()


@pytest.fixture
def rooms(app: Any, client: FlaskClient) -> Iterator[Rooms]:
    manager = Rooms(app, client)
    yield manager
    manager.close()


def received(sio: Any) -> list[Message]:
    return [
        {"name": m["name"], "data": m["args"][0] if m["args"] else None} for m in sio.get_received()
    ]


def names(messages: list[Message]) -> list[str]:
    return [m["name"] for m in messages]


def snapshot_of(sio: Any) -> dict[str, Any]:
    messages = received(sio)
    assert names(messages) == ["snapshot"], messages
    return messages[0]["data"]  # type: ignore[no-any-return]


def walk(value: Any, path: str = "") -> Iterator[tuple[str, str | None, Any]]:
    """Every (path, key, value) of a JSON value, recursively."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", str(key), item
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield f"{path}[{index}]", None, item
            yield from walk(item, f"{path}[{index}]")


def leaks(messages: list[Message], secrets: set[str]) -> list[str]:
    """Where public messages carry a ticket id, a staff username or a personal field."""
    found = []
    for message in messages:
        for path, key, value in walk(message["data"], message["name"]):
            personal = key is not None and (key in PERSONAL_KEYS or PERSONAL_KEY.search(key))
            if personal and value not in (None, "", [], {}):
                found.append(f"{path} = {value!r}")
            if key == "name" and isinstance(value, str) and value in STAFF_NAMES:
                found.append(f"{path} = {value!r}")
            if isinstance(value, str) and key != "channel":  # a channel may be "kiosk"
                for secret in secrets:
                    if re.search(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", value):
                        found.append(f"{path} = {value!r} contains {secret!r}")
    return found


# -- snapshots -----------------------------------------------------------------------------


def test_joining_a_hall_gives_a_snapshot_first(rooms: Rooms, hall: Hall) -> None:
    hall.issue("SOCIAL")
    hall.issue("SOCIAL")
    hall.issue("TAX")
    board = rooms.join({"hall": "ZMD"})
    snapshot = snapshot_of(board)
    assert snapshot["room"] == "hall:ZMD"
    assert snapshot["hall"]["code"] == "ZMD"
    assert snapshot["hall"]["timezone"] == "Asia/Shanghai"
    assert sorted(w["number"] for w in snapshot["windows"]) == list(range(1, 23))
    waiting = {q["code"]: q["waiting"] for q in snapshot["queues"]}
    assert (waiting["SOCIAL"], waiting["TAX"], waiting["REALTY"]) == (2, 1, 0)
    assert snapshot["recent_calls"] == []


def test_the_hall_snapshot_lists_recent_calls_newest_first(rooms: Rooms, hall: Hall) -> None:
    hall.issue("SOCIAL")
    hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    hall.open(11, "clerk11")
    hall.call_next(10, "clerk10")
    hall.call_next(11, "clerk11")
    assert hall.window_post(10, "recall", "clerk10").status_code == 200
    snapshot = snapshot_of(rooms.join({"hall": "ZMD"}))
    calls = [(c["type"], c["number"], c["window"]) for c in snapshot["recent_calls"]]
    assert calls == [
        ("ticket.recalled", "F001", "10"),
        ("ticket.called", "F002", "11"),
        ("ticket.called", "F001", "10"),
    ]
    windows = {w["number"]: w for w in snapshot["windows"]}
    assert windows[10]["current_ticket"]["number"] == "F001"
    assert windows[11]["current_ticket"]["number"] == "F002"


def test_joining_a_window_or_a_ticket_gives_their_snapshot(rooms: Rooms, hall: Hall) -> None:
    ticket = hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    window = snapshot_of(rooms.join({"window": hall.window_id(10)}))
    assert window["room"] == "window:ZMD:10"
    assert window["window"]["number"] == 10 and window["window"]["state"] == "open"
    mine = snapshot_of(rooms.join({"ticket": ticket["id"]}))
    assert mine["room"] == f"ticket:{ticket['id']}"
    assert mine["ticket"]["number"] == "F001"
    assert mine["ticket"]["status"] == "waiting" and mine["ticket"]["position"] == 0


@pytest.mark.parametrize(
    "data",
    [
        None,
        "ZMD",
        5,
        ["ZMD"],
        {},
        {"room": "hall:ZMD"},
        {"hall": 5},
        {"hall": "NOPE"},
        {"window": 9999},
        {"window": "10"},
        {"window": True},
        {"window": 10**30},
        {"ticket": "0" * 32},
        {"ticket": "../etc/passwd"},
    ],
    ids=[
        "none",
        "string",
        "int",
        "list",
        "empty",
        "room-name",
        "hall-int",
        "unknown-hall",
        "unknown-window",
        "window-string",
        "window-bool",
        "window-huge",
        "unknown-ticket",
        "bad-ticket-id",
    ],
)
def test_joining_with_bad_data_gives_an_error_event(rooms: Rooms, hall: Hall, data: Any) -> None:
    sio = socketio.test_client(rooms.app, flask_test_client=rooms.client)
    rooms.clients.append(sio)
    try:
        sio.emit("join", data)
    except Exception as exc:  # the handler must answer, not crash
        pytest.fail(f"join {data!r} crashed the handler: {exc!r}")
    messages = received(sio)
    assert names(messages) == ["error"], messages
    error = messages[0]["data"]
    assert error["status"] in (400, 404, 422)
    assert isinstance(error["error"], str) and isinstance(error["message"], str)
    # It joined no room: later events do not reach it.
    hall.open(1, "clerk10")
    hall.issue("ENT")
    assert received(sio) == []


# -- events ----------------------------------------------------------------------------------


def test_issue_then_call_reach_the_hall_room_in_order(rooms: Rooms, hall: Hall) -> None:
    hall.open(10, "clerk10")
    board = rooms.join({"hall": "ZMD"})
    snapshot_of(board)
    ticket = hall.issue("SOCIAL", channel="kiosk", priority="elderly")
    hall.call_next(10, "clerk10")
    messages = received(board)
    assert names(messages) == ["ticket.issued", "ticket.called"]
    issued, called = (m["data"] for m in messages)
    assert issued["type"] == "ticket.issued"
    assert (issued["hall"], issued["ticket_number"], issued["service"]) == ("ZMD", "F001", "SOCIAL")
    assert issued["priority"] == "elderly"
    assert issued["window"] is None
    assert (called["ticket_number"], called["window"]) == ("F001", "10")
    assert called["ts"] and called["event_id"] != issued["event_id"]
    assert ticket["id"] not in str(messages)


def test_the_ticket_room_hears_which_window_calls_it(rooms: Rooms, hall: Hall) -> None:
    other = hall.issue("SOCIAL")
    ticket = hall.issue("SOCIAL")
    phone = rooms.join({"ticket": ticket["id"]})
    snapshot_of(phone)
    hall.open(10, "clerk10")
    hall.open(11, "clerk11")
    assert hall.call_next(10, "clerk10")["id"] == other["id"]
    assert received(phone) == []  # somebody else's call
    hall.call_next(11, "clerk11")
    messages = received(phone)
    assert names(messages) == ["ticket.called"]
    assert messages[0]["data"]["ticket_number"] == "F002"
    assert messages[0]["data"]["window"] == "11"
    assert hall.window_post(11, "recall", "clerk11").status_code == 200
    hall.act(ticket["id"], "start", "clerk11")
    hall.act(ticket["id"], "finish", "clerk11")
    assert names(received(phone)) == ["ticket.recalled", "ticket.started", "ticket.finished"]


def test_a_window_room_gets_the_events_of_its_window_only(rooms: Rooms, hall: Hall) -> None:
    mine = rooms.join({"window": hall.window_id(10)})
    theirs = rooms.join({"window": hall.window_id(11)})
    snapshot_of(mine)
    snapshot_of(theirs)
    hall.issue("SOCIAL")
    hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    called = hall.call_next(10, "clerk10")
    hall.act(called["id"], "start", "clerk10")
    hall.act(called["id"], "finish", "clerk10")
    assert hall.window_post(10, "pause", "clerk10", json={"reason": "午休"}).status_code == 200
    messages = received(mine)
    assert names(messages) == [
        "window.changed",
        "ticket.called",
        "ticket.started",
        "ticket.finished",
        "window.changed",
    ]
    assert [m["data"]["type"] for m in messages if m["name"] == "window.changed"] == [
        "window.opened",
        "window.paused",
    ]
    # row 14: a public room gets the pause category (and its label as the reason)
    assert messages[-1]["data"]["payload"] == {"reason": "午休", "category": "lunch"}
    assert all(m["data"]["window"] == "10" for m in messages)
    assert received(theirs) == []
    hall.open(11, "clerk11")
    hall.call_next(11, "clerk11")
    assert names(received(theirs)) == ["window.changed", "ticket.called"]
    assert received(mine) == []


def test_transfer_no_show_and_cancel_are_announced(rooms: Rooms, hall: Hall) -> None:
    board = rooms.join({"hall": "ZMD"})
    snapshot_of(board)
    first = hall.issue("SOCIAL")
    second = hall.issue("SOCIAL")
    third = hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    hall.call_next(10, "clerk10")
    hall.act(first["id"], "start", "clerk10")
    hall.act(first["id"], "transfer", "clerk10", json={"service": "MEDICAL"})
    hall.open(12, "clerk12")  # MEDICAL is its primary skill
    assert hall.call_next(12, "clerk12")["id"] == first["id"]
    hall.act(first["id"], "no-show", "clerk12")
    assert hall.client.post(f"{API}/tickets/{third['id']}/cancel").status_code == 200
    messages = received(board)
    assert names(messages) == [
        "ticket.issued",
        "ticket.issued",
        "ticket.issued",
        "window.changed",
        "ticket.called",
        "ticket.started",
        "ticket.transferred",
        "window.changed",
        "ticket.called",
        "ticket.no_show",
        "ticket.cancelled",
    ]
    transferred = messages[6]["data"]
    assert transferred["payload"]["from_service"] == "SOCIAL"
    assert transferred["payload"]["to_service"] == "MEDICAL"
    assert (messages[8]["data"]["ticket_number"], messages[8]["data"]["window"]) == ("F001", "12")
    assert messages[9]["data"]["payload"] == {"requeued": False}
    assert messages[10]["data"]["ticket_number"] == "F003"
    assert messages[10]["data"]["payload"] == {"by": "holder"}
    assert second["id"] not in str(messages)


def test_public_rooms_carry_no_ids_usernames_or_personal_data(rooms: Rooms, hall: Hall) -> None:
    """Every message of the hall room, and of a citizen's ticket room, checked recursively."""
    board = rooms.join({"hall": "ZMD"})
    mine_ticket = hall.issue("SOCIAL", channel="web")
    phone = rooms.join({"ticket": mine_ticket["id"]})
    tickets = [
        hall.issue("SOCIAL", channel="kiosk", priority="elderly"),
        hall.issue("MEDICAL", channel="app", priority="disabled"),
        hall.issue("TAX"),
        hall.issue("SOCIAL", channel="kiosk", priority="military"),
    ]
    hall.open(10, "clerk10")
    hall.open(12, "clerk12")
    a = hall.call_next(10, "clerk10")
    assert hall.window_post(10, "recall", "clerk10").status_code == 200
    hall.act(a["id"], "start", "clerk10")
    hall.act(a["id"], "transfer", "clerk10", json={"window": hall.window_id(12)})
    b = hall.call_next(12, "clerk12")
    hall.act(b["id"], "no-show", "clerk12")
    c = hall.call_next(10, "clerk10")
    hall.act(c["id"], "start", "clerk10")
    hall.act(c["id"], "finish", "clerk10")
    assert hall.client.post(f"{API}/tickets/{tickets[2]['id']}/cancel").status_code == 200
    assert hall.window_post(12, "pause", "clerk12", json={"reason": "系统故障"}).status_code == 200
    assert hall.window_post(12, "resume", "clerk12").status_code == 200
    assert hall.window_post(12, "close", "clerk12").status_code == 200
    rooms.app.extensions["hall_live"].refresh(full=True)
    board_messages = received(board)
    assert len(board_messages) >= 15
    ticket_ids = {t["id"] for t in [mine_ticket, *tickets]}
    assert leaks(board_messages, ticket_ids | set(STAFF_NAMES)) == []
    # The phone may see its own ticket (it joined with the id), nobody else's, and no staff.
    phone_messages = received(phone)
    assert phone_messages
    assert leaks(phone_messages, (ticket_ids - {mine_ticket["id"]}) | set(STAFF_NAMES)) == []


def test_the_hall_snapshot_names_no_clerk(rooms: Rooms, hall: Hall) -> None:
    """A hall board shows which windows are open, not the usernames of the staff behind them."""
    hall.open(10, "clerk10")
    hall.open(11, "clerk11")
    snapshot = snapshot_of(rooms.join({"hall": "ZMD"}))
    assert leaks([{"name": "snapshot", "data": snapshot}], set(STAFF_NAMES)) == []


def test_a_staff_cancel_does_not_name_the_staff_member_publicly(rooms: Rooms, hall: Hall) -> None:
    board = rooms.join({"hall": "ZMD"})
    snapshot_of(board)
    ticket = hall.issue("SOCIAL")
    phone = rooms.join({"ticket": ticket["id"]})
    snapshot_of(phone)
    response = hall.client.post(
        f"{API}/tickets/{ticket['id']}/cancel", headers=hall.auth("clerk10")
    )
    assert response.status_code == 200
    messages = received(board)
    assert names(messages) == ["ticket.issued", "ticket.cancelled"]
    assert leaks(messages, set(STAFF_NAMES)) == []
    assert leaks(received(phone), set(STAFF_NAMES)) == []


def test_reviews_and_follow_up_cases_never_reach_public_rooms(rooms: Rooms, hall: Hall) -> None:
    """A bad review's comment may name people; the case names its supervisor: staff only."""
    board = rooms.join({"hall": "ZMD"})
    snapshot_of(board)
    ticket = hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    hall.call_next(10, "clerk10")
    hall.act(ticket["id"], "start", "clerk10")
    hall.act(ticket["id"], "finish", "clerk10")
    window = rooms.join({"window": hall.window_id(10)})
    snapshot_of(window)
    comment = "张三 13812345678 态度差"
    rated = hall.client.post(
        f"{API}/tickets/{ticket['id']}/evaluation",
        json={"score": 1, "comment": comment, "key": ticket["rating_key"]},
    )
    assert rated.status_code == 201
    for sio in (board, window):
        messages = received(sio)
        assert not {"evaluation", "case.opened", "case.changed"} & set(names(messages))
        assert leaks(messages, {comment, "13812345678", "supervisor"}) == []


# -- only after commit -----------------------------------------------------------------------


def test_a_failed_command_emits_nothing(rooms: Rooms, hall: Hall) -> None:
    waiting = hall.issue("SOCIAL")
    hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    called = hall.call_next(10, "clerk10")
    board = rooms.join({"hall": "ZMD"})
    window = rooms.join({"window": hall.window_id(10)})
    phone = rooms.join({"ticket": waiting["id"]})
    for sio in (board, window, phone):
        snapshot_of(sio)
    failures = [
        (hall.window_post(10, "call-next", "clerk10"), 409),  # still has an active ticket
        (hall.ticket_post(called["id"], "finish", "clerk10"), 409),  # called, not serving
        (hall.ticket_post(called["id"], "cancel", None), 409),  # called tickets stay
        (hall.ticket_post(called["id"], "start", "clerk11"), 403),  # not clerk11's window
        (hall.ticket_post(called["id"], "transfer", "clerk10", json={}), 422),
        (hall.window_post(10, "close", "clerk10"), 409),
        (hall.window_post(10, "open", "clerk11"), 409),
        (hall.window_post(11, "call-next", "kiosk"), 403),
    ]
    for response, status in failures:
        assert response.status_code == status, response.get_data(as_text=True)
    for sio in (board, window, phone):
        assert received(sio) == []


def test_an_idempotent_retry_emits_no_second_issue(rooms: Rooms, hall: Hall) -> None:
    board = rooms.join({"hall": "ZMD"})
    snapshot_of(board)
    for _ in range(3):
        response = hall.client.post(
            f"{API}/halls/ZMD/tickets",
            json={"service": "TAX", "channel": "app"},
            headers={"Idempotency-Key": "retry-me"},
        )
        assert response.status_code == 201
    assert names(received(board)) == ["ticket.issued"]


def test_events_are_sent_only_after_the_commit(
    rooms: Rooms, hall: Hall, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a ticket event goes out, another connection already sees the change."""
    seen: list[tuple[str, str | None]] = []
    real_emit = socketio.emit

    def checking_emit(event: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        if event.startswith("ticket.") and isinstance(data, dict) and "ticket_number" in data:
            with UnitOfWork(db, write=False) as uow:
                status = uow.conn.execute(
                    select(TicketRow.status).where(
                        TicketRow.prefix == data["ticket_number"][0],
                        TicketRow.seq == int(data["ticket_number"][1:]),
                    )
                ).scalar()
            seen.append((event, status))
        return real_emit(event, data, *args, **kwargs)

    monkeypatch.setattr(socketio, "emit", checking_emit)
    board = rooms.join({"hall": "ZMD"})
    snapshot_of(board)
    ticket = hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    hall.call_next(10, "clerk10")
    hall.act(ticket["id"], "start", "clerk10")
    hall.act(ticket["id"], "finish", "clerk10")
    assert seen == [
        ("ticket.issued", "waiting"),
        ("ticket.called", "called"),
        ("ticket.started", "serving"),
        ("ticket.finished", "done"),
    ]
    assert names(received(board))[-1] == "ticket.finished"


# -- refresh: queue figures and followed tickets --------------------------------------------


def test_refresh_sends_queue_figures_and_ticket_updates(rooms: Rooms, hall: Hall, app: Any) -> None:
    live = app.extensions["hall_live"]
    board = rooms.join({"hall": "ZMD"})
    snapshot_of(board)
    hall.issue("SOCIAL")
    followed = hall.issue("SOCIAL")
    hall.issue("REALTY")
    phone = rooms.join({"ticket": followed["id"]})
    snapshot_of(phone)
    received(board)
    live.refresh(full=True)
    messages = received(board)
    assert names(messages) == ["queue.changed"]
    figures = messages[0]["data"]
    assert figures["hall"] == "ZMD"
    waiting = {q["code"]: q["waiting"] for q in figures["queues"]}
    assert waiting == {code: {"SOCIAL": 2, "REALTY": 1}.get(code, 0) for code in waiting}
    assert len(waiting) == 13
    updates = received(phone)
    assert names(updates) == ["ticket.updated"]
    assert updates[0]["data"]["ticket"]["id"] == followed["id"]
    assert updates[0]["data"]["ticket"]["position"] == 1
    # Nothing changed since: a light refresh sends nothing, and a full one only the figures
    # (boards may have missed a round); the phone already has its ticket as it is.
    live.refresh()
    assert received(board) == [] and received(phone) == []
    live.refresh(full=True)
    assert names(received(board)) == ["queue.changed"] and received(phone) == []
    # The person ahead is called: the next refresh tells the phone it is first now.
    hall.open(10, "clerk10")
    hall.call_next(10, "clerk10")
    received(board)
    live.refresh()
    figures = received(board)
    assert names(figures) == ["queue.changed"]
    assert {q["code"]: q["waiting"] for q in figures[0]["data"]["queues"]}["SOCIAL"] == 1
    updates = received(phone)
    assert names(updates) == ["ticket.updated"]
    assert updates[0]["data"]["ticket"]["position"] == 0
    assert updates[0]["data"]["ticket"]["status"] == "waiting"


def test_refresh_tells_the_phone_its_window(rooms: Rooms, hall: Hall, app: Any) -> None:
    ticket = hall.issue("SOCIAL")
    phone = rooms.join({"ticket": ticket["id"]})
    snapshot_of(phone)
    hall.open(10, "clerk10")
    hall.call_next(10, "clerk10")
    assert names(received(phone)) == ["ticket.called"]
    app.extensions["hall_live"].refresh(full=True)
    (update,) = received(phone)
    assert update["name"] == "ticket.updated"
    assert update["data"]["ticket"]["status"] == "called"
    assert update["data"]["ticket"]["window"] == "10"
    assert update["data"]["ticket"]["position"] is None
