"""HTTP hardening: security headers with a content security policy, strict CORS, proxy headers.

The pages load scripts, styles and vendor libraries from this origin only and talk to it over
HTTP and Socket.IO, so the policy allows ``'self'`` and nothing else (data/blob URLs for QR
codes and announcement audio). The Swagger UI page of the API docs needs one inline script: it
alone gets ``'unsafe-inline'``. HSTS is sent only when the deployment runs behind TLS
(``HALL_HTTPS=1``): on plain HTTP it would be ignored, and on a test box it would stick.

CORS: none by default (the browser pages are same-origin). ``HALL_CORS_ORIGINS`` (space
separated) allows exactly those origins to call the API, and those origins besides the app's
own to connect to Socket.IO.

Socket.IO origins: a browser sends its page's origin when it opens a socket, and the socket
carries the page session's cookie. So that a page on another site cannot read the supervisors'
room with a supervisor's cookie, a connection is accepted only from the app's own origin (the
request's scheme and Host, from the proxy's ``X-Forwarded-*`` headers when ``HALL_PROXY_COUNT``
trusts it) or from ``HALL_CORS_ORIGINS``; clients that send no Origin are not browsers, and pass.
Engine.IO checks it at the handshake, the connect handler again (``SocketOrigins.allows``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Settings

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


def csp_connecting(*origins: str) -> str:
    """The policy with ``connect-src`` widened to ``origins``: the kiosk page alone may talk to
    the card reader's bridge on its PC (``HALL_CARD_READER_URL``)."""
    return CSP.replace("connect-src 'self'", " ".join(["connect-src 'self'", *origins]))


PERMISSIONS = "camera=(), microphone=(), geolocation=()"
HSTS = "max-age=31536000; includeSubDomains"
CORS_METHODS = "GET, POST, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key"


def init_security(app: Flask, settings: Settings) -> None:
    if settings.proxy_count:
        # Behind nginx: the client's address (rate limits) and scheme come from its headers.
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    if settings.https:
        app.config.update(SESSION_COOKIE_SECURE=True)
    if str(app.config.get("DOCS_FAVICON", "")).startswith("http"):
        # apiflask's default favicon lives on its website: ours come from this origin only.
        app.config["DOCS_FAVICON"] = "/vendor/swagger-ui-dist/favicon-32x32.png"
    allowed = frozenset(settings.cors_origins)

    @app.before_request
    def cors_preflight() -> Any:
        if request.method == "OPTIONS" and request.path.startswith("/api/"):
            origin = request.headers.get("Origin")
            if origin in allowed:
                return Response(status=204)
            return None
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        docs = request.path.startswith("/api/v1/docs")
        response.headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS)
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if settings.https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        origin = request.headers.get("Origin")
        if origin and origin in allowed and request.path.startswith("/api/"):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
            response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
            response.vary.add("Origin")
        return response


def _normal(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, without a default port or a trailing slash."""
    value = origin.strip().rstrip("/").lower()
    for scheme, port in (("http://", ":80"), ("https://", ":443")):
        if value.startswith(scheme) and value.endswith(port):
            return value[: -len(port)]
    return value


def _trusted(header: str | None, proxies: int) -> str | None:
    """The value the ``proxies``-th proxy from us set (as ProxyFix reads it), or None."""
    if not header:
        return None
    values = [v.strip() for v in header.split(",")]
    return values[-proxies] if len(values) >= proxies else None


class SocketOrigins:
    """The browser origins that may open a Socket.IO connection (Engine.IO calls this)."""

    def __init__(self, settings: Settings) -> None:
        self.proxies = settings.proxy_count
        self.configured = frozenset(_normal(o) for o in settings.cors_origins)

    def own(self, environ: Mapping[str, Any]) -> str:
        """The app's own origin as the browser sees it."""
        scheme = str(environ.get("wsgi.url_scheme") or "http")
        host = str(environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "")
        if self.proxies:  # the same values ProxyFix puts in place (if it has not yet)
            scheme = _trusted(environ.get("HTTP_X_FORWARDED_PROTO"), self.proxies) or scheme
            host = _trusted(environ.get("HTTP_X_FORWARDED_HOST"), self.proxies) or host
        return _normal(f"{scheme}://{host}")

    def allows(self, environ: Mapping[str, Any]) -> bool:
        origin = environ.get("HTTP_ORIGIN")
        if not origin:
            return True  # not a browser
        value = _normal(str(origin))
        return value in self.configured or value == self.own(environ)

    def __call__(self, origin: str | None, environ: Mapping[str, Any]) -> bool:
        return self.allows({**environ, "HTTP_ORIGIN": origin or ""})


def socket_origins(app: Flask, settings: Settings) -> SocketOrigins:
    """This app's Socket.IO origin check (for ``socketio.init_app`` and the connect handler)."""
    origins = app.extensions["hall_socket_origins"] = SocketOrigins(settings)
    return origins
