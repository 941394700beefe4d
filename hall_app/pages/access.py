"""Who may open a staff page: the session's user, its role, and its hall."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, redirect, request, url_for

from queue_engine.adapters.staff_store import StaffUser
from queue_engine.domain.accounts import Role

from ..admin.devices import evaluator_window
from ..auth import current_user
from .halls import first_hall

F = TypeVar("F", bound=Callable[..., Any])


def staff_page(*roles: Role) -> Callable[[F], F]:
    """Signed-in staff of these roles only (admin always passes); others go to the login page."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
            if user.role is not Role.ADMIN and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def signed_in_user() -> StaffUser:
    """The user of a view behind ``staff_page``."""
    user = current_user()
    assert user is not None
    return user


def require_hall(user: StaffUser, hall: str) -> None:
    """Staff bound to a hall act only in that hall; admins anywhere."""
    if user.role is not Role.ADMIN and user.hall is not None and user.hall != hall:
        abort(403)


def home_hall(user: StaffUser) -> str:
    """The hall a user works in: their own, or (admins, unbound users) the first one."""
    if user.hall is not None:
        return user.hall
    code = first_hall()
    if code is None:
        abort(404)
    return code


def safe_next(target: str | None) -> str | None:
    """A redirect target only if it stays on this site (a path, not ``//host`` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


def home_page(user: StaffUser) -> str:
    """Where a user lands after signing in."""
    if user.role is Role.CLERK:
        return url_for("pages.clerk_windows")
    if user.role is Role.KIOSK:
        window = evaluator_window(user)
        if window is not None:
            return url_for("pages.evaluator", window_id=window)
        return url_for("pages.kiosk", hall=home_hall(user))
    if user.role is Role.SUPERVISOR:
        return url_for("supervisor.dashboard", hall=home_hall(user))
    if user.role is Role.ADMIN:
        return url_for("admin_pages.index")
    return url_for("pages.landing")
