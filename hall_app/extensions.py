"""Flask extensions, created once and bound to the app in the factory."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_socketio import SocketIO
from flask_wtf import CSRFProtect

socketio = SocketIO()
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])  # storage: app config


def configured_limit(name: str) -> Callable[[], str]:
    """A rate limit read from the settings (``HALL_RATE_LIMIT_<NAME>``) when a request comes."""
    return lambda: str(current_app.config["HALL_RATE_LIMITS"][name])
