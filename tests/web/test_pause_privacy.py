"""A pause reason is typed by a clerk and may carry a citizen's phone or ID number.

Public screens (the hall room, the window room, the window screen's JSON, the windows list for
the public) get the pause *category* from a fixed list, never the typed text; staff get the
text with phones and ID numbers masked, and it is stored, logged and exported masked.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from hall_app.extensions import socketio
from queue_engine.adapters.event_csv import write_csv
from queue_engine.adapters.orm import EventRow, WindowRow
from queue_engine.adapters.repository import events_between
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from tests.helpers.api import API, Hall, assert_error

Auth = Callable[[str], dict[str, str]]
PHONE = "13800138000"
ID_NUMBER = "410102199001011234"
TYPED = f"午休 {PHONE}"


@pytest.fixture
def sockets(app: Any, client: FlaskClient) -> Iterator[Callable[[dict[str, Any]], Any]]:
    clients: list[Any] = []

    def join(room: dict[str, Any]) -> Any:
        sio = socketio.test_client(app, flask_test_client=client)
        sio.emit("join", room)
        clients.append(sio)
        return sio

    yield join
    for sio in clients:
        if sio.is_connected():
            sio.disconnect()


def _texts(sio: Any) -> list[Any]:
    return [m["args"][0] if m["args"] else None for m in sio.get_received()]


def test_public_screens_get_the_category_and_staff_the_masked_text(
    client: FlaskClient,
    hall: Hall,
    auth: Auth,
    db: Database,
    sockets: Callable[[dict[str, Any]], Any],
) -> None:
    hall.open(10, "clerk10")
    wid = hall.window_id(10)
    board = sockets({"hall": "ZMD"})
    screen_room = sockets({"window": wid})
    paused = hall.window_post(10, "pause", "clerk10", json={"reason": TYPED})
    assert paused.status_code == 200, paused.get_data(as_text=True)
    assert paused.get_json()["paused_reason"] == "午休 138****8000"  # the clerk's own answer
    assert paused.get_json()["pause_category"] == "lunch"

    public: list[Any] = [
        client.get(f"{API}/halls/ZMD/windows").get_json(),
        client.get(f"/display/api/windows/{wid}").get_json(),
        client.get(f"/display/window/{wid}").get_data(as_text=True),
        _texts(board),
        _texts(screen_room),
        _texts(sockets({"hall": "ZMD"})),  # a snapshot taken while paused
        _texts(sockets({"window": wid})),
    ]
    text = json.dumps(public, ensure_ascii=False)
    assert PHONE not in text and "138****8000" not in text and "13800" not in text
    listed = {w["number"]: w for w in public[0]["windows"]}[10]
    assert (listed["paused_reason"], listed["pause_category"]) == ("午休", "lunch")
    assert (public[1]["paused_reason"], public[1]["pause_category"]) == ("午休", "lunch")
    events = [m for m in public[3] if isinstance(m, dict) and m.get("type") == "window.paused"]
    assert [e["payload"] for e in events] == [{"reason": "午休", "category": "lunch"}]

    staff = [
        client.get(f"{API}/halls/ZMD/windows", headers=auth("clerk10")).get_json(),
        client.get(f"{API}/halls/ZMD/live", headers=auth("supervisor")).get_json(),
        client.get(f"{API}/windows/{wid}", headers=auth("clerk10")).get_json(),
    ]
    staff_text = json.dumps(staff, ensure_ascii=False)
    assert "午休 138****8000" in staff_text and PHONE not in staff_text

    with UnitOfWork(db, write=False) as uow:
        stored = [
            uow.conn.execute(select(WindowRow.paused_reason).where(WindowRow.id == wid)).scalar(),
            *uow.conn.execute(select(EventRow.payload)).scalars(),
        ]
        out = io.StringIO()
        write_csv(events_between(uow.conn, "ZMD", None, None), ZoneInfo("Asia/Shanghai"), out)
    everything = json.dumps(stored, ensure_ascii=False) + out.getvalue()
    assert PHONE not in everything and "138****8000" in everything


@pytest.mark.parametrize(
    ("body", "category", "label", "masked"),
    [
        ({"reason": f"区里开会 {ID_NUMBER}"}, "other", "其他", "区里开会 4101**********1234"),
        ({"reason": "区里开会", "category": "meeting"}, "meeting", "会议", "区里开会"),
        ({"reason": "临时离开 电话138 0013 8000"}, "away", "临时离开", "临时离开 电话138****8000"),
        ({"reason": "系统故障"}, "system", "系统故障", "系统故障"),
        ({"reason": "lunch"}, "lunch", "午休", "lunch"),
    ],
)
def test_every_reason_has_a_category_from_the_fixed_list(
    client: FlaskClient,
    hall: Hall,
    auth: Auth,
    body: dict[str, str],
    category: str,
    label: str,
    masked: str,
) -> None:
    hall.open(10, "clerk10")
    paused = hall.window_post(10, "pause", "clerk10", json=body)
    assert paused.status_code == 200, paused.get_data(as_text=True)
    assert (paused.get_json()["paused_reason"], paused.get_json()["pause_category"]) == (
        masked,
        category,
    )
    public = {w["number"]: w for w in client.get(f"{API}/halls/ZMD/windows").get_json()["windows"]}
    assert (public[10]["paused_reason"], public[10]["pause_category"]) == (label, category)


def test_an_unknown_category_is_422(hall: Hall) -> None:
    hall.open(10, "clerk10")
    body = {"reason": "午休", "category": "nap"}
    assert_error(hall.window_post(10, "pause", "clerk10", json=body), 422)


def test_resuming_clears_the_category(client: FlaskClient, hall: Hall) -> None:
    hall.open(10, "clerk10")
    hall.window_post(10, "pause", "clerk10", json={"reason": "午休"})
    resumed = hall.window_post(10, "resume", "clerk10").get_json()
    assert (resumed["paused_reason"], resumed["pause_category"]) == (None, None)


def test_a_pause_logged_before_masking_is_exported_masked(db: Database) -> None:
    with UnitOfWork(db) as uow:
        uow.conn.execute(
            EventRow.__table__.insert(),  # type: ignore[attr-defined]
            {
                "event_id": "legacy-pause-1",
                "hall": "ZMD",
                "ts": datetime(2026, 11, 25, 5, 0, tzinfo=UTC),
                "type": "window.paused",
                "window": "10",
                "clerk": "clerk10",
                "payload": json.dumps({"reason": TYPED}, ensure_ascii=False),
            },
        )
        uow.commit()
    with UnitOfWork(db, write=False) as uow:
        out = io.StringIO()
        write_csv(events_between(uow.conn, "ZMD", None, None), ZoneInfo("Asia/Shanghai"), out)
    assert PHONE not in out.getvalue() and "午休 138****8000" in out.getvalue()
