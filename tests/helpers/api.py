"""Helpers of the API tests: short hands for HTTP calls and checks of JSON errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import update

from hall_app import create_app
from queue_engine.adapters.orm import HallRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import Role
from queue_engine.domain.clock import FrozenClock

API = "/api/v1"

SECRET = "api-tests-secret-key-0123456789abcdef"

# The demo accounts (queue_engine/demo.py) these tests need; clerkNN is meant for window NN.
STAFF: dict[str, tuple[str, Role]] = {
    "kiosk": ("zmd-kiosk-2026", Role.KIOSK),
    "clerk10": ("zmd-clerk-2026", Role.CLERK),
    "clerk11": ("zmd-clerk-2026", Role.CLERK),
    "clerk12": ("zmd-clerk-2026", Role.CLERK),
    "supervisor": ("zmd-super-2026", Role.SUPERVISOR),
    "admin": ("zmd-admin-2026", Role.ADMIN),
}


_HASHES: dict[str, str] = {}


def add_staff(db: Any, now: Any) -> dict[str, str]:
    """The accounts of STAFF in hall ZMD; username → password (each password hashed once)."""
    from queue_engine.services import admin as admin_service

    real_hash = admin_service.hash_password

    def cached_hash(password: str, salt: bytes | None = None) -> str:
        if password not in _HASHES:
            _HASHES[password] = real_hash(password, salt)
        return _HASHES[password]

    admin_service.hash_password = cached_hash  # type: ignore[assignment]
    try:
        admin_service.AdminDesk(db, FrozenClock(now)).seed_users(
            admin_service.NewUser(username, password, role, "ZMD")
            for username, (password, role) in STAFF.items()
        )
    finally:
        admin_service.hash_password = real_hash
    return {username: password for username, (password, _) in STAFF.items()}


# SPEC §5: a ticket in JSON has at least these keys.
TICKET_KEYS = {
    "id",
    "number",
    "hall",
    "service",
    "status",
    "channel",
    "priority",
    "issued_at",
    "called_at",
    "started_at",
    "finished_at",
    "window",
    "position",
    "estimated_wait",
}


def make_app(db_url: str, clock: FrozenClock, **config: Any) -> Any:
    settings = {
        "TESTING": True,
        "DATABASE_URL": db_url,
        "SECRET_KEY": SECRET,
        "RATELIMIT_ENABLED": False,
        # Unhandled exceptions become 500 responses, as in production, so tests can see them.
        "PROPAGATE_EXCEPTIONS": False,
        **config,
    }
    return create_app(settings, clock=clock)


def set_hall(db: Database, **values: object) -> None:
    """Change hall ZMD's configuration (bumping its version, as an administrator would)."""
    with UnitOfWork(db) as uow:
        uow.conn.execute(
            update(HallRow)
            .where(HallRow.code == "ZMD")
            .values(config_version=HallRow.config_version + 1, **values)
        )
        uow.commit()


@dataclass
class Hall:
    """Short hands for the calls most tests make, through the HTTP test client."""

    client: FlaskClient
    auth: Callable[[str], dict[str, str]]
    _window_ids: dict[int, int] = field(default_factory=dict)

    def issue(
        self, service: str = "SOCIAL", channel: str = "app", priority: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"service": service, "channel": channel}
        if priority is not None:
            body["priority"] = priority
        # Kiosk tickets, and priority ones on any channel, come from the hall's kiosk.
        verified = channel == "kiosk" or priority not in (None, "none")
        headers = self.auth("kiosk") if verified else {}
        response = self.client.post(f"{API}/halls/ZMD/tickets", json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()  # type: ignore[no-any-return]

    def window_id(self, number: int) -> int:
        """The id of window ``number`` (ids are what the API takes; numbers are on the wall)."""
        if not self._window_ids:
            response = self.client.get(f"{API}/halls/ZMD/windows")
            assert response.status_code == 200
            self._window_ids.update({w["number"]: w["id"] for w in response.get_json()["windows"]})
        return self._window_ids[number]

    def window_post(self, number: int, action: str, user: str, **kw: Any) -> Any:
        return self.client.post(
            f"{API}/windows/{self.window_id(number)}/{action}", headers=self.auth(user), **kw
        )

    def ticket_post(self, ticket_id: str, action: str, user: str | None, **kw: Any) -> Any:
        headers = self.auth(user) if user else {}
        return self.client.post(f"{API}/tickets/{ticket_id}/{action}", headers=headers, **kw)

    def open(self, number: int, user: str) -> dict[str, Any]:
        response = self.window_post(number, "open", user)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()  # type: ignore[no-any-return]

    def call_next(self, number: int, user: str) -> dict[str, Any]:
        response = self.window_post(number, "call-next", user)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()  # type: ignore[no-any-return]

    def act(self, ticket_id: str, action: str, user: str, **kw: Any) -> dict[str, Any]:
        response = self.ticket_post(ticket_id, action, user, **kw)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()  # type: ignore[no-any-return]


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """A JSON error ``{"error", "message"}`` with this status (and error code)."""
    body_text = response.get_data(as_text=True)
    assert response.status_code == status, f"{response.status_code}: {body_text}"
    assert response.mimetype == "application/json", body_text
    body = response.get_json()
    assert isinstance(body, dict), body_text
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("message"), str) and body["message"], body
    if code is not None:
        assert body["error"] == code, body
    return body
