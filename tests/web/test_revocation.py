"""Revocation: a password reset, a disable or a sign-out ends every credential of the account.

Each account carries a credential version; its tokens and page sessions carry the version they
were issued under and stop working once it changes. Signing out is a CSRF-protected POST (a
link or an image on another site cannot sign anybody out, and a GET never does), and page
sessions end after a working day or a long idle spell.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from tests.helpers.api import API, STAFF, Hall
from tests.helpers.pages import csrf_token, page_login

Auth = Callable[[str], dict[str, str]]
NEW_PASSWORD = "clerk10-new-2026!"


def copy_of(app: Any, browser: FlaskClient) -> FlaskClient:
    """Another client holding a copy of ``browser``'s session cookie (a stolen cookie)."""
    cookie = browser.get_cookie("session")
    assert cookie is not None
    thief: FlaskClient = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def signed_in(response: Any) -> bool:
    return response.status_code == 200 and "/login" not in response.headers.get("Location", "")


def page_token(client: FlaskClient) -> str | None:
    """The bearer token the clerk page hands its script, or None when it would not serve it."""
    response = client.get("/clerk")
    if response.status_code != 200:
        return None
    found = re.search(r'"token": ?"([^"]+)"', response.get_data(as_text=True))
    return found.group(1) if found else None


def test_a_password_reset_ends_the_old_token_and_every_copy_of_the_session(
    app: Any, client: FlaskClient, hall: Hall, auth: Auth
) -> None:
    browser = app.test_client()
    assert page_login(browser, "clerk10", STAFF["clerk10"][0]).status_code == 302
    thief = copy_of(app, browser)
    assert page_token(thief) is not None
    old = {"Authorization": f"Bearer {page_token(browser)}"}
    window = hall.window_id(10)
    assert client.get(f"{API}/windows/{window}", headers=old).status_code == 200

    reset = client.post(
        f"{API}/admin/users/clerk10/password",
        json={"password": NEW_PASSWORD},
        headers=auth("admin"),
    )
    assert reset.status_code == 204, reset.get_data(as_text=True)

    assert client.get(f"{API}/windows/{window}", headers=old).status_code == 401
    for session in (browser, thief):
        landed = session.get("/clerk")
        assert landed.status_code == 302 and "/login" in landed.headers["Location"]
        assert page_token(session) is None  # no fresh 12 h token from a revoked session
    # The new password starts a new session, with a token that works.
    fresh = app.test_client()
    assert page_login(fresh, "clerk10", NEW_PASSWORD).status_code == 302
    new = {"Authorization": f"Bearer {page_token(fresh)}"}
    assert client.get(f"{API}/windows/{window}", headers=new).status_code == 200


def test_tokens_keep_working_for_their_own_account_when_another_is_reset(
    client: FlaskClient, hall: Hall, auth: Auth
) -> None:
    window = hall.window_id(11)
    assert client.get(f"{API}/windows/{window}", headers=auth("clerk11")).status_code == 200
    reset = client.post(
        f"{API}/admin/users/clerk10/password",
        json={"password": NEW_PASSWORD},
        headers=auth("admin"),
    )
    assert reset.status_code == 204
    assert client.get(f"{API}/windows/{window}", headers=auth("clerk11")).status_code == 200


def test_signing_out_is_a_csrf_protected_post_that_ends_every_copy(
    app: Any, client: FlaskClient, hall: Hall
) -> None:
    browser = app.test_client()
    assert page_login(browser, "clerk10", STAFF["clerk10"][0]).status_code == 302
    thief = copy_of(app, browser)
    token = {"Authorization": f"Bearer {page_token(browser)}"}
    window = hall.window_id(10)

    # A GET (a link, an <img> on another site) never signs out: it asks to confirm.
    confirm = browser.get("/logout")
    assert confirm.status_code in (200, 405)
    if confirm.status_code == 200:
        assert 'method="post"' in confirm.get_data(as_text=True)
    assert signed_in(browser.get("/clerk"))
    # A POST without the form's CSRF token (a cross-site form) does not either.
    browser.post("/logout")
    assert signed_in(browser.get("/clerk"))

    landing = browser.get("/")
    assert 'href="/logout"' not in landing.get_data(as_text=True)
    out = browser.post("/logout", data={"csrf_token": csrf_token(landing)})
    assert out.status_code == 302 and "/login" in out.headers["Location"]

    for session in (browser, thief):
        landed = session.get("/clerk")
        assert landed.status_code == 302 and "/login" in landed.headers["Location"]
    assert client.get(f"{API}/windows/{window}", headers=token).status_code == 401


def test_disabling_an_account_ends_its_page_sessions(
    app: Any, client: FlaskClient, auth: Auth
) -> None:
    browser = app.test_client()
    assert page_login(browser, "clerk10", STAFF["clerk10"][0]).status_code == 302
    thief = copy_of(app, browser)
    off = client.patch(f"{API}/admin/users/clerk10", json={"active": False}, headers=auth("admin"))
    assert off.status_code == 200
    on = client.patch(f"{API}/admin/users/clerk10", json={"active": True}, headers=auth("admin"))
    assert on.status_code == 200
    # Enabled again, the account starts afresh: the sessions from before stay ended.
    for session in (browser, thief):
        landed = session.get("/clerk")
        assert landed.status_code == 302 and "/login" in landed.headers["Location"]


def test_page_sessions_last_a_working_day_and_end_when_idle(app: Any) -> None:
    lifetime = app.permanent_session_lifetime
    assert timedelta(minutes=30) <= lifetime <= timedelta(hours=12)
    assert 8 <= app.config["HALL_SESSION_HOURS"] <= 12
    browser = app.test_client()
    signed = page_login(browser, "clerk10", STAFF["clerk10"][0])
    assert "Expires=" in signed.headers["Set-Cookie"]  # a permanent (idle-limited) cookie
    assert signed_in(browser.get("/clerk"))
    with browser.session_transaction() as session:
        session["since"] = time.time() - (app.config["HALL_SESSION_HOURS"] * 3600 + 60)
    landed = browser.get("/clerk")
    assert landed.status_code == 302 and "/login" in landed.headers["Location"]
