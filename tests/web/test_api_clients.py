"""API clients (issue 20): OAuth 2.0 client credentials, scopes, rotation and revocation,
quotas per client and per citizen instead of per address, and the ``hall client`` CLI."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from queue_engine.adapters.orm import ApiClientRow, AuditRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, assert_error, make_app
from tests.helpers.people import id_number, phone

Auth = Callable[[str], dict[str, str]]
TODAY = "2026-11-26"


def add_client(client: FlaskClient, auth: Auth, **body: Any) -> dict[str, Any]:
    body = {"name": "城市APP", "scopes": ["book", "tickets:remote", "queues:read"], **body}
    response = client.post(f"{API}/admin/clients", json=body, headers=auth("admin"))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def client_token(client: FlaskClient, registered: dict[str, Any], scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials"}
    if scope is not None:
        form["scope"] = scope
    response = client.post(
        f"{API}/auth/token",
        data=form,
        headers=basic(registered["client_id"], registered["client_secret"]),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_oauth_error(response: Any, status: int, code: str) -> dict[str, Any]:
    body = assert_error(response, status, code)  # RFC 6749 error, with the house's message
    assert "error_description" in body
    return body


def test_client_credentials_by_basic_form_and_json_give_a_short_lived_bearer_token(
    client: FlaskClient, auth: Auth, db: Database
) -> None:
    registered = add_client(client, auth)
    assert registered["client_id"].startswith("hc_") and len(registered["client_secret"]) >= 40
    with UnitOfWork(db, write=False) as uow:
        stored = uow.conn.scalar(select(ApiClientRow.secret_hash))
    assert stored is not None and registered["client_secret"] not in stored  # hashed
    by_basic = client.post(
        f"{API}/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(registered["client_id"], registered["client_secret"]),
    )
    assert by_basic.status_code == 200, by_basic.get_data(as_text=True)
    body = by_basic.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["scope"] == "book tickets:remote queues:read"
    assert by_basic.headers["Cache-Control"] == "no-store"
    pair = {"client_id": registered["client_id"], "client_secret": registered["client_secret"]}
    by_form = client.post(
        f"{API}/auth/token", data={"grant_type": "client_credentials", "scope": "book", **pair}
    )
    assert by_form.status_code == 200 and by_form.get_json()["scope"] == "book"
    by_json = client.post(f"{API}/auth/token", json={"grant_type": "client_credentials", **pair})
    assert by_json.status_code == 200, by_json.get_data(as_text=True)
    # The list never shows a secret.
    listed = client.get(f"{API}/admin/clients", headers=auth("supervisor")).get_json()
    assert registered["client_secret"] not in json.dumps(listed)
    assert [(c["name"], c["halls"]) for c in listed["clients"]] == [("城市APP", ["ZMD"])]


def test_wrong_secret_unknown_client_bad_scope_and_grant_are_rfc6749_errors(
    client: FlaskClient, auth: Auth
) -> None:
    registered = add_client(client, auth)
    wrong = client.post(
        f"{API}/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(registered["client_id"], "not-the-secret"),
    )
    assert_oauth_error(wrong, 401, "invalid_client")
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    unknown = client.post(
        f"{API}/auth/token",
        data={"grant_type": "client_credentials", "client_id": "hc_nobody", "client_secret": "x"},
    )
    assert_oauth_error(unknown, 401, "invalid_client")
    not_given = client.post(
        f"{API}/auth/token",
        data={"grant_type": "client_credentials", "scope": "cases:link"},
        headers=basic(registered["client_id"], registered["client_secret"]),
    )
    assert_oauth_error(not_given, 400, "invalid_scope")
    made_up = client.post(
        f"{API}/auth/token",
        data={"grant_type": "client_credentials", "scope": "admin"},
        headers=basic(registered["client_id"], registered["client_secret"]),
    )
    assert_oauth_error(made_up, 400, "invalid_scope")
    grant = client.post(
        f"{API}/auth/token",
        data={"grant_type": "password"},
        headers=basic(registered["client_id"], registered["client_secret"]),
    )
    assert_oauth_error(grant, 400, "unsupported_grant_type")
    # The staff sign-in is unchanged beside it.
    staff = client.post(f"{API}/auth/token", json={"username": "admin", "password": "x"})
    assert_error(staff, 401)


def test_a_rotated_or_revoked_client_and_an_expired_token_are_refused(
    client: FlaskClient, auth: Auth, clock: FrozenClock, db: Database
) -> None:
    registered = add_client(client, auth, scopes=["cases:link", "events:subscribe"])
    token = client_token(client, registered)
    assert client.get(f"{API}/webhooks", headers=bearer(token)).status_code == 200
    rotated = client.post(
        f"{API}/admin/clients/{registered['client_id']}/rotate", headers=auth("admin")
    ).get_json()
    assert rotated["client_secret"] != registered["client_secret"]
    assert_error(client.get(f"{API}/webhooks", headers=bearer(token)), 401)  # old token
    old = client.post(
        f"{API}/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(registered["client_id"], registered["client_secret"]),
    )
    assert_oauth_error(old, 401, "invalid_client")
    fresh = client_token(client, {**registered, "client_secret": rotated["client_secret"]})
    assert client.get(f"{API}/webhooks", headers=bearer(fresh)).status_code == 200
    revoked = client.post(
        f"{API}/admin/clients/{registered['client_id']}/revoke", headers=auth("admin")
    )
    assert revoked.status_code == 200 and revoked.get_json()["active"] is False
    assert_error(client.get(f"{API}/webhooks", headers=bearer(fresh)), 401)
    again = client.post(
        f"{API}/auth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(registered["client_id"], rotated["client_secret"]),
    )
    assert_oauth_error(again, 401, "invalid_client")
    with UnitOfWork(db, write=False) as uow:
        actions = list(uow.conn.scalars(select(AuditRow.action).where(AuditRow.actor == "admin")))
    assert {"admin_api.add_client", "admin_api.rotate_client", "admin_api.revoke_client"} <= set(
        actions
    )


def test_an_expired_token_is_refused(
    app_env: None, db_url: str, clock: FrozenClock, staff: Any, monkeypatch: Any
) -> None:
    import itsdangerous.timed

    app = make_app(db_url, clock, HALL_CLIENT_TOKEN_SECONDS=60)
    try:
        http = app.test_client()
        with app.test_request_context():
            from hall_app.state import hall_services

            registered_client, secret = hall_services().clients.add("热线", ["events:subscribe"])
        registered = {"client_id": registered_client.client_id, "client_secret": secret}
        token = client_token(http, registered)
        assert http.get(f"{API}/webhooks", headers=bearer(token)).status_code == 200
        real = itsdangerous.timed.time.time
        monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() + 61)
        assert_error(http.get(f"{API}/webhooks", headers=bearer(token)), 401)
    finally:
        app.extensions["hall"].db.dispose()


def test_a_missing_scope_or_hall_is_403_insufficient_scope(client: FlaskClient, auth: Auth) -> None:
    registered = add_client(client, auth, scopes=["queues:read"])
    token = client_token(client, registered)
    assert_error(client.get(f"{API}/webhooks", headers=bearer(token)), 403, "insufficient_scope")
    booking = {
        "service": "SOCIAL",
        "date": TODAY,
        "start": "15:00",
        "name": "张三",
        "phone": phone(1),
        "id_number": id_number(1),
    }
    refused = client.post(f"{API}/halls/ZMD/appointments", json=booking, headers=bearer(token))
    body = assert_error(refused, 403, "insufficient_scope")
    assert body["scope"] == "book"
    ticket = client.post(
        f"{API}/halls/ZMD/tickets", json={"service": "SOCIAL", "channel": "app"},
        headers=bearer(token),
    )  # fmt: skip
    assert_error(ticket, 403, "insufficient_scope")
    # The hall's administrator registers clients of the hall alone.
    elsewhere = client.post(
        f"{API}/admin/clients", json={"name": "别处", "scopes": ["book"], "halls": ["XYZ"]},
        headers=auth("admin"),
    )  # fmt: skip
    assert_error(elsewhere, 403)
    assert_error(
        client.post(f"{API}/admin/clients", json={"name": "x", "scopes": ["root"]},
                    headers=auth("admin")),
        422,
    )  # fmt: skip
    assert_error(client.post(f"{API}/admin/clients", json={}, headers=auth("supervisor")), 403)
    assert_error(client.get(f"{API}/webhooks", headers=auth("clerk10")), 401)  # staff: no client


def _limited(db_url: str, clock: FrozenClock, **config: Any) -> Any:
    return make_app(db_url, clock, RATELIMIT_ENABLED=True, **config)


def _book(http: FlaskClient, n: int, token: str | None, **overrides: Any) -> Any:
    body = {
        "service": "SOCIAL",
        "date": TODAY,
        "start": "15:00",
        "name": "张三",
        "phone": phone(n),
        "id_number": id_number(n),
        **overrides,
    }
    headers = bearer(token) if token else {}
    return http.post(f"{API}/halls/ZMD/appointments", json=body, headers=headers)


def _roomy_slots(app: Any) -> None:
    with app.test_request_context():
        from hall_app.state import hall_services

        desk = hall_services().appointments
        desk.save_settings("ZMD", desk.settings("ZMD").with_service("SOCIAL", 30, 1000))


def test_a_client_books_500_in_a_minute_for_different_citizens_but_one_citizen_only_5(
    app_env: None, db_url: str, clock: FrozenClock, staff: Any, db: Database
) -> None:
    app = _limited(db_url, clock)
    try:
        http = app.test_client()
        _roomy_slots(app)
        with app.test_request_context():
            from hall_app.state import hall_services

            added, secret = hall_services().clients.add("城市APP", ["book"], ["ZMD"])
        token = client_token(http, {"client_id": added.client_id, "client_secret": secret})
        statuses = [_book(http, n, token).status_code for n in range(500)]
        assert statuses == [201] * 500, {s: statuses.count(s) for s in set(statuses)}
        # One citizen (one phone) through the same client: 5 an hour, then 429.
        same = [
            _book(http, 900, token, id_number=id_number(500 + n)).status_code for n in range(10)
        ]
        assert 429 in same and same.index(429) <= 5, same
        # Without a client, one address is still limited per address (20 a minute).
        anonymous = [_book(http, 600 + n, None).status_code for n in range(21)]
        assert anonymous[-1] == 429 and anonymous[:20].count(429) == 0, anonymous
    finally:
        app.extensions["hall"].db.dispose()


def test_each_client_has_its_own_quota(
    app_env: None, db_url: str, clock: FrozenClock, staff: Any
) -> None:
    app = _limited(db_url, clock)
    try:
        http = app.test_client()
        _roomy_slots(app)
        with app.test_request_context():
            from hall_app.state import hall_services

            small, small_secret = hall_services().clients.add(
                "小程序", ["book"], quotas={"book": "10 per minute"}
            )
            big, big_secret = hall_services().clients.add("城市APP", ["book"])
        small_token = client_token(
            http, {"client_id": small.client_id, "client_secret": small_secret}
        )
        big_token = client_token(http, {"client_id": big.client_id, "client_secret": big_secret})
        statuses = [_book(http, n, small_token).status_code for n in range(11)]
        assert statuses[:10] == [201] * 10 and statuses[10] == 429, statuses
        assert _book(http, 50, big_token).status_code == 201  # the other client's own quota
    finally:
        app.extensions["hall"].db.dispose()


def test_the_cli_adds_lists_rotates_and_revokes_clients(
    app_env: None, db_url: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hall_app.integrations_cli import client as client_cli

    monkeypatch.setenv("HALL_DATABASE_URL", db_url)
    runner = CliRunner()
    added = runner.invoke(
        client_cli, ["add", "--name", "一窗受理", "--scopes", "cases:link,events:subscribe",
                     "--hall", "ZMD", "--quota", "cases:link=100 per minute"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    made = json.loads(added.output)
    assert made["scopes"] == ["events:subscribe", "cases:link"] and made["halls"] == ["ZMD"]
    assert made["client_secret"]
    listed = runner.invoke(client_cli, ["list"])
    assert made["client_id"] in listed.output and made["client_secret"] not in listed.output
    rotated = runner.invoke(client_cli, ["rotate", made["client_id"]])
    assert (
        rotated.exit_code == 0
        and json.loads(rotated.output)["client_secret"] != made["client_secret"]
    )
    revoked = runner.invoke(client_cli, ["revoke", made["client_id"]])
    assert revoked.exit_code == 0 and json.loads(revoked.output)["revoked_at"]
    bad = runner.invoke(client_cli, ["add", "--name", "x", "--scopes", "everything"])
    assert bad.exit_code != 0 and "unknown scope" in bad.output
    with UnitOfWork(db, write=False) as uow:
        actions = set(uow.conn.scalars(select(AuditRow.action).where(AuditRow.actor == "cli")))
    assert {"client.add", "client.rotate", "client.revoke"} <= actions
