"""Browser pages through Flask's test client: the login form with its CSRF token."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: Any) -> str:
    """The CSRF token of the first form on ``page`` (a response)."""
    found = CSRF.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)[:500]
    return found.group(1)


def page_login(client: FlaskClient, username: str, password: str, **kw: Any) -> Any:
    """Sign in through the login form, with its CSRF token, as a browser does."""
    token = csrf_token(client.get("/login", **kw))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, **kw
    )
