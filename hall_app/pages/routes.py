"""The pages blueprint: one place for its language handling, error pages and landing page.

The views of each area live in their own module (``session``, ``kiosk``, ``clerk``,
``citizen``, ``booking``), each adding its routes to the blueprint of ``blueprint.py``;
``hall_app.pages`` imports them all.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from queue_engine.domain.errors import DomainError

from ..auth import current_user
from ..errors import status_for
from ..state import hall_services
from .blueprint import pages
from .halls import list_halls
from .i18n import LANG_COOKIE, LANG_PARAMS, page_lang

LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


@pages.after_request
def remember_language(response: Response) -> Response:
    """``?lang=en|zh`` switches the language and keeps it in a cookie for the next pages."""
    chosen = request.args.get("lang")
    if chosen in LANG_PARAMS:
        response.set_cookie(
            LANG_COOKIE, chosen, max_age=LANG_COOKIE_MAX_AGE, samesite="Lax", httponly=True
        )
    return response


pages.add_app_template_global(page_lang)


@pages.app_template_global()
def lang_url(lang: str) -> str:
    """This page in another language (``zh`` or ``en``)."""
    values: dict[str, Any] = {**(request.view_args or {}), **request.args.to_dict(), "lang": lang}
    if request.endpoint is None or request.url_rule is None:
        return url_for("pages.landing", lang=lang)
    return url_for(request.endpoint, **values)


@pages.app_template_global()
def html_lang() -> str:
    return "en" if str(get_locale()).startswith("en") else "zh-CN"


def error_page(status: int) -> tuple[str, int]:
    return render_template("pages/error.html", status=status), status


@pages.errorhandler(DomainError)
def domain_error(error: DomainError) -> tuple[str, int]:
    return error_page(status_for(error))


@pages.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> ResponseReturnValue:
    """An expired form (its CSRF token is gone): show it again rather than a bare 400."""
    flash(gettext("页面已过期,请重新操作。"), "error")
    return redirect(request.full_path if request.method == "POST" else url_for("pages.landing"))


@pages.errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
    if error.code == 429 and request.endpoint == "pages.login":
        from .session import login_form

        return login_form(gettext("尝试次数过多,请一分钟后再试。"), 429)
    if error.code in (403, 404, 429):
        return error_page(error.code)
    return error


@pages.get("/")
def landing() -> str:
    """Every hall with its pages: kiosk, clerk console, API documentation."""
    engine = hall_services().engine
    halls = list_halls()
    waiting = {h.code: sum(q.waiting for q in engine.queues(h.code)) for h in halls}
    return render_template("pages/landing.html", halls=halls, waiting=waiting, user=current_user())
