"""The hall web app: API, live events and the pages of kiosks, clerks and citizens."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from apiflask import APIFlask
from flask import Response, abort, request, send_from_directory

from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.clock import Clock
from queue_engine.services.tickets import QueueEngine

from .audit import register_audit
from .config import Settings
from .errors import register_error_handlers
from .extensions import babel, csrf, limiter, socketio
from .live import LivePublisher, UncompressedWebSocket, register_socket_handlers
from .live_queue import client_manager
from .ops import init_ops
from .state import HallState
from .supervisor import init_supervisor

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR_PACKAGES = frozenset({"socket.io-client", "swagger-ui-dist", "echarts"})
LANGUAGES = ("zh_Hans_CN", "en")


def create_app(
    test_config: dict[str, Any] | None = None, *, clock: Clock | None = None
) -> APIFlask:
    """The application factory: configuration, extensions, blueprints, live events."""
    settings = Settings.from_env()
    settings.check()
    app = APIFlask(
        __name__,
        title="政务服务大厅 API · Service hall API",
        version="1.0",
        spec_path="/api/v1/openapi.json",
        docs_path="/api/v1/docs",
        instance_path=str(settings.instance_path),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key or _instance_secret(settings.instance_path),
        DATABASE_URL=settings.database_url,
        MESSAGE_QUEUE=settings.message_queue,
        BABEL_DEFAULT_LOCALE="zh_Hans_CN",
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        VALIDATION_ERROR_STATUS_CODE=422,
        DOCS_UI="swagger-ui",
        SWAGGER_UI_CSS="/vendor/swagger-ui-dist/swagger-ui.css",
        SWAGGER_UI_BUNDLE_JS="/vendor/swagger-ui-dist/swagger-ui-bundle.js",
        SWAGGER_UI_STANDALONE_PRESET_JS="/vendor/swagger-ui-dist/swagger-ui-standalone-preset.js",
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage or "memory://",
        RATELIMIT_STORAGE_OPTIONS=settings.ratelimit_options,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,  # Redis down: count in this process meanwhile
        RATELIMIT_SWALLOW_ERRORS=True,
        HALL_RATE_LIMITS=dict(settings.rate_limits),
    )
    if test_config:
        app.config.update(test_config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.security_schemes = {
        "BearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "POST /api/v1/auth/token gives the token",
        }
    }

    db = Database(
        app.config["DATABASE_URL"],
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    state = HallState(db, QueueEngine(db, clock))
    app.extensions["hall"] = state

    babel.init_app(app, locale_selector=_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    socketio.init_app(
        app,
        async_mode="threading",
        client_manager=client_manager(app.config["MESSAGE_QUEUE"], settings.message_channel),
        cors_allowed_origins=list(settings.cors_origins),
        logger=False,
        engineio_logger=False,
    )
    app.wsgi_app = UncompressedWebSocket(app.wsgi_app)  # type: ignore[method-assign]
    register_error_handlers(app)
    register_audit(app)

    from display.routes import display as display_bp

    from .admin import admin
    from .api import api
    from .pages import pages
    from .planner import planner_api

    csrf.exempt(api)
    csrf.exempt(planner_api)
    app.register_blueprint(api)
    app.register_blueprint(planner_api)
    app.register_blueprint(pages)
    app.register_blueprint(display_bp)
    init_supervisor(app)
    app.register_blueprint(admin)

    publisher = LivePublisher(app, state)
    app.extensions["hall_live"] = publisher
    state.engine.subscribe(publisher.publish)
    register_socket_handlers(publisher)
    init_ops(app, settings)

    @app.get("/vendor/<package>/<path:filename>")
    @app.doc(hide=True)
    def vendor(package: str, filename: str) -> Response:
        """Browser libraries installed from npm (package-lock.json), never from a CDN."""
        if package not in VENDOR_PACKAGES:
            abort(404)
        response = send_from_directory(NODE_MODULES / package, filename, max_age=86400)
        return response

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app


def _locale() -> str:
    """Chinese first: English only when asked for (``?lang=en``, remembered in a cookie)."""
    chosen = request.args.get("lang") or request.cookies.get("lang")
    return "en" if chosen == "en" else "zh_Hans_CN"


def _instance_secret(instance: Path) -> str:
    """A random secret kept in the instance folder, shared by processes on this machine."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
