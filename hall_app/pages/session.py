"""Staff sign-in and sign-out for the browser pages (the API uses bearer tokens instead)."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from queue_engine.domain.access import Actor, AuditEntry

from ..auth import current_user
from ..extensions import configured_limit, limiter
from ..state import hall_services
from .access import home_page, safe_next
from .blueprint import pages

MAX_USERNAME = 64
MAX_PASSWORD = 256


def login_form(error: str = "", status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "pages/login.html",
            error=error,
            username=request.form.get("username", "")[:MAX_USERNAME],
            next=safe_next(request.values.get("next")) or "",
        ),
        status,
    )


@pages.route("/login", methods=["GET", "POST"])
@limiter.limit(configured_limit("login"), methods=["POST"])
def login() -> ResponseReturnValue:
    """The sign-in form; a good password starts a session and goes to the user's page."""
    if request.method == "GET":
        return login_form()
    username = request.form.get("username", "").strip()[:MAX_USERNAME]
    password = request.form.get("password", "")[:MAX_PASSWORD]
    user = None
    if username and password:
        user = hall_services().accounts.authenticate(username, password)
    _audit(username or "-", user, "login" if user else "login_failed")
    if user is None:
        return login_form(gettext("用户名或密码错误"), 401)
    session.clear()
    session["username"] = user.username
    return redirect(safe_next(request.form.get("next")) or home_page(user))


@pages.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    user = current_user()
    if user is not None and "username" in session:
        _audit(user.username, user, "logout")
    session.clear()
    return redirect(url_for("pages.login"))


def _audit(actor: str, user: Actor | None, action: str) -> None:
    entry = AuditEntry(actor, str(user.role) if user else "", action, "", request.remote_addr or "")
    hall_services().accounts.record(entry, {"via": "page"})
