"""Who is asking: bearer tokens for API clients, the session for browser pages, and roles.

Tokens are signed (itsdangerous) and expire; every request re-reads the account, so disabling
a user takes effect at once. Tokens and page sessions carry the account's credential version
(``AccountDesk.credential``): a password reset, a disable or a sign-out changes it, and every
token and session issued before stops working. Page sessions last a working day at most
(``HALL_SESSION_HOURS``) and end after an idle spell (``PERMANENT_SESSION_LIFETIME``: Flask
refuses a cookie signed longer ago than that, and re-signs it on every request). Every staff
request that changes something is audited.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import flask
from apiflask import APIFlask
from apiflask import abort as api_abort
from flask import Response, current_app, g, redirect, request, session, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from queue_engine.domain.access import Actor, AuditEntry, Role, acting_clerk, has_role, in_hall
from queue_engine.domain.errors import InvalidInput

from .errors import error_response
from .login_limits import Refusal, SignInLimits
from .state import hall_services

TOKEN_MAX_AGE = 12 * 3600
F = TypeVar("F", bound=Callable[..., Any])
OVERRIDE_HEADER = "X-Hall-Override"
# The staff operations at a window or at its ticket that the override applies to (all but
# opening a window: whoever opens it is its clerk).
OVERRIDABLE = re.compile(r"^/api/v1/(windows/\{window_id\}|tickets/\{ticket_id\})/(?!open$)[^/]+$")
OVERRIDE_DOC = {
    "name": OVERRIDE_HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "boolean", "default": False},
    "description": "An administrator of the window's hall acting at a window another clerk "
    "opened must say so with `true`; the audit record then names the override. Without it "
    "the administrator is refused (403) there like any other account.",
}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="hall-api-token")


def issue_token(user: Actor) -> str:
    """A bearer token of ``user``, good until it expires or the account's version changes."""
    return str(_serializer().dumps({"u": user.username, "r": str(user.role), "v": _version(user)}))


def user_from_token(token: str) -> Actor | None:
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), str):
        return None
    return _badge(data["u"], data.get("v", 0))


def _badge(username: str, version: object) -> Actor | None:
    """The account, if a credential of ``version`` is still good for it.

    A credential without a version (issued before versions existed) counts as version 0, the
    column's first value: the first reset, disable or sign-out of the account ends it too.
    """
    if type(version) is not int:
        return None
    user = hall_services().accounts.badge(username, version)
    if user is not None:
        g.staff_version = (username, version)
    return user


def _version(user: Actor) -> int:
    """The current credential version of ``user`` (-1, which nothing carries, if it is gone)."""
    known = g.get("staff_version")
    if known is not None and known[0] == user.username:
        return int(known[1])
    found = hall_services().accounts.credential(user.username)
    return found[1] if found is not None else -1


class SignInRefused(Exception):
    """A sign-in not even tried: the account is locked, or the address failed too often."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "account_locked": "too many failed sign-ins: this account is locked; try again in {s} s",
        "too_many_failures": "too many failed sign-ins from this address; try again in {s} s",
    }

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.code)
        self.refusal = refusal

    def response(self) -> Response:
        """429 JSON ``{error, message, retry_after}`` with a ``Retry-After`` header."""
        wait = self.refusal.retry_after
        message = self.MESSAGES[self.refusal.code].format(s=wait)
        response = error_response(429, self.refusal.code, message, retry_after=wait)
        response.headers["Retry-After"] = str(wait)
        return response


def sign_in(username: str, password: str) -> Actor | None:
    """The account if the password is right, else None; ``SignInRefused`` while locked out.

    The one way in for the API token endpoint and the page login alike: failures are counted
    per account and per address (``login_limits``), successes never.
    """
    limits: SignInLimits = current_app.extensions["hall_sign_in"]
    address = request.remote_addr or ""
    refusal = limits.check(username, address)
    if refusal is not None:
        raise SignInRefused(refusal)
    user = hall_services().accounts.authenticate(username, password)
    if user is None:
        lock = limits.failed(username, address)
        if lock is not None:
            entry = AuditEntry(username[:64], "", "login.locked", "", address)
            detail = {"seconds": lock.retry_after, "via": "api" if _is_api() else "page"}
            hall_services().accounts.record(entry, detail)
        return None
    limits.succeeded(username)
    return user


def acting_clerk_at(hall_of: Callable[[], str]) -> str | None:
    """Whose window an action at a window (or at its ticket) must be: ``access.acting_clerk``.

    Everybody acts as themselves, and the engine lets them act only where they opened the
    window. An administrator of the window's hall (``hall_of()``) who says so with
    ``X-Hall-Override: true`` acts at any window of it instead, and the request's audit record
    names the override (action ``<endpoint>:override``).
    """
    user = signed_in_user()
    if not _override_asked():
        return user.username
    if not user.is_admin:
        refuse(f"only an administrator may act at another clerk's window ({OVERRIDE_HEADER})")
    require_hall(hall_of())
    entry: AuditEntry | None = g.get("audit_entry")
    if entry is not None and not entry.action.endswith(":override"):
        entry.action = f"{entry.action}:override"
    return acting_clerk(user)


def _override_asked() -> bool:
    value = request.headers.get(OVERRIDE_HEADER, "").strip().lower()
    if value in ("", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise InvalidInput(f"{OVERRIDE_HEADER} is true or false")


def _document_override(spec: dict[Any, Any] | str) -> dict[Any, Any] | str:
    if isinstance(spec, str):  # SPEC_FORMAT yaml: not ours
        return spec
    for path, operations in spec.get("paths", {}).items():
        operation = operations.get("post")
        if operation and operation.get("security") and OVERRIDABLE.match(path):
            operation.setdefault("parameters", []).append(OVERRIDE_DOC)
    return spec


def init_auth(app: APIFlask) -> None:
    """The sign-in counters of this app, the JSON answer of a refused API sign-in, and the
    override header in the OpenAPI document."""
    app.extensions["hall_sign_in"] = SignInLimits.from_config(app.config)
    app.register_error_handler(SignInRefused, lambda error: error.response())
    app.spec_processor(_document_override)


def start_session(user: Actor) -> None:
    """Sign ``user`` in on this browser: a fresh session cut for the account's current version."""
    version = _version(user)
    session.clear()
    session.permanent = True  # its cookie expires after the idle spell, renewed by each request
    session["username"] = user.username
    session["cv"] = version
    session["since"] = int(time.time())


def end_session(user: Actor | None, entry: AuditEntry) -> None:
    """Sign out: every token and session of the account ends (on every device), audited."""
    if user is not None:
        hall_services().accounts.revoke(user.username, entry)
    session.clear()


def _session_user() -> Actor | None:
    username = session.get("username")
    if not isinstance(username, str):
        return None
    since = session.get("since")
    hours = current_app.config.get("HALL_SESSION_HOURS", 10)
    if isinstance(since, int | float) and time.time() - since > hours * 3600:
        session.clear()  # a working day is over: sign in again
        return None
    user = _badge(username, session.get("cv", 0))
    if user is None:
        session.clear()  # revoked or disabled: the browser drops the dead cookie
    return user


def current_user() -> Actor | None:
    """The staff member behind this request (token first, then the page session), or None."""
    if "staff_user" in g:
        return g.staff_user  # type: ignore[no-any-return]
    user = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = user_from_token(header[7:].strip())
    elif not request.path.startswith("/api/"):
        # The API takes bearer tokens only: a browser's cookie can't be used cross-site there.
        user = _session_user()
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
