"""Issue 15, row 2: a window's evaluator rates only that window's current visit.

Only two kinds of session may rate at a window's evaluator screen: the device account an
administrator bound to that window, and the clerk who has the window open, for a visit that
clerk handled. Every other staff session (another clerk, a supervisor, an administrator, an
unbound kiosk account) is refused, and a visit stops being "current" once the window has
called someone else. The pages are used as a browser uses them: a sign-in form and the
evaluator page's CSRF token.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update

from queue_engine.adapters.orm import EvaluationRow, EventRow, FollowUpCaseRow, WindowRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import Role
from queue_engine.domain.clock import FrozenClock
from queue_engine.services.admin import AdminDesk, NewUser
from tests.helpers.api import STAFF, Hall

DEVICE = ("eval10", "Device-10-ok")
CSRF = re.compile(r'name="csrf(?:_token|-token)" (?:value|content)="([^"]+)"')


def page_session(app: Any, username: str, password: str) -> FlaskClient:
    """A browser's session: the sign-in form with its CSRF token, as a person would."""
    client: FlaskClient = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = CSRF.search(form)
    assert token is not None
    signed = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token[1]}
    )
    assert signed.status_code == 302, signed.get_data(as_text=True)
    return client


def rate_on_page(client: FlaskClient, window_id: int, score: int) -> Any:
    """Open the evaluator page and press a score, sending the page's CSRF token."""
    page = client.get(f"/evaluator/{window_id}")
    if page.status_code != 200:
        return page
    token = CSRF.search(page.get_data(as_text=True))
    assert token is not None
    return client.post(
        f"/evaluator/{window_id}/rate",
        json={"score": score},
        headers={"X-CSRFToken": token[1]},
    )


def serve(hall: Hall, clock: FrozenClock, clerk: str = "clerk10", number: int = 10) -> str:
    ticket = hall.issue("SOCIAL", "web")
    called = hall.call_next(number, clerk)
    assert called["id"] == ticket["id"]
    hall.act(ticket["id"], "start", clerk)
    clock.advance(minutes=3)
    hall.act(ticket["id"], "finish", clerk)
    return str(ticket["id"])


def bind_device(db: Database, clock: FrozenClock, window_id: int) -> None:
    AdminDesk(db, clock).seed_users([NewUser(*DEVICE, Role.KIOSK, "ZMD")])
    with UnitOfWork(db) as uow:
        uow.session.execute(
            update(WindowRow).where(WindowRow.id == window_id).values(evaluator_device=DEVICE[0])
        )
        uow.commit()


def ratings(db: Database) -> list[tuple[str, str, int]]:
    with UnitOfWork(db, write=False) as uow:
        rows = uow.conn.execute(
            select(EvaluationRow.ticket_id, EvaluationRow.source, EvaluationRow.score)
        )
        return [(r[0], r[1], r[2]) for r in rows]


def test_only_the_windows_device_or_its_own_clerk_rates_its_current_visit(
    app: Any, db: Database, hall: Hall, clock: FrozenClock
) -> None:
    window = hall.window_id(10)
    bind_device(db, clock, window)
    hall.open(10, "clerk10")
    hall.open(11, "clerk11")
    visit = serve(hall, clock)

    # The audit's reproduction: clerk11, signed in on the pages, rates clerk10's visit.
    for username in ("clerk11", "supervisor", "admin", "kiosk"):
        refused = rate_on_page(page_session(app, username, STAFF[username][0]), window, 1)
        assert refused.status_code == 403, (username, refused.get_data(as_text=True))
    assert ratings(db) == []
    with UnitOfWork(db, write=False) as uow:
        assert uow.conn.execute(select(FollowUpCaseRow)).first() is None

    device = page_session(app, *DEVICE)
    rated = rate_on_page(device, window, 4)
    assert rated.status_code == 201, rated.get_data(as_text=True)
    assert ratings(db) == [(visit, "evaluator", 4)]

    # Once the window has called someone else, the visit before is no longer current, even
    # though nobody rated it; the window's own clerk rates the visit it has just finished.
    clerk10 = page_session(app, "clerk10", STAFF["clerk10"][0])
    skipped = serve(hall, clock)
    hall.issue("SOCIAL", "web")
    current = hall.call_next(10, "clerk10")["id"]
    assert rate_on_page(device, window, 5).status_code == 409
    assert rate_on_page(clerk10, window, 5).status_code == 409
    assert skipped not in {t for t, _, _ in ratings(db)}
    hall.act(current, "start", "clerk10")
    hall.act(current, "finish", "clerk10")
    assert rate_on_page(clerk10, window, 5).status_code == 201
    assert ratings(db)[-1] == (current, "evaluator_clerk", 5)
    with UnitOfWork(db, write=False) as uow:
        payloads = [
            json.loads(p)
            for p in uow.conn.execute(
                select(EventRow.payload).where(EventRow.type == "evaluation")
            ).scalars()
        ]
    assert [p["channel"] for p in payloads] == ["evaluator", "evaluator_clerk"]


def test_a_clerk_never_rates_a_visit_another_clerk_handled_at_its_window(
    app: Any, hall: Hall, db: Database, clock: FrozenClock
) -> None:
    window = hall.window_id(10)
    hall.open(10, "clerk10")
    serve(hall, clock)
    hall.window_post(10, "close", "clerk10")
    hall.open(10, "clerk11")  # clerk11 takes the window over within the evaluator's minutes
    clerk11 = page_session(app, "clerk11", STAFF["clerk11"][0])
    assert rate_on_page(clerk11, window, 1).status_code == 403
    assert ratings(db) == []
