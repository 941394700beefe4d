"""Staff sign-in and sign-out for the browser pages (the API uses bearer tokens instead).

Signing out is a POST with the form's CSRF token: a link or an image on another site cannot
sign anybody out, and ``GET /logout`` only asks to confirm. It ends every session and token
of the account, on every device (``auth.end_session``).
"""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from queue_engine.domain.access import Actor, AuditEntry

from ..auth import SignInRefused, current_user, end_session, sign_in, start_session
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
def login() -> ResponseReturnValue:
    """The sign-in form; a good password starts a session and goes to the user's page."""
    if request.method == "GET":
        return login_form()
    username = request.form.get("username", "").strip()[:MAX_USERNAME]
    password = request.form.get("password", "")[:MAX_PASSWORD]
    user = None
    if username and password:
        try:
            user = sign_in(username, password)
        except SignInRefused as refused:
            return _refused(refused)
    _audit(username or "-", user, "login" if user else "login_failed")
    if user is None:
        return login_form(gettext("用户名或密码错误"), 401)
    start_session(user)
    return redirect(safe_next(request.form.get("next")) or home_page(user))


def _refused(refused: SignInRefused) -> ResponseReturnValue:
    wait = refused.refusal.retry_after
    minutes = max(1, -(-wait // 60))
    if refused.refusal.code == "account_locked":
        text = gettext("登录失败次数过多,该账号已临时锁定,请 %(n)s 分钟后再试。", n=minutes)
    else:
        text = gettext("本机登录失败次数过多,请 %(n)s 分钟后再试。", n=minutes)
    page, status = login_form(text, 429)
    return page, status, {"Retry-After": str(wait)}


@pages.get("/logout")
def confirm_logout() -> ResponseReturnValue:
    """A GET never signs out: it shows the button that does (a POST with its CSRF token)."""
    user = current_user()
    if user is None or "username" not in session:
        return redirect(url_for("pages.login"))
    return render_template("pages/logout.html", user=user)


@pages.post("/logout")
def logout() -> ResponseReturnValue:
    user = current_user() if "username" in session else None
    end_session(user, _entry(user.username if user else "-", user, "logout"))
    return redirect(url_for("pages.login"))


def _entry(actor: str, user: Actor | None, action: str) -> AuditEntry:
    return AuditEntry(actor, str(user.role) if user else "", action, "", request.remote_addr or "")


def _audit(actor: str, user: Actor | None, action: str) -> None:
    hall_services().accounts.record(_entry(actor, user, action), {"via": "page"})
