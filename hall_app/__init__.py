"""The hall web app: API, live events and the pages of kiosks, clerks and citizens."""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from apiflask import APIFlask
from flask import Response, abort, request, send_from_directory

from queue_engine.bootstrap import SUPERVISION_FULL_SECONDS, PeriodicJob, bootstrap
from queue_engine.domain.clock import Clock

from .admin import admin_api, admin_pages
from .api import api
from .audit import register_audit
from .auth import init_auth
from .clients import client_scheme, init_clients
from .config import Settings, instance_secret, integration_config, outbox_options, pii_pepper
from .errors import register_error_handlers
from .extensions import babel, csrf, limiter, socketio
from .live import LivePublisher, UncompressedWebSocket, register_socket_handlers
from .live_redis import client_manager
from .observability import observe_events
from .ops import init_ops
from .pages import pages
from .planner import planner_api
from .security import socket_origins
from .supervisor import (
    SupervisorFeed,
    register_supervise_room,
    supervision_api,
    supervisor_pages,
)
from .validation import MAX_JSON_DEPTH, HallRequest, LimitedJSONProvider, refuse_large_bodies

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR_PACKAGES = frozenset({"socket.io-client", "swagger-ui-dist", "echarts"})


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
        SECRET_KEY=instance_secret(settings.instance_path, "secret_key", settings.secret_key),
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
        **settings.web_config(),
        MAX_CONTENT_LENGTH=settings.max_content_length,  # 413 before a larger body is read
        MAX_JSON_DEPTH=MAX_JSON_DEPTH,
        **integration_config(),
    )
    if test_config:
        app.config.update(test_config)
    app.request_class = HallRequest
    app.json = LimitedJSONProvider(app)
    app.before_request(refuse_large_bodies)  # first of all: before CSRF or a view reads it
    app.json.sort_keys = False
    app.security_schemes = {
        "BearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "POST /api/v1/auth/token gives the token",
        },
        "ClientCredentials": client_scheme(os.environ.get("HALL_PUBLIC_URL", "")),
    }

    services = bootstrap(
        app.config["DATABASE_URL"],
        pepper=pii_pepper(settings.instance_path),
        clock=clock,
        **outbox_options(settings),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    app.extensions["hall"] = services

    babel.init_app(app, locale_selector=_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    socketio.init_app(
        app,
        async_mode="threading",
        client_manager=client_manager(app.config["MESSAGE_QUEUE"], settings.message_channel),
        cors_allowed_origins=socket_origins(app, settings),
        logger=False,
        engineio_logger=False,
    )
    app.wsgi_app = UncompressedWebSocket(app.wsgi_app)  # type: ignore[method-assign]
    register_error_handlers(app)
    init_auth(app)
    init_clients(app)
    register_audit(app)
    _register_blueprints(app)

    # What the web adds to the service layer: live pushes, metrics, the supervisors' feed.
    publisher = LivePublisher(app, services)
    app.extensions["hall_live"] = publisher
    services.bus.subscribe(publisher.publish)
    services.bus.subscribe(observe_events)
    feed = SupervisorFeed(app, services)
    app.extensions["supervisor_feed"] = feed
    services.bus.subscribe(feed.on_events)
    # Changed halls' figures every tick (at most every FIGURES_SECONDS each), all halls' with it.
    figures = PeriodicJob("supervisor figures", SUPERVISION_FULL_SECONDS, feed.push_figures)
    services.jobs.append(figures)
    services.admin.subscribe(publisher.refresh_pages)
    register_socket_handlers(publisher)
    register_supervise_room(feed)
    init_ops(app, settings)

    @app.get("/vendor/<package>/<path:filename>")
    @app.doc(hide=True)
    def vendor(package: str, filename: str) -> Response:
        """Browser libraries installed from npm (package-lock.json), never from a CDN."""
        if package not in VENDOR_PACKAGES:
            abort(404)
        response = send_from_directory(NODE_MODULES / package, filename, max_age=86400)
        return response

    return app


def _register_blueprints(app: APIFlask) -> None:
    """One blueprint per audience. The hall's screens (``display``) build on this package, so
    they plug in through the ``hall.screens`` entry point instead of being imported here."""
    csrf.exempt(api)
    csrf.exempt(planner_api)
    csrf.exempt(supervision_api)
    csrf.exempt(admin_api)
    for blueprint in (api, planner_api, pages, supervision_api, supervisor_pages, admin_api):
        app.register_blueprint(blueprint)
    app.register_blueprint(admin_pages)
    for screen in entry_points(group="hall.screens"):
        screen.load()(app)  # e.g. display.routes:register: the hall board and window screens


def _locale() -> str:
    """Chinese first: English only when asked for (``?lang=en``, remembered in a cookie)."""
    chosen = request.args.get("lang") or request.cookies.get("lang")
    return "en" if chosen == "en" else "zh_Hans_CN"
