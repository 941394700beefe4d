"""Sign-in limits that fit a hall: failures are counted, per account and per address, never
successes — for the API token endpoint and the page login alike.

At 08:30 forty clerks sign in from the hall's one NAT address within a minute, and all get in;
eleven wrong passwords for one account lock it (for a time that grows with each lock), and
while it is locked even the right password waits, with a clear error.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from sqlalchemy import insert, select

from queue_engine.adapters.orm import AuditRow, HallRow, UserRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.accounts import hash_password
from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, STAFF, assert_error, make_app
from tests.helpers.pages import page_login
from tests.helpers.services import unavailable

PASSWORD = "zmd-clerk-2026"
CLERKS = [f"clerk{n:02d}" for n in range(30, 70)]  # forty, none of them in STAFF
REDIS_URL = os.environ.get("HALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def forty_clerks(db: Database, clock: FrozenClock) -> list[str]:
    """Forty more clerks of hall ZMD, all with PASSWORD (hashed once)."""
    password_hash = hash_password(PASSWORD)
    with UnitOfWork(db) as uow:
        hall_id = uow.conn.scalar(select(HallRow.id).where(HallRow.code == "ZMD"))
        rows = [
            {
                "username": name,
                "password_hash": password_hash,
                "role": "clerk",
                "hall_id": hall_id,
                "display_name": name,
                "active": True,
                "created_at": clock.now(),
            }
            for name in CLERKS
        ]
        uow.conn.execute(insert(UserRow), rows)
        uow.commit()
    return CLERKS


def limited_app(db_url: str, clock: FrozenClock, **config: Any) -> Any:
    return make_app(db_url, clock, RATELIMIT_ENABLED=True, **config)


@pytest.fixture
def limited(
    app_env: None, db_url: str, db: Database, clock: FrozenClock, staff: Any, forty_clerks: Any
) -> Iterator[Any]:
    """The app with its limits on (the other web tests switch them off)."""
    app = limited_app(db_url, clock)
    yield app
    app.extensions["hall"].db.dispose()


def sign_in(client: FlaskClient, username: str, password: str, addr: str = "10.0.0.1") -> Any:
    return client.post(
        f"{API}/auth/token",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": addr},
    )


def page_sign_in(app: Any, username: str, password: str, addr: str = "10.0.0.1") -> Any:
    return page_login(app.test_client(), username, password, environ_base={"REMOTE_ADDR": addr})


def test_forty_clerks_sign_in_from_one_address_within_a_minute(
    limited: Any, forty_clerks: list[str]
) -> None:
    client = limited.test_client()
    for name in forty_clerks:
        response = sign_in(client, name, PASSWORD)
        assert response.status_code == 200, (name, response.get_json())
    for name in forty_clerks:
        response = page_sign_in(limited, name, PASSWORD)
        assert response.status_code == 302, (name, response.get_data(as_text=True)[:300])
        assert "/clerk" in response.headers["Location"]


def test_eleven_wrong_passwords_lock_the_account_and_even_the_right_one_waits(
    limited: Any, db: Database
) -> None:
    client = limited.test_client()
    statuses = [sign_in(client, "clerk10", "not-the-password-1").status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429, statuses

    locked = sign_in(client, "clerk10", STAFF["clerk10"][0])
    body = assert_error(locked, 429, "account_locked")
    assert 0 < body["retry_after"] <= 60
    assert int(locked.headers["Retry-After"]) == body["retry_after"]
    assert "locked" in body["message"]
    # From another address too: the lock is the account's.
    assert_error(sign_in(client, "clerk10", STAFF["clerk10"][0], addr="10.9.9.9"), 429)
    page = page_sign_in(limited, "clerk10", STAFF["clerk10"][0])
    assert page.status_code == 429 and "锁定" in page.get_data(as_text=True)
    assert page.headers["Retry-After"]
    # Colleagues at the same address are not affected.
    assert sign_in(client, "clerk11", STAFF["clerk11"][0]).status_code == 200
    assert page_sign_in(limited, "clerk12", STAFF["clerk12"][0]).status_code == 302
    with UnitOfWork(db) as uow:
        actions = uow.conn.scalars(select(AuditRow.action).where(AuditRow.actor == "clerk10"))
        assert "login.locked" in list(actions)


def test_successes_never_count_and_a_success_forgets_the_failures(limited: Any) -> None:
    client = limited.test_client()
    right = STAFF["clerk10"][0]
    for _ in range(15):
        assert sign_in(client, "clerk10", right).status_code == 200
    for _ in range(2):
        for _ in range(9):
            assert sign_in(client, "clerk10", "typo-in-the-password").status_code == 401
        assert sign_in(client, "clerk10", right).status_code == 200


def test_an_address_is_throttled_on_its_failures_only(
    app_env: None, db_url: str, db: Database, clock: FrozenClock, staff: Any, forty_clerks: Any
) -> None:
    app = limited_app(db_url, clock, HALL_RATE_LIMITS={"login": "5 per minute"})
    try:
        client = app.test_client()
        for name in forty_clerks[:20]:  # successes: never counted
            assert sign_in(client, name, PASSWORD).status_code == 200
        for name in forty_clerks[20:25]:  # a password sprayed over five accounts
            assert sign_in(client, name, "Spring2026!").status_code == 401
        throttled = sign_in(client, forty_clerks[25], PASSWORD)
        body = assert_error(throttled, 429, "too_many_failures")
        assert int(throttled.headers["Retry-After"]) == body["retry_after"] > 0
        page = page_sign_in(app, forty_clerks[26], PASSWORD)
        assert page.status_code == 429 and "登录失败次数过多" in page.get_data(as_text=True)
        # Another address signs in; other endpoints are not throttled.
        assert sign_in(client, forty_clerks[25], PASSWORD, addr="10.0.0.7").status_code == 200
        assert client.get(f"{API}/halls/ZMD/services").status_code == 200
    finally:
        app.extensions["hall"].db.dispose()


def test_each_further_lock_lasts_longer(
    app_env: None, db_url: str, db: Database, clock: FrozenClock, staff: Any
) -> None:
    app = limited_app(db_url, clock, HALL_LOGIN_LOCK_AFTER=3, HALL_LOGIN_LOCK_SECONDS=1)
    try:
        client = app.test_client()
        waits = []
        for _ in range(2):
            for _ in range(3):
                assert sign_in(client, "clerk10", "wrong-password-0").status_code == 401
            locked = assert_error(sign_in(client, "clerk10", STAFF["clerk10"][0]), 429)
            waits.append(locked["retry_after"])
            time.sleep(locked["retry_after"] + 0.2)
        assert waits == [1, 2], waits
        assert sign_in(client, "clerk10", STAFF["clerk10"][0]).status_code == 200
    finally:
        app.extensions["hall"].db.dispose()


def test_every_process_sees_the_counters_through_redis(
    app_env: None, db_url: str, db: Database, clock: FrozenClock, staff: Any
) -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except (redis.RedisError, OSError):
        unavailable(f"Redis at {REDIS_URL}")
    shared = {"RATELIMIT_STORAGE_URI": REDIS_URL, "HALL_LOGIN_KEY_PREFIX": uuid.uuid4().hex}
    first, second = limited_app(db_url, clock, **shared), limited_app(db_url, clock, **shared)
    try:
        for _ in range(10):
            assert sign_in(first.test_client(), "clerk10", "wrong-password-0").status_code == 401
        assert_error(
            sign_in(second.test_client(), "clerk10", STAFF["clerk10"][0]), 429, "account_locked"
        )
    finally:
        first.extensions["hall"].db.dispose()
        second.extensions["hall"].db.dispose()


def test_sign_in_works_and_still_counts_while_redis_is_down(
    app_env: None, db_url: str, db: Database, clock: FrozenClock, staff: Any
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    app = limited_app(db_url, clock, RATELIMIT_STORAGE_URI=dead)
    try:
        client = app.test_client()
        assert sign_in(client, "clerk11", STAFF["clerk11"][0]).status_code == 200
        for _ in range(10):
            assert sign_in(client, "clerk10", "wrong-password-0").status_code == 401
        assert_error(sign_in(client, "clerk10", STAFF["clerk10"][0]), 429, "account_locked")
    finally:
        app.extensions["hall"].db.dispose()
