"""Who is asking: bearer tokens for API clients, the session for browser pages, and roles.

Tokens are signed (itsdangerous) and expire; every request re-reads the account, so disabling
a user takes effect at once. Every staff request that changes something is audited.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from apiflask import abort
from flask import current_app, g, request, session
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from queue_engine.adapters.staff_store import StaffUser, find_user
from queue_engine.domain.accounts import Role

from .state import hall_state

TOKEN_MAX_AGE = 12 * 3600
F = TypeVar("F", bound=Callable[..., Any])


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="hall-api-token")


def issue_token(user: StaffUser) -> str:
    return str(_serializer().dumps({"u": user.username, "r": str(user.role)}))


def _user_from_token(token: str) -> StaffUser | None:
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), str):
        return None
    return _load_user(data["u"])


def _load_user(username: str) -> StaffUser | None:
    with hall_state().reader() as conn:
        return find_user(conn, username)


def current_user() -> StaffUser | None:
    """The staff member behind this request (token first, then the page session), or None."""
    if "staff_user" in g:
        return g.staff_user  # type: ignore[no-any-return]
    user = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = _user_from_token(header[7:].strip())
    elif isinstance(session.get("username"), str) and not request.path.startswith("/api/"):
        # The API takes bearer tokens only: a browser's cookie can't be used cross-site there.
        user = _load_user(session["username"])
    g.staff_user = user
    return user


def require_roles(*roles: Role) -> Callable[[F], F]:
    """Only these roles (admin always passes); 401 without credentials, 403 with others."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                abort(401, "sign in first (Authorization: Bearer TOKEN)")
            if user.role is not Role.ADMIN and user.role not in roles:
                abort(403, f"this needs the role {' or '.join(roles)}")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
