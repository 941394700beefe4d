"""Who is asking: bearer tokens for API clients, the session for browser pages, and roles.

Tokens are signed (itsdangerous) and expire; every request re-reads the account, so disabling
a user takes effect at once. Every staff request that changes something is audited.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import flask
from apiflask import abort as api_abort
from flask import current_app, g, redirect, request, session, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from queue_engine.domain.access import Actor, Role, has_role, in_hall

from .state import hall_services

TOKEN_MAX_AGE = 12 * 3600
F = TypeVar("F", bound=Callable[..., Any])


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="hall-api-token")


def issue_token(user: Actor) -> str:
    return str(_serializer().dumps({"u": user.username, "r": str(user.role)}))


def user_from_token(token: str) -> Actor | None:
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), str):
        return None
    return _load_user(data["u"])


def _load_user(username: str) -> Actor | None:
    return hall_services().accounts.find(username)


def current_user() -> Actor | None:
    """The staff member behind this request (token first, then the page session), or None."""
    if "staff_user" in g:
        return g.staff_user  # type: ignore[no-any-return]
    user = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = user_from_token(header[7:].strip())
    elif isinstance(session.get("username"), str) and not request.path.startswith("/api/"):
        # The API takes bearer tokens only: a browser's cookie can't be used cross-site there.
        user = _load_user(session["username"])
    g.staff_user = user
    return user


def require_roles(*roles: Role) -> Callable[[F], F]:
    """The one role check of every view: these roles only (an administrator has every role).

    Without credentials an API call gets 401 and a page sends the browser to the sign-in form;
    with the wrong role both get 403.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if _is_api():
                    api_abort(401, "sign in first (Authorization: Bearer TOKEN)")
                return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
            if not has_role(user, *roles):
                refuse(f"this needs the role {' or '.join(roles)}")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def signed_in_user() -> Actor:
    """The user of a view behind ``require_roles``."""
    user = current_user()
    assert user is not None
    return user


def require_hall(hall: str) -> None:
    """An unknown hall is a 404 for everybody; staff of another hall get a 403.

    Public callers (no credentials) pass: what they may see of a hall is decided by the view.
    """
    hall_services().engine.config_for(hall)
    user = current_user()
    if user is not None and not in_hall(user, hall):
        refuse(f"your account belongs to hall {user.hall}, not {hall}")


def refuse(message: str) -> None:
    """403: a JSON error for the API, the error page for a page."""
    if _is_api():
        api_abort(403, message)
    flask.abort(403)


def _is_api() -> bool:
    return request.path.startswith("/api/")
