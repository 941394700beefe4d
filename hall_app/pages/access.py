"""Where a signed-in member of staff belongs: their hall and their landing page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, url_for

from queue_engine.domain.access import Actor, Role

from ..devices import evaluator_window
from .halls import first_hall

F = TypeVar("F", bound=Callable[..., Any])


def home_hall(user: Actor) -> str:
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


def home_page(user: Actor) -> str:
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
